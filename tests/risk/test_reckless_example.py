"""The reckless-strategy demos (examples/reckless_*.toml) on real data: each control fires and a
loss breach unwinds the book in an orderly way; results carry the risk summary and audit trail."""

from __future__ import annotations

import json
from pathlib import Path

from tradeforge.backtest.config import load_config
from tradeforge.backtest.run import build_engine
from tradeforge.risk.audit import read_audit, replay
from tradeforge.risk.unwind import UNWIND_TAG

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str, end: str, out: Path) -> tuple[dict, object]:
    cfg, base = load_config(EXAMPLES / name)
    import msgspec

    cfg = msgspec.structs.replace(cfg, run=msgspec.structs.replace(cfg.run, end=end))
    engine = build_engine(cfg, base)
    result = engine.run()
    result.write(out)
    engine.risk.write_results(out)
    return json.loads((out / "risk_summary.json").read_text()), engine


def test_reckless_sp500_fires_every_control_and_unwinds(tmp_path: Path) -> None:
    summary, engine = _run("reckless_sp500.toml", "2017-09-01", tmp_path)
    fired = set(summary["denials_by_check"])
    assert {
        "max_order_quantity", "max_order_notional", "min_order_size", "reference_collar", "restricted",
        "duplicate", "self_trade", "order_rate_3600s", "max_open_orders", "max_adv_pct", "position_limit",
        "exposure_limit", "concentration", "buying_power", "trading_state",
    } <= fired
    assert summary["breaches"] == {"daily_loss": 1} and summary["actions"] == {"unwind": 1}
    (unwind,) = summary["unwinds"].values()
    assert unwind["done"] and unwind["orders"] >= len(unwind["start_positions"])
    assert summary["trading_states"]["strategy reckless"] == "REDUCING"
    orders = [o for o in engine.execution.orders.values() if UNWIND_TAG in o.tags]  # type: ignore[attr-defined]
    assert orders and all(o.reduce_only for o in orders)
    assert all(engine.portfolio.net_quantity(i) == 0 for i in ("AAPL.XNYS", "MSFT.XNYS", "XOM.XNYS"))  # type: ignore[attr-defined]
    recs = read_audit(tmp_path / "risk_audit.jsonl")
    rep = replay(recs)
    assert rep.accepted == summary["passed"] and sum(rep.denied.values()) == summary["denied"]
    assert any("stale" in r.detail for r in recs)
    assert (tmp_path / "risk_events.jsonl").stat().st_size > 0


def test_reckless_futures_unwinds_a_losing_futures_position(tmp_path: Path) -> None:
    summary, engine = _run("reckless_futures.toml", "2024-01-03", tmp_path)
    assert {"max_order_quantity", "position_limit", "reference_collar", "trading_state"} <= set(summary["denials_by_check"])
    breaches = summary["breaches"]
    assert breaches["daily_loss"] == 1 and breaches["stress_loss:euro_minus_2pct"] == 1 and breaches["margin_call"] >= 1
    (unwind,) = summary["unwinds"].values()
    assert unwind["done"]
    assert engine.portfolio.net_quantity("6EH4.XCME") == 0  # type: ignore[attr-defined]
    reports = [json.loads(line) for line in (tmp_path / "risk_events.jsonl").read_text().splitlines()]
    alerts = [r for r in reports if r["kind"] == "breach" and r["why"].startswith("stress_loss")]
    assert alerts and alerts[0]["detail"].startswith("stress_loss:euro_minus_2pct ")
    last = engine.risk.var.reports[-1]  # type: ignore[attr-defined]
    assert set(last.stress) == {"euro_minus_2pct", "euro_plus_2pct"} and last.maintenance_margin == last.margin


def test_reckless_demo_decides_the_same_on_the_compiled_path(tmp_path: Path) -> None:
    """``[risk] compiled = true`` on the real 6EH4 run: the same decisions, denials, breaches and fills."""
    import msgspec

    from tradeforge.backtest.config import load_config

    summaries = []
    for compiled in (False, True):
        cfg, base = load_config(EXAMPLES / "reckless_futures.toml")
        cfg = msgspec.structs.replace(cfg, run=msgspec.structs.replace(cfg.run, end="2024-01-03"),
                                      risk=msgspec.structs.replace(cfg.risk, compiled=compiled))
        engine = build_engine(cfg, base)
        result = engine.run()
        assert engine.risk.compiled_active is compiled
        summaries.append((engine.risk.summary(), len(result.fills), engine.portfolio.equity()))
    assert summaries[0] == summaries[1]
