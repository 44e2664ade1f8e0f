"""Bar aggregation: the incremental aggregator and the vectorized function agree; bar invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.data.aggregation import (
    BarAggregator,
    BarKind,
    BarSpec,
    aggregate_quotes,
    aggregate_trades,
    bars_to_columns,
)
from tradeforge.data.columns import BarColumns, TradeColumns
from tradeforge.data.loaders import load_parquet_quotes, load_parquet_trades
from tradeforge.model.data import Bar, QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide
from tradeforge.model.instruments import Instrument, InstrumentProvider

DATA = Path(__file__).resolve().parents[2] / "data"
S = 10**9
FIELDS = ("ts_event", "ts_init", "open", "high", "low", "close", "volume")


@pytest.fixture(scope="module")
def provider() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "futures_fx_crypto.toml")


@pytest.fixture(scope="module")
def btc(provider: InstrumentProvider) -> Instrument:
    return provider.get("BTCUSDT.BINANCE")


@pytest.fixture(scope="module")
def trades(provider: InstrumentProvider) -> TradeColumns:
    cols, bad = load_parquet_trades(DATA / "ticks" / "binance_btcusdt-trades-20210108.parquet",
                                    instrument_id="BTCUSDT.BINANCE", instruments=provider)
    assert bad == [] and len(cols) == 2_001
    return cols


def _incremental(inst: Instrument, spec: BarSpec, events: list, flush_at: int | None = None) -> tuple[list[Bar], BarAggregator]:
    agg = BarAggregator(inst, spec)
    out = [b for e in events if (b := agg.update(e)) is not None]
    if flush_at is not None and (b := agg.flush(flush_at)) is not None:
        out.append(b)
    return out, agg


def _assert_same(a: BarColumns, b: BarColumns) -> None:
    assert len(a) == len(b)
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert a.interval_ns == b.interval_ns


SPECS = [
    BarSpec.time(seconds=1), BarSpec.time(seconds=5), BarSpec.time(minutes=1), BarSpec.ticks(1), BarSpec.ticks(50),
    ("volume", "0.5"), ("volume", "2"), ("value", "10000"), ("value", "250000"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_incremental_equals_vectorized_on_binance(btc: Instrument, trades: TradeColumns, spec) -> None:
    if isinstance(spec, tuple):
        spec = BarSpec.volume(btc, spec[1]) if spec[0] == "volume" else BarSpec.value(spec[1])
    vec = aggregate_trades(trades, btc, spec)
    events = trades.to_events(0, len(trades))
    bars, agg = _incremental(btc, spec, events, flush_at=int(trades.ts_event[-1]) + 3600 * S)
    _assert_same(vec, bars_to_columns(bars, btc.id, vec.interval_ns))
    assert len(vec) > 0 and agg.late == 0
    total = int(trades.size.sum())
    assert int(vec.volume.sum()) + agg.pending_volume == total  # volume conserved
    if spec.kind is BarKind.VOLUME:
        assert (vec.volume >= spec.step).all()  # no split: a bar holds at least the step ...
        assert (vec.volume - trades.size.max() < spec.step).all()  # ... and overshoots by less than one trade


def test_value_bars_are_exact_notional(btc: Instrument, trades: TradeColumns) -> None:
    spec = BarSpec.value("250000")
    bars, _ = _incremental(btc, spec, trades.to_events(0, len(trades)))
    # recompute each bar's notional from its trades: the bar closes on the first trade reaching the step
    value = [btc.notional_raw(p, q) for p, q in zip(trades.price.tolist(), trades.size.tolist(), strict=True)]
    acc, closes = 0, []
    for i, v in enumerate(value):
        acc += v
        if acc >= spec.step:
            closes.append(i)
            assert acc - v < spec.step  # the trade that crossed the step is not split
            acc = 0
    assert [b.ts_init for b in bars] == [int(trades.ts_init[i]) for i in closes]


def test_time_bars_close_stamped_and_never_early(btc: Instrument) -> None:
    spec = BarSpec.time(seconds=60)
    agg = BarAggregator(btc, spec)

    def t(ts: int, price: int, size: int = 1) -> TradeTick:
        return TradeTick("BTCUSDT.BINANCE", price, size, AggressorSide.BUYER, "x", ts, ts)

    assert agg.update(t(10 * S, 100)) is None
    assert agg.update(t(59 * S, 105)) is None
    assert agg.flush(59 * S) is None  # the interval is not over
    assert agg.flush(60 * S - 1) is None
    bar = agg.flush(60 * S)
    assert bar == Bar("BTCUSDT.BINANCE", 100, 105, 100, 105, 2, 60 * S, 60 * S, 60 * S)
    assert agg.flush(120 * S) is None  # nothing open
    assert agg.update(t(30 * S, 1)) is None and agg.late == 1  # its interval was already emitted
    assert agg.update(t(60 * S, 99)) is None  # exactly at the end: belongs to the next interval
    assert agg.update(t(185 * S, 98)) == Bar("BTCUSDT.BINANCE", 99, 99, 99, 99, 1, 120 * S, 120 * S, 60 * S)
    # empty intervals [120, 180) give no bar; the next bar is [180, 240)
    assert agg.flush(240 * S).ts_event == 240 * S


def test_mid_time_bars_from_quotes(provider: InstrumentProvider, btc: Instrument) -> None:
    quotes, _ = load_parquet_quotes(DATA / "ticks" / "binance_btcusdt-quotes-20210108.parquet",
                                    instrument_id="BTCUSDT.BINANCE", instruments=provider)
    spec = BarSpec.time(seconds=5, source="mid")
    vec = aggregate_quotes(quotes, spec)
    events = quotes.to_events(0, len(quotes))
    assert all(isinstance(e, QuoteTick) for e in events)
    bars, _ = _incremental(btc, spec, events, flush_at=int(quotes.ts_event[-1]) + 10 * S)
    _assert_same(vec, bars_to_columns(bars, btc.id, spec.step))
    assert len(vec) == 10 and (vec.volume == -1).all()
    with pytest.raises(ValueError, match="time bars only"):
        BarSpec(BarKind.TICK, 5, source="mid")


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------

trade_lists = st.lists(
    st.tuples(st.integers(0, 5 * S), st.integers(1, 1_000), st.integers(1, 50)), min_size=0, max_size=120,
)
spec_choice = st.one_of(
    st.integers(1, 3 * S).map(lambda n: BarSpec(BarKind.TIME, n)),
    st.integers(1, 20).map(BarSpec.ticks),
    st.integers(1, 200).map(lambda n: BarSpec(BarKind.VOLUME, n)),
    st.integers(1, 50_000).map(lambda n: BarSpec(BarKind.VALUE, n * 10**9)),
)


@settings(max_examples=200, deadline=None)
@given(raw=trade_lists, spec=spec_choice)
def test_bar_properties(btc: Instrument, raw: list[tuple[int, int, int]], spec: BarSpec) -> None:
    raw.sort(key=lambda r: r[0])
    ts = np.array([r[0] for r in raw], dtype=np.int64)
    cols = TradeColumns("BTCUSDT.BINANCE", ts, ts.copy(), np.array([r[1] for r in raw], dtype=np.int64),
                        np.array([r[2] for r in raw], dtype=np.int64), np.ones(len(raw), dtype=np.int64),
                        np.arange(len(raw), dtype=np.int64))
    end = int(ts[-1]) + spec.step + 1 if len(raw) else 0
    bars, agg = _incremental(btc, spec, cols.to_events(0, len(cols)), flush_at=end)
    vec = aggregate_trades(cols, btc, spec)
    _assert_same(vec, bars_to_columns(bars, btc.id, vec.interval_ns))
    for b in bars:
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        assert b.volume > 0 and b.ts_event == b.ts_init
    assert int(vec.volume.sum()) + agg.pending_volume == int(cols.size.sum())  # conservation
    assert (np.diff(vec.ts_event) > 0).all() if spec.kind is BarKind.TIME else (np.diff(vec.ts_event) >= 0).all()
    if spec.kind is BarKind.TIME:
        # close-stamped: every trade of a bar lies in [close - step, close), so no bar precedes its data
        idx = np.searchsorted(vec.ts_event, ts, side="right")
        assert (idx < len(vec)).all() or not len(raw)
        assert (ts >= vec.ts_event[idx] - spec.step).all() and (ts < vec.ts_event[idx]).all()
    else:
        assert agg.pending_volume == 0 or agg._acc < spec.step
