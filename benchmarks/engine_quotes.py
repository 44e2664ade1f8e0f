"""``engine_quotes``: SMA(10)/SMA(30) long/flat crossover on quote mids through the full engine.

Timed: ``BacktestEngine.run()`` over ``n`` top-of-book quotes of one crypto spot instrument (tick
0.01, lot 0.001) with a :class:`SimulatedVenue` (zero latency: a market order fills at once against
the quote in force, buying the ask and selling the bid, up to the displayed size), a per-unit fee and
the library :class:`SmaCrossover` strategy on quotes (fast=10, slow=30, quantity=0.123). Then, in
the same process, a bare Python loop over plain lists applies the same rule; both must agree on the
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

NAME = "engine_quotes"
DEFAULT_N = 1_000_000
INSTRUMENT_ID = "BTCUSD.SIM"
FAST, SLOW = 10, 30
QUANTITY = "0.123"
QUANTITY_RAW = 123  # at size precision 3
PER_UNIT_FEE_RAW = 370_000_000  # 0.37 USD per whole coin: 0.04551 per fill, billed 0.05 (half-up)
PRICE_PRECISION, SIZE_PRECISION, MONEY_PRECISION = 2, 3, 9
FACTOR = 10 ** (MONEY_PRECISION - PRICE_PRECISION - SIZE_PRECISION)
CENT_RAW = 10 ** (MONEY_PRECISION - 2)
START_NS = 1_600_000_000 * 10**9


def make_quotes(n: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded quotes around 30,000.00 USD: spread 1..50 ticks, sizes 0.2..20 coins, 1..500 ms apart."""
    rng = np.random.default_rng(seed)
    mid = regime_walk(n, rng, 3_000_000)
    spread = rng.integers(1, 51, n)
    bid = np.maximum(mid - spread // 2, 1)
    ask = bid + spread
    bid_size = rng.integers(200, 20_001, n)  # raw at precision 3; always >= the order: fills are whole
    ask_size = rng.integers(200, 20_001, n)
    ts = START_NS + np.cumsum(rng.integers(1, 501, n)) * 1_000_000
    return {"ts": ts, "bid": bid, "ask": ask, "bid_size": bid_size, "ask_size": ask_size}


def build_engine(quotes: dict[str, np.ndarray]) -> Any:
    """The engine, venue, fee model, strategy and data, ready to ``run()``."""
    from tradeforge.backtest.engine import BacktestEngine
    from tradeforge.data.columns import QuoteColumns
    from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
    from tradeforge.strategy.library.sma_cross import SmaCrossover
    from tradeforge.venues.fees import PerUnitFee
    from tradeforge.venues.simulated import SimulatedVenueConfig

    inst = instrument_from_dict(
        {"id": INSTRUMENT_ID, "kind": "crypto_spot", "currency": "USD", "tick_size": "0.01", "lot_size": "0.001"},
        NAME,
    )
    assert inst.notional_factor == FACTOR
    engine = BacktestEngine(InstrumentProvider([inst]), "USD", STARTING_CASH_RAW)
    engine.add_venue(SimulatedVenueConfig("SIM"), PerUnitFee(PER_UNIT_FEE_RAW))
    params = {"instruments": [INSTRUMENT_ID], "fast": FAST, "slow": SLOW, "quantity": QUANTITY, "data": "quotes"}
    engine.add_strategy(SmaCrossover("sma", params))
    ts = quotes["ts"]
    engine.add_data(
        QuoteColumns(INSTRUMENT_ID, ts, ts, quotes["bid"], quotes["ask"], quotes["bid_size"], quotes["ask_size"])
    )
    return engine


def bare_loop(bid: np.ndarray, ask: np.ndarray, bid_size: np.ndarray, ask_size: np.ndarray) -> tuple[int, int]:
    """The same rule without the engine; returns ``(fills, final_equity_raw)``.

    Per quote: both SMAs take the mid, kept doubled (``bid + ask``) so the running sums stay exact
    integers; once the slow SMA is full, buy at the ask when fast crosses above slow while flat, sell
    everything at the bid when fast < slow while long. The fill is immediate (zero venue latency).
    Equity marks the position at the integer mid ``(bid + ask) // 2``, as the portfolio does, and is
    recorded for every quote (the equity curve is part of a backtest's output); both SMA means are
    computed, as the strategy's indicators do.
    """
    bids = bid.tolist()
    asks = ask.tolist()
    bid_sizes = bid_size.tolist()
    ask_sizes = ask_size.tolist()
    qty = QUANTITY_RAW
    fee = round_money_half_up(PER_UNIT_FEE_RAW * qty // 10**SIZE_PRECISION, CENT_RAW)
    cost_per_px = qty * FACTOR
    fast_buf = [0] * FAST
    slow_buf = [0] * SLOW
    fi = si = 0
    sum_fast = sum_slow = 0
    count = 0
    was_above = True
    held = 0
    cash = STARTING_CASH_RAW
    fills = 0
    equity_curve: list[int] = []
    record = equity_curve.append
    for b, a, bs, az in zip(bids, asks, bid_sizes, ask_sizes, strict=True):
        m2 = b + a
        sum_fast += m2 - fast_buf[fi]
        fast_buf[fi] = m2
        fi += 1
        if fi == FAST:
            fi = 0
        sum_slow += m2 - slow_buf[si]
        slow_buf[si] = m2
        si += 1
        if si == SLOW:
            si = 0
        count += 1
        if count < SLOW:
            record(cash + held * (m2 // 2) * FACTOR)
            continue
        fast = sum_fast / (2 * FAST)
        slow = sum_slow / (2 * SLOW)
        if fast > slow:
            if not was_above and not held:
                if 0 < az < qty:
                    raise AssertionError("bare loop does not model partial fills; sizes must cover the order")
                cash -= a * cost_per_px + fee
                held = qty
                fills += 1
            was_above = True
        else:
            if held and fast < slow:
                if 0 < bs < held:
                    raise AssertionError("bare loop does not model partial fills; sizes must cover the order")
                cash += b * held * FACTOR - fee
                held = 0
                fills += 1
            was_above = False
        record(cash + held * (m2 // 2) * FACTOR)
    return fills, cash + held * ((bids[-1] + asks[-1]) // 2) * FACTOR


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record (best of ``repeats`` for engine and bare loop)."""
    data = make_quotes(n, seed)
    return measure(NAME, n, seed, profile_top, repeats, lambda: build_engine(data), lambda c: bare_loop(c.bid, c.ask, c.bid_size, c.ask_size))
