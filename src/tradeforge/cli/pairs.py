"""``tradeforge pairs``: S&P 500 pairs discovery and the walk-forward pairs-book backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

pairs_app = typer.Typer(no_args_is_help=True, help="Pairs statistical arbitrage: discovery and backtest.")
console = Console()


@pairs_app.command("run")
def run(
    out: Annotated[Path | None, typer.Option("--out", help="folder for results and pair reports")] = None,
    data: Annotated[str, typer.Option(help="daily bars CSV (date,open,high,low,close,volume,Name)")] =
        "data/daily/all_stocks_5yr.csv.gz",
    instruments: Annotated[str, typer.Option(help="instrument definitions (TOML)")] = "data/instruments/sp500.toml",
    sectors: Annotated[str, typer.Option(help="ticker,gics_sector CSV ('' for none)")] =
        "data/daily/sp500_gics_sectors_2020.csv",
    formation: Annotated[int, typer.Option(help="formation window (trading days)")] = 252,
    trading: Annotated[int, typer.Option(help="days each selection trades before re-selection")] = 63,
    entry_z: Annotated[float, typer.Option(help="enter at |z| >= this")] = 2.0,
    exit_z: Annotated[float, typer.Option(help="exit at |z| <= this")] = 0.5,
    stop_z: Annotated[float, typer.Option(help="stop out at |z| >= this")] = 4.0,
    max_pairs: Annotated[int, typer.Option(help="pairs per selection")] = 400,
    max_pvalue: Annotated[float, typer.Option(help="Engle-Granger p-value bound")] = 0.05,
    fdr: Annotated[float | None, typer.Option(help="Benjamini-Hochberg FDR bound (default: report only)")] = None,
    same_sector: Annotated[bool, typer.Option(help="only same-GICS-sector pairs")] = False,
    min_corr: Annotated[float | None, typer.Option(help="return-correlation pre-filter")] = None,
    start: Annotated[str | None, typer.Option(help="first date kept (ISO)")] = None,
    end: Annotated[str | None, typer.Option(help="keep dates before this (ISO)")] = None,
) -> None:
    """Discover pairs walk-forward and backtest the book on the daily S&P 500 bars."""
    from tradeforge.backtest.pairs_book import PairsRunConfig, pairs_summary, run_pairs, write_report
    from tradeforge.cli.summary import print_summary

    scan = {"min_corr": min_corr, "fdr": fdr, "max_pvalue": max_pvalue, "max_pairs": max_pairs,
            "max_per_instrument": 4, "same_sector": same_sector}
    cfg = PairsRunConfig(
        data=data, instruments=instruments, sectors=sectors or None, start=start, end=end, formation=formation,
        trading=trading, entry_z=entry_z, exit_z=exit_z, stop_z=stop_z, scan=scan,
    )
    with console.status("discovering pairs walk-forward and backtesting the book..."):
        try:
            result = run_pairs(cfg)
        except (ValueError, FileNotFoundError) as exc:
            console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
    print_summary(result.result.summary(), "pairs book")
    table = Table(title="pairs", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for key, value in pairs_summary(result).items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int | float) else str(value))
    console.print(table)
    rows = sorted(result.strategy.pair_results(), key=lambda r: r["pnl"])
    if rows:
        console.print("best pairs: " + ", ".join(f"{r['y']}/{r['x']} {r['pnl']:,.0f}" for r in rows[::-1][:5]))
        console.print("worst pairs: " + ", ".join(f"{r['y']}/{r['x']} {r['pnl']:,.0f}" for r in rows[:5]))
    if out is not None:
        write_report(result, out)
        console.print(f"results written to [bold]{out}[/bold] (pairs.csv, selections.csv, pairs_summary.json too)")
