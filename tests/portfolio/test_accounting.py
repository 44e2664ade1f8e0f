"""Portfolio accounting through the engine: hand-computed cash, realized and unrealized P&L, position
events, and the invariant ``equity == cash + positions at mark`` over randomized multi-instrument runs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.execution._harness import EQUITY, EQUITY_B, FUTURE, Harness, Scripted, money
from tradeforge.model.enums import OmsType, OrderSide, OrderType, TimeInForce
from tradeforge.model.events import (
    OrderFilled,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)
from tradeforge.model.orders import Order
from tradeforge.venues.fees import BpsFee, PerUnitFee

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A, B, F = EQUITY["id"], EQUITY_B["id"], FUTURE["id"]
QUIET = (100, 100.5, 99.5, 100)


def _mkt(side: OrderSide, qty: int, iid: str = A, **kw: object):
    return lambda s, _b: s.submit_order(s.f.market(iid, side, qty, **kw))


def test_equity_round_trip_with_per_share_fees_is_exact() -> None:
    # $0.0035 per share, rounded half-up to cents: 150 -> 0.525 -> 0.53; 90 -> 0.315 -> 0.32; 60 -> 0.21
    h = Harness(cash=100_000, fee=PerUnitFee(money("0.0035")))
    pf = h.engine.portfolio
    snap: dict[str, int] = {}

    def at2(s: Scripted, _b: object) -> None:
        snap.update(cash=pf.cash, equity=pf.equity(), unrealized=pf.unrealized_pnl())
        s.submit_order(s.f.market(A, SELL, 90))

    s = h.strategy({0: _mkt(BUY, 150), 2: at2, 3: _mkt(SELL, 60)})
    h.bars([
        QUIET,
        (100.00, 101, 99, 100.5),  # buy 150 @ 100.00
        (101, 103.5, 100.8, 103.2),  # marked at 103.20
        (103.37, 103.5, 98, 98.6),  # sell 90 @ 103.37
        (98.55, 99, 98, 98.7),  # sell 60 @ 98.55
    ])
    h.run()
    assert [f.commission for f in s.of(OrderFilled)] == [money("0.53"), money("0.32"), money("0.21")]
    assert snap["cash"] == money("84999.47")  # 100000 - 15000 - 0.53
    assert snap["unrealized"] == money(480)  # 150 * (103.20 - 100.00)
    assert snap["equity"] == money("100479.47")
    # 90 * 3.37 - 60 * 1.45 - 1.06 fees
    assert pf.realized_pnl == money("215.24")
    assert pf.cash == money("100215.24") == pf.equity()
    assert pf.fees_paid == money("1.06")
    assert pf.traded_notional == money(15000) + money("9303.30") + money("5913.00")
    (trade,) = pf.closed_trades
    assert trade.realized_pnl == money("215.24") and trade.peak_qty == 150
    closed = s.of(PositionClosed)[0]
    assert closed.realized_pnl == money("215.24") and closed.duration_ns == h.bar_ts(4) - h.bar_ts(1)


def test_fee_minimum_and_cap() -> None:
    fee = PerUnitFee(money("0.005"), minimum_raw=money(1), max_bps=100)
    h = Harness(cash=100_000, fee=fee)
    s = h.strategy({0: _mkt(BUY, 10), 1: _mkt(BUY, 1000), 2: _mkt(BUY, 10)})
    h.bars([
        QUIET,
        (100, 100, 0.5, 0.5),  # 10 sh @ 100: 0.05 -> minimum 1.00
        (0.40, 0.4, 0.4, 0.4),  # 1000 sh @ 0.40: 5.00, capped at 1% of 400 = 4.00
        (0.50, 0.5, 0.5, 0.5),  # 10 sh @ 0.50: 1% of 5.00 = 0.05 is below the minimum; the cap wins
    ])
    h.run()
    assert [f.commission for f in s.of(OrderFilled)] == [money(1), money(4), money("0.05")]


def test_futures_are_margined_cash_moves_by_realized_pnl_and_fees_only() -> None:
    # 6E: multiplier 125000, tick 0.00005; $2.50 per contract
    h = Harness([FUTURE], cash=100_000, fee=PerUnitFee(money("2.50")))
    pf = h.engine.portfolio
    snaps: dict[int, tuple[int, int, int, int]] = {}

    def script(s: Scripted, i: int, _b: object) -> None:
        snaps[i] = (pf.cash, pf.equity(), pf.unrealized_pnl(), pf.margin_used())
        if i == 0:
            s.submit_order(s.f.market(F, BUY, 2))
        elif i == 1:
            s.submit_order(s.f.market(F, BUY, 1))
        elif i == 2:
            s.submit_order(s.f.market(F, SELL, 3))

    s = h.strategy(script, instruments=[F])
    h.bars([
        (1.1, 1.1005, 1.0995, 1.1),
        (1.10000, 1.103, 1.099, 1.10250),  # buy 2 @ 1.10000, mark 1.10250
        (1.10300, 1.1035, 1.1005, 1.10100),  # buy 1 @ 1.10300, mark 1.10100
        (1.10400, 1.105, 1.103, 1.1045),  # sell 3 @ 1.10400
    ], F)
    h.run()
    # bar 1: only the fee left cash; unrealized 2 * 0.0025 * 125000 = 625; margin 2 * 1.1025 * 125000 * 5%
    assert snaps[1] == (money(99_995), money(100_620), money(625), money("13781.25"))
    # bar 2: 2 * (+0.001) + 1 * (-0.002) = 0 unrealized
    assert snaps[2] == (money("99992.50"), money("99992.50"), 0, money("20643.75"))
    # FIFO: 2 * 0.004 * 125000 + 1 * 0.001 * 125000 = 1125 realized, 15 in fees
    assert pf.realized_pnl == money(1110)
    assert pf.cash == pf.equity() == money(101_110)
    assert pf.traded_notional == (2 * 110000 + 110300 + 3 * 110400) * h.inst(F).notional_factor
    (closed,) = s.of(PositionClosed)
    assert closed.realized_pnl == money(1110)


def test_netting_flip_closes_then_opens_with_correct_pnl() -> None:
    # $0.01 per share: buy 100 -> 1.00; sell 150 -> 1.50 split 1.00 (closing 100) / 0.50 (opening 50)
    h = Harness(cash=100_000, fee=PerUnitFee(money("0.01")))
    pf = h.engine.portfolio
    s = h.strategy({0: _mkt(BUY, 100), 1: _mkt(SELL, 150), 2: _mkt(BUY, 50)})
    h.bars([QUIET, (100.00, 101, 99, 100), (110.00, 111, 109, 110), (105.00, 106, 104, 105)])
    h.run()
    names = [type(e).__name__ for e in s.events if type(e).__name__.startswith(("OrderFilled", "Position"))]
    assert names == [
        "OrderFilled", "PositionOpened",
        "OrderFilled", "PositionClosed", "PositionOpened",
        "OrderFilled", "PositionClosed",
    ]
    c1, o2 = s.of(PositionClosed)[0], s.of(PositionOpened)[1]
    assert c1.signed_qty == 0 and c1.realized_pnl == money(998)  # 100 * 10 - 1.00 - 1.00
    assert o2.signed_qty == -50 and o2.avg_px == h.px(110) and o2.realized_pnl == money("-0.50")
    assert o2.position_id == c1.position_id  # netting: the same id starts a new cycle
    c2 = s.of(PositionClosed)[1]
    assert c2.realized_pnl == money(249)  # 50 * 5 - 0.50 - 0.50
    assert [t.realized_pnl for t in pf.closed_trades] == [money(998), money(249)]
    assert [t.peak_qty for t in pf.closed_trades] == [100, 50]
    assert pf.realized_pnl == money(1247)
    # 100000 - 10001 + 16498.50 - 5250.50
    assert pf.cash == money(101_247) == pf.equity()


def test_flip_mid_run_equity_includes_short_at_mark() -> None:
    h = Harness(cash=100_000)
    pf = h.engine.portfolio
    snap: dict[str, int] = {}
    s = h.strategy({
        0: _mkt(BUY, 100),
        1: _mkt(SELL, 150),
        2: lambda s, _b: snap.update(cash=pf.cash, equity=pf.equity(), net=pf.net_quantity(A)),
    })
    h.bars([QUIET, (100, 101, 99, 100), (110, 111, 107, 108), QUIET])
    h.run()
    assert snap["net"] == -50
    assert snap["cash"] == money(100_000 - 10_000 + 16_500)
    assert snap["equity"] == snap["cash"] - money(50 * 108)  # +1000 realized, +100 on the short
    assert snap["equity"] == money(101_100)
    assert len(s.of(PositionClosed)) == 1


def test_hedging_mode_keeps_two_positions() -> None:
    h = Harness(cash=100_000, oms_type=OmsType.HEDGING)
    pf = h.engine.portfolio
    snap: dict[str, object] = {}

    def at2(s: Scripted, _b: object) -> None:
        snap["open"] = sorted((p.position_id, p.net_qty) for p in pf.open_positions())
        snap["net"] = pf.net_quantity(A)
        s.submit_order(s.f.market(A, SELL, 30))  # no position id: reduces the oldest opposite (the long)

    s = h.strategy({
        0: _mkt(BUY, 100),
        1: _mkt(SELL, 40, position_id="SHORT"),
        2: at2,
        3: _mkt(BUY, 40, position_id="SHORT"),
    })
    h.bars([QUIET, (100, 101, 99, 100), (102, 103, 101, 102), (101, 102, 100, 101), (99, 100, 98, 99)])
    h.run()
    assert snap["open"] == [("AAA.SIM-S-1", 100), ("SHORT", -40)]
    assert snap["net"] == 60
    assert [(p.position_id, p.net_qty) for p in pf.open_positions()] == [("AAA.SIM-S-1", 70)]
    (closed,) = pf.closed_trades
    assert closed.position_id == "SHORT" and closed.realized_pnl == money(120)  # 40 * (102 - 99)
    assert pf.realized_pnl == money(150)  # + 30 * (101 - 100) on the long
    assert [type(e).__name__ for e in s.events if isinstance(e, PositionEvent)] == [
        "PositionOpened", "PositionOpened", "PositionChanged", "PositionClosed",
    ]
    assert pf.equity() == pf.cash + 70 * h.px(99) * h.inst().notional_factor


def test_fifo_realized_pnl_on_partial_closes() -> None:
    h = Harness(cash=100_000)
    pf = h.engine.portfolio
    s = h.strategy({0: _mkt(BUY, 10), 1: _mkt(BUY, 10), 2: _mkt(SELL, 15), 3: _mkt(SELL, 5)})
    h.bars([QUIET, (100, 101, 99, 100), (110, 111, 109, 110), (120, 121, 119, 120), (100, 101, 99, 100)])
    h.run()
    ev = [e for e in s.events if isinstance(e, PositionEvent)]
    assert [type(e).__name__ for e in ev] == ["PositionOpened", "PositionChanged", "PositionChanged", "PositionClosed"]
    # first 10 @ 100 close at 120 (+200), then 5 of the 110 lot (+50); average cost would give 225
    assert ev[2].realized_pnl == money(250) and ev[2].signed_qty == 5 and ev[2].avg_px == h.px(110)
    assert ev[1].avg_px == h.px(105)
    # the remaining 5 @ 110 close at 100: -50
    assert ev[3].realized_pnl == money(200)
    assert pf.realized_pnl == money(200)
    assert pf.cash == money(100_200) == pf.equity()


def test_position_events_reach_the_strategy_after_the_fill() -> None:
    h = Harness(participation=0.5)
    s = h.strategy({0: _mkt(BUY, 100), 3: _mkt(SELL, 100)})
    h.bars([(*QUIET, 100)] * 6)
    h.run()
    _assert_position_events_follow_fills(s)
    assert len(s.of(OrderFilled)) == 4 and len(s.of(PositionEvent)) == 4


def _assert_position_events_follow_fills(s: Scripted) -> None:
    """Each position event comes right after the fill that caused it (a flip gives two in a row)."""
    events = s.events
    for i, e in enumerate(events):
        if not isinstance(e, PositionEvent):
            continue
        j = i - 1
        while j >= 0 and isinstance(events[j], PositionEvent):
            j -= 1
        assert j >= 0 and isinstance(events[j], OrderFilled), (i, e)
        fill = events[j]
        assert fill.instrument_id == e.instrument_id and fill.ts_event == e.ts_event
        assert i - j <= 2


# -- randomized runs: the invariant after every event --


def _walk(rng: np.random.Generator, n: int, start: int, tick: int) -> tuple[np.ndarray, ...]:
    close = start + np.cumsum(rng.integers(-4, 5, n)) * tick
    close = np.maximum(close, start // 2)
    open_ = np.r_[start, close[:-1]] + rng.integers(-2, 3, n) * tick  # small gaps
    high = np.maximum(open_, close) + rng.integers(0, 4, n) * tick
    low = np.minimum(open_, close) - rng.integers(0, 4, n) * tick
    return open_, high, low, close


class _Random:
    """Random orders of every kind, cancels and modifies; checks the books on every event."""

    def __init__(self, h: Harness, rng: np.random.Generator) -> None:
        self.h = h
        self.rng = rng
        self.checks = 0

    def step(self, s: Scripted, _i: int, bar: object) -> None:
        rng = self.rng
        iid = bar.instrument_id  # type: ignore[attr-defined]
        inst = self.h.inst(iid)
        close = bar.close  # type: ignore[attr-defined]
        tick = inst.tick_size_raw
        if rng.random() < 0.35:
            side = BUY if rng.random() < 0.5 else SELL
            qty = int(rng.integers(1, 4 if iid == F else 30)) * inst.lot_size_raw
            kind = rng.integers(0, 6)
            off = int(rng.integers(-5, 6)) * tick
            q = inst.make_quantity(qty)
            f = s.f
            if kind == 0:
                o = f.market(iid, side, q)
            elif kind == 1:
                o = f.limit(iid, side, q, inst.make_price(close + off))
            elif kind == 2:
                o = f.limit(iid, side, q, inst.make_price(close + off), time_in_force=TimeInForce.IOC)
            elif kind == 3:
                trig = close + side * (abs(off) + tick)
                o = f.stop_market(iid, side, q, inst.make_price(trig))
            elif kind == 4:
                o = f.market(iid, side, q, time_in_force=TimeInForce.FOK)
            else:
                held = s.position_quantity(iid)
                if held == 0:
                    return
                o = f.market(iid, SELL if held > 0 else BUY, inst.make_quantity(min(abs(held), qty)), reduce_only=True)
            s.submit_order(o)
        open_orders = s.open_orders(iid)
        if open_orders and rng.random() < 0.15:
            target: Order = open_orders[int(rng.integers(0, len(open_orders)))]
            if rng.random() < 0.5:
                s.cancel_order(target)
            elif target.order_type is OrderType.LIMIT:
                s.modify_order(target, price=close + int(rng.integers(-3, 4)) * tick)

    def on_event(self, _e: object) -> None:
        self.h.engine.portfolio.check_invariant()
        self.checks += 1


@pytest.mark.parametrize("seed", range(6))
def test_invariant_holds_after_every_event_in_random_runs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = Harness(
        [EQUITY, EQUITY_B, FUTURE], cash=1_000_000, participation=0.5, fee=BpsFee(maker_bps=-0.2, taker_bps=1.5),
        check_invariant=True,
    )
    rnd = _Random(h, rng)
    s = h.strategy(rnd.step, instruments=[A, B, F])
    # check the books each time the strategy hears of a fill or position change
    h.engine.bus.subscribe("events.order.S", rnd.on_event)
    h.engine.bus.subscribe("events.position.S", rnd.on_event)
    n = 250
    for iid, start in ((A, 10_000), (B, 5_000), (F, 110_000)):
        tick = h.inst(iid).tick_size_raw
        o, hi, lo, c = _walk(rng, n, start, tick)
        h.bars_raw(iid, o, hi, lo, c, rng.integers(0, 60, n) * h.inst(iid).lot_size_raw)
    h.run()
    pf = h.engine.portfolio
    fills = h.engine.execution.fills
    assert len(fills) > 30 and rnd.checks > 100
    pf.check_invariant()
    # no venue report was ever refused by an order's state machine
    assert not [e for e in h.engine.execution.errors if e.source in ("order", "venue")]
    # independent books from the fills alone
    net: dict[str, int] = {A: 0, B: 0, F: 0}
    flows = 0
    fees = 0
    for f in fills:
        factor = h.inst(f.instrument_id).notional_factor
        net[f.instrument_id] += int(f.side) * f.last_qty
        flows -= int(f.side) * f.last_qty * f.last_px * factor
        fees += f.commission
    for iid, q in net.items():
        assert pf.net_quantity(iid) == q
    at_mark = sum(q * pf.last_price(iid) * h.inst(iid).notional_factor for iid, q in net.items())
    assert pf.equity() == pf.starting_cash - fees + flows + at_mark
    assert pf.fees_paid == fees
    assert pf.equity() - pf.starting_cash == pf.realized_pnl + pf.unrealized_pnl()
    assert pf.equity() == h.engine.portfolio.cash + sum(
        (q * pf.last_price(iid) * h.inst(iid).notional_factor if h.inst(iid).cash_settled else 0)
        for iid, q in net.items()
    ) + pf.unrealized_pnl(F)
    _assert_position_events_follow_fills(s)
    # every order reached a terminal state or is still working at the venue
    for o in h.engine.execution.orders.values():
        assert o.filled_qty <= o.quantity
        assert o.is_closed or o.is_open
