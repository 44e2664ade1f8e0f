"""The news-sentiment strategy in a backtest: headlines replayed by ts_init, never seen early."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.data.alt import NEWS_HEADLINE, NewsHeadline, load_headlines_csv, to_custom_data
from tradeforge.model.enums import OmsType
from tradeforge.research.ml import load_daily
from tradeforge.risk.checks import BuyingPower
from tradeforge.strategy.library.news_sentiment import NewsSentiment
from tradeforge.venues.fees import PerUnitFee
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
MONEY = 10**9
START = 1_451_606_400 * 10**9  # 2016-01-01


@pytest.fixture(scope="module")
def setup():
    bars, provider = load_daily(ROOT / "data/daily/all_stocks_5yr.csv.gz", ["AAPL", "MSFT", "AMZN", "JPM", "XOM"],
                                ROOT / "data/instruments/sp500.toml")
    out = []
    for b in bars:
        k = b.ts_init >= START
        out.append(dataclasses.replace(b, **{f.name: getattr(b, f.name)[k] for f in dataclasses.fields(b)
                                             if hasattr(getattr(b, f.name), "shape")}))
    return out, provider, load_headlines_csv(ROOT / "data/news/headlines_sample.csv")


def _run(bars, provider, heads):
    engine = BacktestEngine(provider, "USD", 1_000_000 * MONEY, oms_type=OmsType.NETTING,
                            risk_checks=[BuyingPower(100, True)])
    engine.add_venue(SimulatedVenueConfig("XNYS"), PerUnitFee(5 * MONEY // 1000, MONEY, 100))
    for b in bars:
        engine.add_data(b)
    engine.add_custom_data(NEWS_HEADLINE, to_custom_data(heads, NEWS_HEADLINE))  # after the bars: ties go to bars
    s = NewsSentiment("news", {"instruments": [b.instrument_id for b in bars], "entry": 0.5, "exit": 0.1,
                               "half_life_days": 3, "weight": "0.15"})
    engine.add_strategy(s)
    return engine.run(), s


def test_strategy_trades_on_sentiment(setup) -> None:
    bars, provider, heads = setup
    result, s = _run(bars, provider, heads)
    assert len(s.headlines_seen) == len(heads)
    assert len(result.fills) >= 10 and result.summary()["orders_denied"] == 0
    buys = [f for f in result.fills if f.side.name == "BUY"]
    assert buys and all(f.ts_event > START for f in buys)


def test_no_headline_is_seen_before_it_is_received(setup) -> None:
    bars, provider, heads = setup
    _, s = _run(bars, provider, heads)
    assert all(seen == ts_init for ts_init, seen in s.headlines_seen)  # delivered at its own ts_init
    recv = np.array([t for t, _ in s.headlines_seen])
    for bar_ts, _, _, n_seen in s.decisions:
        assert n_seen == int(np.searchsorted(recv, bar_ts, side="right"))  # exactly those received by then
        assert (recv[:n_seen] <= bar_ts).all()


def test_headline_after_a_bar_acts_only_on_the_next_bar(setup) -> None:
    bars, provider, _ = setup
    aapl = next(b for b in bars if b.instrument_id == "AAPL.XNYS")
    day = int(aapl.ts_init[30])
    late = NewsHeadline(day - 60 * 10**9, day + 1, "Apple shares soar on record profit", ("AAPL",), sentiment=0.9)
    result, s = _run(bars, provider, [late])
    at = {(ts, iid): score for ts, iid, score, _ in s.decisions}
    assert at[(day, "AAPL.XNYS")] == 0.0  # the bar at `day` decided before the headline arrived
    nxt = int(aapl.ts_init[31])
    assert at[(nxt, "AAPL.XNYS")] > 0.5
    buy = next(f for f in result.fills if f.instrument_id == "AAPL.XNYS")
    assert buy.ts_event > nxt  # filled at the open after the next bar
