"""The full engine against an independent vectorized numpy calculation of the same SMA long/flat rule
on real S&P 500 daily bars: same trades (bar, side, price, quantity) and the same final equity to
the cent (in fact to the nano-unit: both sides are exact integer money)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.config import parse_config
from tradeforge.backtest.run import build_engine
from tradeforge.data.errors import BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars
from tradeforge.model.instruments import InstrumentProvider

ROOT = Path(__file__).resolve().parents[2]
TICKERS = ["AAPL", "GE", "JPM", "MSFT", "XOM"]
FAST, SLOW, QTY = 10, 30, 500
PER_SHARE_NANO = 5_000_000  # 0.005 USD
MIN_FEE_NANO = 1_000_000_000  # 1.00 USD
START_CASH_NANO = 10_000_000 * 10**9


def _config() -> dict:
    return {
        "run": {"currency": "USD", "starting_cash": "10000000", "account": "cash"},
        "instruments": {"files": ["data/instruments/sp500.toml"]},
        "data": [{
            "kind": "bars", "path": "data/daily/all_stocks_5yr.csv.gz", "symbol_column": "Name", "venue": "XNYS",
            "symbols": TICKERS, "timestamp_column": "date", "timezone": "America/New_York",
            "session_close": "16:00", "interval": "1d", "bad_records": "quarantine",
        }],
        "venue": [{"name": "XNYS", "fees": {"model": "per_unit", "per_unit": "0.005", "minimum": "1.00"}}],
        "strategy": [{
            "id": "sma", "class": "tradeforge.strategy.library.sma_cross:SmaCrossover",
            "params": {"instruments": [f"{t}.XNYS" for t in TICKERS], "fast": FAST, "slow": SLOW, "quantity": QTY},
        }],
    }


def _rolling_sum(x: np.ndarray, n: int) -> np.ndarray:
    c = np.concatenate([[0], np.cumsum(x)])
    return c[n:] - c[:-n]  # sums of x[i-n+1..i] for i >= n-1


def reference_trades(open_: np.ndarray, close: np.ndarray) -> list[tuple[int, int, int]]:
    """(fill bar index, signed qty, fill price) of the rule, computed with numpy, not the engine."""
    n = len(close)
    fast = np.full(n, np.nan)
    slow = np.full(n, np.nan)
    fast[FAST - 1:] = _rolling_sum(close, FAST) / FAST
    slow[SLOW - 1:] = _rolling_sum(close, SLOW) / SLOW
    valid = np.arange(n) >= SLOW - 1
    above = valid & (fast > slow)
    below = valid & (fast < slow)
    prev_above = np.concatenate([[True], above[:-1]])
    prev_above[SLOW - 1] = True  # the first evaluated bar has no previous state: no cross
    cross_up = np.flatnonzero(above & ~prev_above & valid)
    below_idx = np.flatnonzero(below)
    trades: list[tuple[int, int, int]] = []
    t = -1
    while True:
        k = np.searchsorted(cross_up, t, side="right")  # first cross-up decided after the last fill
        if k == len(cross_up) or cross_up[k] + 1 >= n:
            break
        entry = int(cross_up[k])
        trades.append((entry + 1, QTY, int(open_[entry + 1])))
        k = np.searchsorted(below_idx, entry + 1, side="left")  # first exit signal once long
        if k == len(below_idx) or below_idx[k] + 1 >= n:
            break
        exit_ = int(below_idx[k])
        trades.append((exit_ + 1, -QTY, int(open_[exit_ + 1])))
        t = exit_  # cross-ups decided after the exit bar may enter again
    return trades


def _fee(qty: int) -> int:
    fee = max(PER_SHARE_NANO * abs(qty), MIN_FEE_NANO)
    return (fee + 5_000_000) // 10_000_000 * 10_000_000  # half-up to the cent


@pytest.fixture(scope="module")
def engine_result():
    cfg = parse_config(_config())
    engine = build_engine(cfg, ROOT)
    return engine.run()


def test_engine_matches_numpy_reference(engine_result) -> None:
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/sp500.toml")
    bars, _ = load_csv_bars(
        ROOT / "data/daily/all_stocks_5yr.csv.gz", instruments=instruments, symbol_column="Name", venue="XNYS",
        timestamp_column="date", timezone="America/New_York", session_close="16:00", interval_ns=86_400 * 10**9,
        policy=BadRecordPolicy.QUARANTINE,
    )
    by_id = {b.instrument_id: b for b in bars}
    cash = START_CASH_NANO
    final_value = 0
    expected: list[tuple[str, int, int, int]] = []
    for t in TICKERS:
        b = by_id[f"{t}.XNYS"]
        trades = reference_trades(b.open, b.close)
        assert trades, f"{t}: the rule should trade on five years of data"
        pos = 0
        for bar_idx, qty, px in trades:
            cash -= qty * px * 10**5 + _fee(qty)  # price precision 4, size 0 -> factor 1e5 to nano
            pos += qty
            expected.append((f"{t}.XNYS", int(b.ts_init[bar_idx]), qty, px))
        final_value += pos * int(b.close[-1]) * 10**5
    got = sorted(
        (f.instrument_id, f.ts_event, int(f.side) * f.last_qty, f.last_px) for f in engine_result.fills
    )
    assert got == sorted(expected)
    assert engine_result.portfolio.cash == cash
    assert engine_result.final_equity_raw == cash + final_value
    # and to the cent, as a human would compare
    assert round(engine_result.final_equity_raw / 1e9, 2) == round((cash + final_value) / 1e9, 2)


def test_reference_run_keeps_the_books_balanced(engine_result) -> None:
    engine_result.portfolio.check_invariant()
    assert engine_result.summary()["orders_denied"] == 0
