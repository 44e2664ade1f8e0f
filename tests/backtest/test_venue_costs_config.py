"""Venue costs from run configs: tiered maker/taker fees with rebates, square-root and
Almgren-Chriss impact on taker fills, and a participation cap on trade-driven fills."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tradeforge.backtest.config import ConfigError, parse_config
from tradeforge.backtest.run import build_engine

ROOT = Path(__file__).resolve().parents[2]
SP500 = ROOT / "examples" / "sp500_sma.toml"
BTC = ROOT / "examples" / "btc_quotes.toml"
SYMBOLS = ["AAPL", "MSFT", "AMZN", "JPM", "XOM", "GE", "T", "PFE", "KO", "WMT", "INTC", "CSCO", "ORCL", "CVX", "MRK",
           "PG", "JNJ", "BAC", "C", "WFC", "VZ", "HD", "DIS", "MCD", "IBM", "QCOM", "GS", "MMM", "CAT", "BA"]


def _run(doc: dict, base: Path):
    engine = build_engine(parse_config(doc), base)
    return engine.run()


def _sp500(**venue: object) -> dict:
    doc = tomllib.loads(SP500.read_text())
    doc["venue"][0].update(venue)
    doc["run"]["end"] = "2014-06-01"
    doc["data"][0]["symbols"] = SYMBOLS  # a slice of the 505 stocks keeps the test fast
    return doc


def test_square_root_impact_makes_taker_fills_worse() -> None:
    base = _run(_sp500(), SP500.parent)
    hit = _run(_sp500(impact={"model": "sqrt", "eta": 1.0, "sigma": 0.02}), SP500.parent)
    before = {(f.instrument_id, f.side, f.ts_event): f.last_px for f in base.fills}
    worse = [(h.last_px - before[k]) * (1 if h.side.name == "BUY" else -1)
             for h in hit.fills if (k := (h.instrument_id, h.side, h.ts_event)) in before]
    assert len(worse) > 20
    assert all(w >= 0 for w in worse) and sum(w > 0 for w in worse) > len(worse) // 2


def test_almgren_chriss_permanent_impact_accumulates() -> None:
    doc = _sp500(impact={"model": "almgren_chriss", "eta": 0.0, "gamma": 0.0001, "horizon": "1h", "rounding": "none"})
    base = _run(_sp500(), SP500.parent)
    hit = _run(doc, SP500.parent)
    assert hit.portfolio.equity() != base.portfolio.equity()


def test_tiered_fees_move_to_a_cheaper_tier_with_volume() -> None:
    tiers = [{"volume": "0", "maker_bps": 2.0, "taker_bps": 5.0}, {"volume": "50000", "maker_bps": -1.0, "taker_bps": 1.0}]
    result = _run(_sp500(fees={"model": "tiered", "tiers": tiers}), SP500.parent)
    rates = [f.commission * 1e4 / (f.last_qty * f.last_px * 10 ** 9 / 10**4) for f in result.fills if f.commission]
    assert max(rates) > 4.0 and min(rates) < 2.0  # the first fills at 5 bps, later ones at 1 bp


def test_trade_participation_caps_fills_on_prints() -> None:
    doc = tomllib.loads(BTC.read_text())
    free = _run(doc, BTC.parent)
    doc["venue"][0].update({"trade_participation": 0.01, "participation_window": "1m"})
    capped = _run(doc, BTC.parent)
    assert free.fills and capped.fills
    assert max(f.last_qty for f in capped.fills) <= max(f.last_qty for f in free.fills)


@pytest.mark.parametrize(
    ("venue", "message"),
    [
        ({"impact": {"model": "sqrt"}}, "impact.sigma: required"),
        ({"impact": {"model": "almgren_chriss", "eta": 1.0}}, "impact.horizon: required"),
        ({"fees": {"model": "tiered", "tiers": [{"volume": "10", "maker_bps": 1, "taker_bps": 1}]}}, "first at volume"),
        ({"trade_participation": 1.5}, "trade_participation: must be in"),
        ({"participation_window": "soon"}, "participation_window"),
    ],
)
def test_bad_cost_settings_name_the_key(venue: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_sp500(**venue))
