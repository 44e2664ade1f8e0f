"""The summary table every run command prints (backtest, pairs)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

console = Console()

_SUMMARY_ROWS = (
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"),
    ("annualized_volatility", "Annualized volatility", "pct"), ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"), ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_duration_days", "Max drawdown duration (days)", "num"), ("turnover", "Turnover (per year)", "num"),
    ("exposure", "Exposure (mean gross / equity)", "pct"), ("trade_count", "Round trips", "int"),
    ("win_rate", "Win rate", "pct"), ("fees_paid", "Fees paid", "money"), ("final_equity", "Final equity", "money"),
    ("orders", "Orders", "int"), ("fills", "Fills", "int"), ("orders_denied", "Orders denied by risk", "int"),
    ("bad_records_quarantined", "Bad records quarantined", "int"),
)


def _fmt(value: object, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{float(value) * 100:.2f}%"  # type: ignore[arg-type]
    if kind == "money":
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    if kind == "int":
        return f"{int(value):,}"  # type: ignore[call-overload]
    return f"{float(value):.3f}"  # type: ignore[arg-type]


def print_summary(summary: dict, title: str) -> None:
    """Print a run's ``summary()`` as a two-column table."""
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for key, label, kind in _SUMMARY_ROWS:
        table.add_row(label, _fmt(summary.get(key), kind))
    console.print(table)
