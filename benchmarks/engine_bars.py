"""``engine_bars``: SMA(10)/SMA(30) long/flat crossover on one-minute bars through the full engine.

Timed: ``BacktestEngine.run()`` over ``n`` bars of one equity (tick 0.01, lot 1) with a
:class:`SimulatedVenue` (market orders fill at the next bar's open), a per-share fee and the library
:class:`SmaCrossover` strategy (fast=10, slow=30, quantity=100). Then, in the same process, a bare
Python loop over plain lists applies the same rule with exact integer cash; both must agree on the
number of fills and the final equity to the last raw unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks._common import (
    STARTING_CASH_RAW,
    measure,
    regime_walk,
    round_money_half_up,
)

NAME = "engine_bars"
DEFAULT_N = 1_000_000
INSTRUMENT_ID = "SYN.SIM"
FAST, SLOW = 10, 30
QUANTITY = 100  # shares (size precision 0, so raw == shares)
PER_SHARE_FEE_RAW = 5_000_000  # 0.005 USD per share at money precision 9
PRICE_PRECISION, SIZE_PRECISION, MONEY_PRECISION = 2, 0, 9
FACTOR = 10 ** (MONEY_PRECISION - PRICE_PRECISION - SIZE_PRECISION)  # money raw per (price raw x qty raw)
CENT_RAW = 10 ** (MONEY_PRECISION - 2)
MINUTE_NS = 60 * 10**9
START_NS = 1_600_000_000 * 10**9


def make_bars(n: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded one-minute OHLCV bars around 100.00 USD (raw prices at precision 2)."""
    rng = np.random.default_rng(seed)
    close = regime_walk(n, rng, 10_000)
    open_ = np.empty(n, np.int64)
    open_[0] = close[0]
    open_[1:] = close[:-1] + rng.integers(-1, 2, n - 1)  # open near the previous close, small gaps
    open_ = np.maximum(open_, 1)
    high = np.maximum(open_, close) + rng.integers(0, 4, n)
    low = np.maximum(np.minimum(open_, close) - rng.integers(0, 4, n), 1)
    volume = rng.integers(QUANTITY, 20 * QUANTITY, n)  # always >= the order size: fills are whole
    ts = START_NS + (np.arange(n, dtype=np.int64) + 1) * MINUTE_NS  # close-stamped
    return {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


def build_engine(bars: dict[str, np.ndarray]) -> Any:
    """The engine, venue, fee model, strategy and data, ready to ``run()``."""
    from tradeforge.backtest.engine import BacktestEngine
    from tradeforge.data.columns import BarColumns
    from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
    from tradeforge.strategy.library.sma_cross import SmaCrossover
    from tradeforge.venues.fees import PerUnitFee
    from tradeforge.venues.simulated import SimulatedVenueConfig

    inst = instrument_from_dict(
        {"id": INSTRUMENT_ID, "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"}, NAME
    )
    assert inst.notional_factor == FACTOR
    engine = BacktestEngine(InstrumentProvider([inst]), "USD", STARTING_CASH_RAW)
    engine.add_venue(SimulatedVenueConfig("SIM"), PerUnitFee(PER_SHARE_FEE_RAW))
    engine.add_strategy(
        SmaCrossover("sma", {"instruments": [INSTRUMENT_ID], "fast": FAST, "slow": SLOW, "quantity": QUANTITY})
    )
    ts = bars["ts"]
    engine.add_data(
        BarColumns(
            INSTRUMENT_ID, ts, ts, bars["open"], bars["high"], bars["low"], bars["close"], bars["volume"], MINUTE_NS
        )
    )
    return engine


def bare_loop(open_: np.ndarray, close: np.ndarray) -> tuple[int, int]:
    """The same rule without the engine; returns ``(fills, final_equity_raw)``.

    Per bar, in the engine's order: a market order decided on the previous bar fills at this bar's
    open; then both SMAs take the close (ring buffers, exact integer running sums); once the slow SMA
    is full, buy when fast crosses above slow while flat, sell everything when fast < slow while long.
    ``fast > slow`` is compared exactly as ``sum_fast * SLOW > sum_slow * FAST``.
    """
    opens = open_.tolist()
    closes = close.tolist()
    fee = round_money_half_up(PER_SHARE_FEE_RAW * QUANTITY // 10**SIZE_PRECISION, CENT_RAW)
    buy_cost_per_px = QUANTITY * FACTOR
    fast_buf = [0] * FAST
    slow_buf = [0] * SLOW
    fi = si = 0
    sum_fast = sum_slow = 0
    count = 0
    was_above = True  # the strategy's default: no cross-up on the first full window
    pending = 0  # +1 buy / -1 sell decided on the previous bar
    held = 0
    cash = STARTING_CASH_RAW
    fills = 0
    equity_curve: list[int] = []
    record = equity_curve.append
    for o, c in zip(opens, closes, strict=True):
        if pending:
            if pending > 0:
                cash -= o * buy_cost_per_px + fee
                held = QUANTITY
            else:
                cash += held * o * FACTOR - fee
                held = 0
            fills += 1
            pending = 0
        sum_fast += c - fast_buf[fi]
        fast_buf[fi] = c
        fi += 1
        if fi == FAST:
            fi = 0
        sum_slow += c - slow_buf[si]
        slow_buf[si] = c
        si += 1
        if si == SLOW:
            si = 0
        count += 1
        record(cash + held * c * FACTOR)
        if count < SLOW:
            continue
        fast = sum_fast / FAST
        slow = sum_slow / SLOW
        if fast > slow:
            if not was_above and not held:
                pending = 1
            was_above = True
        else:
            if held and fast < slow:
                pending = -1
            was_above = False
    return fills, cash + held * closes[-1] * FACTOR


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record (best of ``repeats`` for engine and bare loop)."""
    data = make_bars(n, seed)
    return measure(NAME, n, seed, profile_top, repeats, lambda: build_engine(data), lambda c: bare_loop(c.open, c.close))
