"""Orders through the whole engine (strategy -> OMS -> risk -> simulated venue -> portfolio).

Every expected price below is worked out by hand from the venue's documented conventions.
"""

from __future__ import annotations

import pytest

from tests.execution._harness import MINUTE, T0, Harness, Scripted
from tradeforge.model.enums import LiquiditySide, OrderSide, OrderStatus, TimeInForce
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradeforge.model.timeutil import NANOS_PER_SECOND
from tradeforge.venues.slippage import FixedTickSlippage

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A = "AAA.SIM"

# a quiet bar around 100 that never reaches 90 or 110
QUIET = (100, 100.5, 99.5, 100)


def _submit(name: str, make):
    """Script step: build an order with ``make(strategy)``, submit it, keep it under ``name``."""

    def step(s: Scripted, _data: object) -> None:
        s.saved[name] = s.submit_order(make(s))

    return step


def _fills(s: Scripted, coid: str | None = None) -> list[OrderFilled]:
    return s.of(OrderFilled, coid)


# -- market orders --


def test_market_order_fills_at_next_bar_open_plus_slippage_never_at_signal_close() -> None:
    h = Harness(slippage=FixedTickSlippage(2))
    s = h.strategy({
        1: _submit("buy", lambda s: s.f.market(A, BUY, 10)),
        3: _submit("sell", lambda s: s.f.market(A, SELL, 10)),
    })
    h.bars([
        (100, 101, 99, 100.5),
        (100.5, 102, 100, 101.7),  # bar 1: decision (close 101.70)
        (101.9, 103, 101, 102.5),  # bar 2: buy fills at open 101.90 + 2 ticks
        (102, 102.5, 101, 101.2),  # bar 3: decision
        (101.1, 101.5, 100.8, 101),  # bar 4: sell fills at open 101.10 - 2 ticks
    ])
    h.run()
    buy, sell = s.saved["buy"], s.saved["sell"]
    (fb,) = _fills(s, buy.client_order_id)
    (fs,) = _fills(s, sell.client_order_id)
    assert fb.last_px == h.px("101.92") and fb.ts_event == h.bar_ts(2)
    assert fb.last_px != h.px("101.7")
    assert fs.last_px == h.px("101.08") and fs.ts_event == h.bar_ts(4)
    assert fb.liquidity_side is LiquiditySide.TAKER
    assert buy.status is OrderStatus.FILLED and sell.status is OrderStatus.FILLED
    assert s.kinds_for(buy.client_order_id) == ["OrderSubmitted", "OrderAccepted", "OrderFilled"]
    assert h.engine.portfolio.net_quantity(A) == 0
    # realized: 10 * (101.08 - 101.92)
    assert h.engine.portfolio.realized_pnl == 10 * (h.px("101.08") - h.px("101.92")) * h.inst().notional_factor


def test_market_order_on_last_bar_never_fills() -> None:
    h = Harness()
    s = h.strategy({1: _submit("buy", lambda s: s.f.market(A, BUY, 10))})
    h.bars([QUIET, QUIET])
    h.run()
    assert not _fills(s)
    assert s.saved["buy"].status is OrderStatus.ACCEPTED


# -- limit orders --


@pytest.mark.parametrize(("mode", "fill_bar"), [("through", 2), ("touch", 1)])
def test_limit_buy_fills_through_its_price_or_at_touch(mode: str, fill_bar: int) -> None:
    h = Harness(limit_fill=mode)
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "100.00"))})
    h.bars([
        (100.5, 101, 100.2, 100.5),
        (100.8, 101, 100.00, 100.4),  # low == limit: "touch" only
        (100.5, 100.6, 99.9, 100.2),  # low < limit: fills at the limit
        (100.2, 100.3, 99.0, 99.5),
    ])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px(100) and f.ts_event == h.bar_ts(fill_bar)
    assert f.liquidity_side is LiquiditySide.MAKER


def test_limit_buy_fills_at_open_when_bar_gaps_below() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "100.00"))})
    h.bars([(100.5, 101, 100.2, 100.5), (99.50, 99.8, 99.0, 99.6)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px("99.50")


@pytest.mark.parametrize(("mode", "fill_bar", "px"), [("through", 2, "101"), ("touch", 1, "101"), ("gap", 1, "101.5")])
def test_limit_sell_is_symmetric(mode: str, fill_bar: int, px: str) -> None:
    h = Harness(limit_fill="touch" if mode == "touch" else "through")
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, SELL, 10, "101.00"))})
    bar1 = (101.5, 101.8, 101.2, 101.5) if mode == "gap" else (100.5, 101.00, 100.2, 100.8)
    h.bars([(100.5, 100.8, 100.2, 100.5), bar1, (100.8, 101.2, 100.5, 101), (101, 101.5, 100.5, 101)])
    h.run()
    f = _fills(s)[0]
    assert f.last_px == h.px(px) and f.ts_event == h.bar_ts(fill_bar)
    assert f.side is SELL and f.last_qty == 10


def test_limit_that_never_trades_through_rests() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "99.00"))})
    h.bars([QUIET] * 5)
    h.run()
    assert not _fills(s)
    assert s.saved["o"].status is OrderStatus.ACCEPTED
    assert h.engine.execution.open_orders("S") == [s.saved["o"]]


# -- stops --


@pytest.mark.parametrize(("bar1", "expected"), [
    ((100, 100.5, 98.5, 99.2), "98.99"),  # reaches 99.00: fills at the trigger (- 1 tick slippage)
    ((98.00, 98.5, 97.5, 98.2), "97.99"),  # gaps through: fills at the open (- 1 tick)
])
def test_sell_stop_market_triggers_at_trigger_and_gaps_at_open(bar1: tuple, expected: str) -> None:
    h = Harness(slippage=FixedTickSlippage(1))
    s = h.strategy({0: _submit("o", lambda s: s.f.stop_market(A, SELL, 10, "99.00"))})
    h.bars([QUIET, bar1, QUIET])
    h.run()
    coid = s.saved["o"].client_order_id
    assert s.kinds_for(coid) == ["OrderSubmitted", "OrderAccepted", "OrderTriggered", "OrderFilled"]
    (f,) = _fills(s)
    assert f.last_px == h.px(expected) and f.ts_event == h.bar_ts(1)


def test_buy_stop_triggers_when_high_reaches_trigger() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.stop_market(A, BUY, 10, "101.00"))})
    h.bars([QUIET, (100.2, 100.9, 100, 100.5), (100.5, 101.00, 100.3, 100.8), QUIET])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px(101) and f.ts_event == h.bar_ts(2)


def test_stop_limit_triggers_and_fills_at_trigger_within_limit() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.stop_limit(A, BUY, 10, "101.50", "101.00"))})
    h.bars([QUIET, (100, 102, 99.5, 101.8), QUIET])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px(101) and f.ts_event == h.bar_ts(1)


def test_stop_limit_gapping_beyond_limit_triggers_then_rests_then_fills_at_limit() -> None:
    h = Harness()
    seen: dict[int, OrderStatus] = {}
    s = h.strategy(lambda s, i, bar: (
        s.saved.setdefault("o", s.submit_order(s.f.stop_limit(A, BUY, 10, "101.50", "101.00"))) if i == 0 else None,
        seen.__setitem__(i, s.saved["o"].status),
    ))
    h.bars([
        QUIET,
        (102.00, 102.5, 101.8, 102.2),  # gaps above the limit: triggered, no fill
        (102.2, 102.4, 101.6, 101.9),  # never below 101.50
        (101.8, 102.0, 101.2, 101.4),  # trades through 101.50: fills at the limit
    ])
    h.run()
    assert seen[1] is OrderStatus.TRIGGERED and seen[2] is OrderStatus.TRIGGERED
    (f,) = _fills(s)
    assert f.last_px == h.px("101.50") and f.ts_event == h.bar_ts(3)
    assert len(s.of(OrderTriggered)) == 1


@pytest.mark.parametrize(("side", "trigger", "bar1", "expected"), [
    (BUY, "99.00", (100, 100.2, 98.5, 99), "99.00"),  # buy below the market when touched
    (BUY, "99.00", (98.20, 98.5, 98, 98.3), "98.20"),  # gap below: the open
    (SELL, "101.00", (100, 101.5, 99.8, 101), "101.00"),
    (SELL, "101.00", (101.60, 102, 101.5, 101.8), "101.60"),
])
def test_market_if_touched(side: OrderSide, trigger: str, bar1: tuple, expected: str) -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.market_if_touched(A, side, 10, trigger))})
    h.bars([QUIET, bar1, QUIET])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px(expected) and f.ts_event == h.bar_ts(1)
    assert OrderTriggered in map(type, s.events)


def test_market_if_touched_does_not_trigger_on_the_wrong_side() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.market_if_touched(A, BUY, 10, "99.00"))})
    h.bars([QUIET, (100, 103, 99.5, 102), (102, 104, 101, 103)])  # rallies: a buy MIT below never triggers
    h.run()
    assert not _fills(s) and not s.of(OrderTriggered)


def test_sell_trailing_stop_follows_highs_and_triggers() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.trailing_stop_market(A, SELL, 10, "1.00"))})
    h.bars([
        (100, 100.5, 99.5, 100),  # submitted here: first trigger 100 - 1 = 99
        (100, 102, 99.5, 101.5),  # low 99.5 above 99: no trigger; trail -> 102 - 1 = 101
        (101.8, 103, 101.2, 102),  # low 101.2 above 101; trail -> 102
        (102.5, 102.6, 101.5, 102),  # low reaches 102: fills at 102
    ])
    h.run()
    (f,) = _fills(s)
    assert f.ts_event == h.bar_ts(3) and f.last_px == h.px(102)


def test_buy_trailing_stop_follows_lows_and_triggers() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.trailing_stop_market(A, BUY, 10, "1.00"))})
    h.bars([
        (100, 100.5, 99.5, 100),  # first trigger 101
        (100, 100.8, 99, 99.2),  # high 100.8 below 101; trail -> 99 + 1 = 100
        (99.2, 99.8, 98.5, 99),  # high 99.8 below 100; trail -> 99.5
        (99.4, 99.9, 99.3, 99.8),  # high 99.9 reaches 99.5: fills at max(open, trail) = 99.5
    ])
    h.run()
    (f,) = _fills(s)
    assert f.ts_event == h.bar_ts(3) and f.last_px == h.px("99.5")


def test_trailing_stop_with_explicit_first_trigger() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.trailing_stop_market(A, SELL, 10, "1.00", trigger_price="98.00"))})
    h.bars([QUIET, (100, 100.5, 98.5, 99), (99, 99.5, 97.8, 98)])  # trail 98 -> 99.5 after bar 1
    h.run()
    (f,) = _fills(s)
    assert f.ts_event == h.bar_ts(2) and f.last_px == h.px("99.00")  # min(open 99, trail 99.5)


# -- participation, IOC, FOK --


def test_participation_caps_fills_and_rest_fills_on_later_bars() -> None:
    h = Harness(participation=0.5)
    s = h.strategy({0: _submit("o", lambda s: s.f.market(A, BUY, 120))})
    h.bars([(*QUIET, 100), (100.1, 101, 99, 100, 100), (100.2, 101, 99, 100, 100), (100.3, 101, 99, 100, 100),
            (100.4, 101, 99, 100, 100)])
    h.run()
    fills = _fills(s)
    assert [f.last_qty for f in fills] == [50, 50, 20]
    assert [f.last_px for f in fills] == [h.px("100.1"), h.px("100.2"), h.px("100.3")]
    coid = s.saved["o"].client_order_id
    assert s.status_trail(coid)[-3:] == [OrderStatus.PARTIALLY_FILLED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert h.engine.portfolio.net_quantity(A) == 120
    assert s.saved["o"].avg_px == pytest.approx((50 * 10010 + 50 * 10020 + 20 * 10030) / 120)


def test_participation_budget_is_shared_in_arrival_order() -> None:
    h = Harness(participation=0.5)
    s = h.strategy({0: lambda s, _b: [s.submit_order(s.f.market(A, BUY, 40)) for _ in range(2)]})
    h.bars([QUIET, (100, 101, 99, 100, 101)])  # budget int(101 * 0.5) = 50
    h.run()
    assert [(f.client_order_id, f.last_qty) for f in _fills(s)] == [("S-1", 40), ("S-2", 10)]


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    h = Harness(participation=0.5)
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 100, "101.00", time_in_force=TimeInForce.IOC))})
    h.bars([QUIET, (100.5, 101, 100, 100.5, 60), QUIET])
    h.run()
    o = s.saved["o"]
    (f,) = _fills(s)
    assert f.last_qty == 30 and f.last_px == h.px("100.5")
    assert o.status is OrderStatus.CANCELED and o.filled_qty == 30
    assert s.kinds_for(o.client_order_id)[-2:] == ["OrderFilled", "OrderCanceled"]


def test_ioc_not_marketable_is_canceled_on_first_bar() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "95.00", time_in_force=TimeInForce.IOC))})
    h.bars([QUIET, QUIET, (96, 96, 90, 91)])  # bar 2 would have filled a GTC order
    h.run()
    assert not _fills(s)
    assert s.saved["o"].status is OrderStatus.CANCELED
    assert s.of(OrderCanceled)[0].ts_event == h.bar_ts(1)


@pytest.mark.parametrize(("volume", "filled"), [(60, 0), (400, 100)])
def test_fok_fills_all_or_cancels(volume: int, filled: int) -> None:
    h = Harness(participation=0.5)
    s = h.strategy({0: _submit("o", lambda s: s.f.market(A, BUY, 100, time_in_force=TimeInForce.FOK))})
    h.bars([QUIET, (100.5, 101, 100, 100.5, volume), QUIET])
    h.run()
    o = s.saved["o"]
    assert o.filled_qty == filled
    assert o.status is (OrderStatus.FILLED if filled else OrderStatus.CANCELED)
    assert sum(f.last_qty for f in _fills(s)) == filled


# -- time in force --


def test_day_order_expires_at_first_data_of_a_later_utc_date() -> None:
    six_hours = 6 * 3600 * NANOS_PER_SECOND  # T0 is 14:30 UTC: bars at 14:30, 20:30, 02:30 (next day)
    h = Harness()
    seen: dict[int, OrderStatus] = {}

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.saved["o"] = s.submit_order(s.f.limit(A, BUY, 10, "90.00", time_in_force=TimeInForce.DAY))
        seen[i] = s.saved["o"].status

    s = h.strategy(script)
    h.bars([QUIET, QUIET, (95, 95, 85, 88), QUIET], step=six_hours)  # bar 2 trades through but is a new day
    h.run()
    assert seen[1] is OrderStatus.ACCEPTED
    (e,) = s.of(OrderExpired)
    midnight = (T0 // (24 * 3600 * NANOS_PER_SECOND) + 1) * 24 * 3600 * NANOS_PER_SECOND
    assert e.ts_event == midnight  # when it expired; the venue saw it at the next bar
    assert e.ts_init == T0 + 2 * six_hours
    assert s.saved["o"].status is OrderStatus.EXPIRED
    assert not _fills(s)


def test_gtd_order_expiring_inside_a_bar_cannot_use_that_bar() -> None:
    h = Harness()
    expire = h.bar_ts(2) - 30 * NANOS_PER_SECOND  # half-way through bar 2
    seen: dict[int, OrderStatus] = {}

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.saved["o"] = s.submit_order(
                s.f.limit(A, BUY, 10, "90.00", time_in_force=TimeInForce.GTD, expire_time_ns=expire)
            )
        seen[i] = s.saved["o"].status

    s = h.strategy(script)
    h.bars([QUIET, QUIET, (95, 95, 85, 88), QUIET])
    h.run()
    assert seen[1] is OrderStatus.ACCEPTED
    (e,) = s.of(OrderExpired)
    assert e.ts_event == expire and e.ts_init == h.bar_ts(2)
    assert not _fills(s)


def test_gtd_order_alive_for_the_whole_bar_may_fill_in_it() -> None:
    h = Harness()
    expire = h.bar_ts(2)  # exactly bar 2's close

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.saved["o"] = s.submit_order(
                s.f.limit(A, BUY, 10, "90.00", time_in_force=TimeInForce.GTD, expire_time_ns=expire)
            )

    s = h.strategy(script)
    h.bars([QUIET, QUIET, (95, 95, 85, 88), QUIET])
    h.run()
    assert s.saved["o"].status is OrderStatus.FILLED
    assert not s.of(OrderExpired)


# -- post-only, reduce-only --


def test_post_only_limit_that_would_take_is_rejected_on_quotes() -> None:
    h = Harness()

    def step0(s: Scripted, _q: object) -> None:
        s.saved["take_buy"] = s.submit_order(s.f.limit(A, BUY, 10, "100.01", post_only=True))
        s.saved["take_sell"] = s.submit_order(s.f.limit(A, SELL, 10, "99.99", post_only=True))
        s.saved["make"] = s.submit_order(s.f.limit(A, BUY, 10, "100.00", post_only=True))

    s = h.strategy({0: step0}, kinds=("quotes",))
    h.quotes([(99.99, 100.01, 100, 100), (99.98, 100.00, 100, 100), (99.97, 99.99, 100, 100)])
    h.run()
    for name in ("take_buy", "take_sell"):
        o = s.saved[name]
        assert o.status is OrderStatus.REJECTED
        (rej,) = s.of(OrderRejected, o.client_order_id)
        assert "post-only" in rej.reason
    make = s.saved["make"]
    (f,) = _fills(s)
    assert f.client_order_id == make.client_order_id
    assert f.last_px == h.px(100) and f.liquidity_side is LiquiditySide.MAKER
    assert f.ts_event == h.bar_ts(1)


def test_reduce_only_denied_when_it_would_increase_the_position() -> None:
    h = Harness()
    s = h.strategy({
        0: lambda s, _b: (
            s.saved.__setitem__("flat_sell", s.submit_order(s.f.market(A, SELL, 5, reduce_only=True))),
            s.submit_order(s.f.market(A, BUY, 10)),
        ),
        2: lambda s, _b: (
            s.saved.__setitem__("add", s.submit_order(s.f.market(A, BUY, 5, reduce_only=True))),
            s.saved.__setitem__("flip", s.submit_order(s.f.market(A, SELL, 15, reduce_only=True))),
            s.saved.__setitem__("reduce", s.submit_order(s.f.market(A, SELL, 4, reduce_only=True))),
        ),
    })
    h.bars([QUIET] * 4)
    h.run()
    for name in ("flat_sell", "add", "flip"):
        o = s.saved[name]
        assert o.status is OrderStatus.DENIED, name
        (d,) = s.of(OrderDenied, o.client_order_id)
        assert d.reason.startswith("reduce_only:")
        assert o not in h.sent
    assert s.saved["reduce"].status is OrderStatus.FILLED
    assert h.engine.portfolio.net_quantity(A) == 6
    assert h.engine.risk.denials["reduce_only"] == 3


# -- cancel and modify --


def test_cancel_removes_the_order_from_the_venue() -> None:
    h = Harness()
    s = h.strategy({
        0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "99.00")),
        1: lambda s, _b: s.cancel_order(s.saved["o"]),
        3: lambda s, _b: s.cancel_order(s.saved["o"]),  # already canceled: refused with an error
    })
    h.bars([QUIET, QUIET, (99, 99, 95, 96), QUIET])
    h.run()
    o = s.saved["o"]
    assert o.status is OrderStatus.CANCELED
    assert s.kinds_for(o.client_order_id) == ["OrderSubmitted", "OrderAccepted", "OrderPendingCancel", "OrderCanceled"]
    assert not _fills(s)
    assert h.venue.working_orders(A) == []
    assert any("cancel of" in e.message for e in h.errors)


def test_modify_price_is_used_for_later_fills() -> None:
    h = Harness()
    s = h.strategy({
        0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "95.00")),
        1: lambda s, _b: s.modify_order(s.saved["o"], price=h.px("99.00")),
    })
    h.bars([QUIET, QUIET, (99.5, 100, 98.8, 99.2), QUIET])  # 98.80 is far above 95 but through 99
    h.run()
    o = s.saved["o"]
    assert o.price == h.px(99)
    kinds = s.kinds_for(o.client_order_id)
    assert kinds[2:4] == ["OrderPendingUpdate", "OrderUpdated"]
    (u,) = s.of(OrderUpdated)
    assert u.price == h.px(99) and u.quantity is None
    (f,) = _fills(s)
    assert f.last_px == h.px(99) and f.ts_event == h.bar_ts(2)


def test_modify_trigger_price_of_a_stop() -> None:
    h = Harness()
    s = h.strategy({
        0: _submit("o", lambda s: s.f.stop_market(A, SELL, 10, "95.00")),
        1: lambda s, _b: s.modify_order(s.saved["o"], trigger_price=h.px("99.00")),
    })
    h.bars([QUIET, QUIET, (99.5, 100, 98.8, 99.2)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px(99) and s.saved["o"].trigger_price == h.px(99)


@pytest.mark.parametrize("new_qty", [30, 20])
def test_modify_quantity_at_or_below_filled_is_rejected(new_qty: int) -> None:
    h = Harness(participation=0.5)
    s = h.strategy({
        0: _submit("o", lambda s: s.f.limit(A, BUY, 100, "101.00")),
        1: lambda s, _b: s.modify_order(s.saved["o"], quantity=new_qty),
    })
    h.bars([QUIET, (100.5, 101, 100, 100.5, 60), (100.5, 101, 100, 100.5, 200)])
    h.run()
    o = s.saved["o"]
    (rej,) = s.of(OrderModifyRejected)
    assert "filled" in rej.reason
    assert s.status_trail(o.client_order_id)[2:5] == [
        OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_UPDATE, OrderStatus.PARTIALLY_FILLED,
    ]
    assert o.quantity == 100 and o.status is OrderStatus.FILLED
    assert [f.last_qty for f in _fills(s)] == [30, 70]


def test_modify_quantity_above_filled_is_applied() -> None:
    h = Harness(participation=0.5)
    s = h.strategy({
        0: _submit("o", lambda s: s.f.limit(A, BUY, 100, "101.00")),
        1: lambda s, _b: s.modify_order(s.saved["o"], quantity=50),
    })
    h.bars([QUIET, (100.5, 101, 100, 100.5, 60), (100.5, 101, 100, 100.5, 200)])
    h.run()
    o = s.saved["o"]
    assert o.quantity == 50 and o.filled_qty == 50 and o.status is OrderStatus.FILLED
    assert [f.last_qty for f in _fills(s)] == [30, 20]


def test_second_cancel_in_the_same_bar_is_refused() -> None:
    h = Harness()
    s = h.strategy({
        0: _submit("o", lambda s: s.f.limit(A, BUY, 10, "99.00")),
        1: lambda s, _b: (s.cancel_order(s.saved["o"]), s.cancel_order(s.saved["o"])),
    })
    h.bars([QUIET, QUIET])
    h.run()
    assert s.saved["o"].status is OrderStatus.CANCELED
    assert len(s.of(OrderPendingCancel)) == 1
    assert not s.of(OrderPendingUpdate)
    assert len(h.errors) == 1 and "status CANCELED" in h.errors[0].message


# -- quotes and trades --


def test_quote_market_orders_take_displayed_size_then_wait() -> None:
    h = Harness()
    s = h.strategy({
        0: _submit("buy", lambda s: s.f.market(A, BUY, 50)),
        2: _submit("sell", lambda s: s.f.market(A, SELL, 60)),
    }, kinds=("quotes",))
    h.quotes([
        (99.99, 100.01, 50, 30),  # buy takes 30 @ 100.01 on arrival
        (100.00, 100.03, 40, 100),  # rest 20 @ 100.03
        (100.05, 100.07, 25, 10),  # sell takes 25 @ 100.05 on arrival
        (100.02, 100.04, 0, 0),  # size 0 = not given: the rest 35 @ 100.02
    ])
    h.run()
    got = [(f.client_order_id, f.last_qty, f.last_px, f.ts_event) for f in _fills(s)]
    assert got == [
        ("S-1", 30, h.px("100.01"), h.bar_ts(0)),
        ("S-1", 20, h.px("100.03"), h.bar_ts(1)),
        ("S-2", 25, h.px("100.05"), h.bar_ts(2)),
        ("S-2", 35, h.px("100.02"), h.bar_ts(3)),
    ]
    assert h.engine.portfolio.net_quantity(A) == -10


def test_resting_limit_fills_from_trades_that_print_through() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.limit(A, BUY, 50, "99.00"))}, kinds=("trades",))
    h.trades([
        (100.00, 100),
        (99.50, 100),
        (99.00, 100),  # at the limit: not through
        (98.90, 30),  # through: 30 @ 99.00
        (98.95, 100),  # the other 20
        (98.00, 100),
    ])
    h.run()
    got = [(f.last_qty, f.last_px, f.ts_event) for f in _fills(s)]
    assert got == [(30, h.px(99), h.bar_ts(3)), (20, h.px(99), h.bar_ts(4))]
    assert all(f.liquidity_side is LiquiditySide.MAKER for f in _fills(s))


def test_market_order_on_trades_fills_at_next_print() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.market(A, BUY, 10))}, kinds=("trades",))
    h.trades([(100.00, 100), (100.10, 100)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px("100.10")


def test_events_reach_the_strategy_in_lifecycle_order() -> None:
    h = Harness()
    s = h.strategy({0: _submit("o", lambda s: s.f.market(A, BUY, 10))})
    h.bars([QUIET, QUIET])
    h.run()
    assert [type(e).__name__ for e in s.events] == ["OrderSubmitted", "OrderAccepted", "OrderFilled", "PositionOpened"]
    assert isinstance(s.events[1], OrderAccepted) and s.events[1].venue_order_id == "SIM-1"


def test_latency_market_order_meets_only_later_quotes() -> None:
    h = Harness(latency_ns=30 * NANOS_PER_SECOND)
    s = h.strategy({0: _submit("o", lambda s: s.f.market(A, BUY, 10))}, kinds=("quotes",))
    h.quotes([(99.99, 100.01), (100.00, 100.02), (100.03, 100.05)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px("100.02") and f.ts_event == h.bar_ts(1)  # not the ask in force when sent


# -- latency --


def test_with_latency_a_marketable_limit_takes_at_the_touch_on_arrival() -> None:
    h = Harness(latency_ns=10 * NANOS_PER_SECOND)  # quotes come every minute: it arrives before the next

    def step0(s: Scripted, _q: object) -> None:
        s.saved["o"] = s.submit_order(s.f.limit(A, BUY, 10, "100.10"))

    s = h.strategy({0: step0}, kinds=("quotes",))
    h.quotes([(100.00, 100.20, 100, 100), (100.06, 100.08, 100, 100), (100.06, 100.08, 100, 100)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px("100.08") and f.liquidity_side is LiquiditySide.TAKER  # not 100.10 as a maker
    assert f.ts_event == h.bar_ts(1)


def test_with_latency_an_order_arriving_after_a_bar_opened_waits_for_the_next_bar() -> None:
    h = Harness(latency_ns=NANOS_PER_SECOND)

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.saved["o"] = s.submit_order(s.f.market(A, BUY, 10))

    s = h.strategy(script)
    h.bars([QUIET, (101, 102, 100, 101), (105, 106, 104, 105)])
    h.run()
    (f,) = _fills(s)
    assert f.last_px == h.px("105") and f.ts_event == h.bar_ts(2)  # bar 1 opened before the order arrived


# -- intra-bar path ambiguity --


def test_fill_is_flagged_ambiguous_when_a_bar_touches_both_exits_of_a_bracket() -> None:
    h = Harness()

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.submit_order_list(s.f.bracket(A, BUY, 10, take_profit="103.00", stop_loss="97.00"))

    s = h.strategy(script)
    # bar 1 fills the entry at its open; bar 2 spans both the take-profit and the stop
    h.bars([QUIET, QUIET, (100, 104, 96, 100), QUIET])
    h.run()
    entry, exit_ = _fills(s)
    assert not entry.ambiguous
    assert exit_.ambiguous  # which exit filled depends on whether the high or the low came first


def test_a_lone_limit_fill_is_not_ambiguous() -> None:
    h = Harness()

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.submit_order(s.f.limit(A, BUY, 10, "99.00"))

    s = h.strategy(script)
    h.bars([QUIET, (100, 104, 96, 100), QUIET])
    h.run()
    (f,) = _fills(s)
    assert not f.ambiguous


def test_day_order_sent_after_the_close_works_the_next_session_on_the_venue_calendar() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tradeforge.model.calendar import nyse_calendar

    ny = ZoneInfo("America/New_York")
    day = 24 * 3600 * NANOS_PER_SECOND
    close_1 = int(datetime(2024, 3, 5, 16, 0, tzinfo=ny).timestamp()) * NANOS_PER_SECOND  # a Tuesday close
    h = Harness(calendar=nyse_calendar())

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:  # decided on Tuesday's daily bar, stamped at its 16:00 close
            s.saved["o"] = s.submit_order(s.f.limit(A, BUY, 10, "90.00", time_in_force=TimeInForce.DAY))

    s = h.strategy(script)
    h.bars([QUIET, QUIET, (95, 95, 85, 88)], start=close_1, step=day)  # Wed quiet, Thu trades through
    h.run()
    (e,) = s.of(OrderExpired)
    close_2 = close_1 + day  # Wednesday's close: the session the order worked in
    assert e.ts_event == close_2
    assert not _fills(s)  # Thursday traded through 90, but the DAY order had expired on Wednesday


# -- a venue that is down or rejects --


def test_venue_down_rejects_new_orders_and_pauses_matching() -> None:
    h = Harness(down=((T0 + MINUTE, T0 + 3 * MINUTE),))  # down from bar 1 to just before bar 3

    def script(s: Scripted, i: int, _bar: object) -> None:
        if i == 0:
            s.saved["resting"] = s.submit_order(s.f.limit(A, BUY, 10, "99.00"))
        if i == 1:
            s.saved["while_down"] = s.submit_order(s.f.market(A, BUY, 5))

    s = h.strategy(script)
    h.bars([QUIET, (100, 100, 98, 99), (99, 99, 97, 98), (100, 100, 98, 99)])
    h.run()
    (rej,) = s.of(OrderRejected)
    assert rej.client_order_id == s.saved["while_down"].client_order_id and rej.reason == "venue is down"
    (f,) = _fills(s)  # bars 1 and 2 traded through 99 while the venue was down: no fill until bar 3
    assert f.client_order_id == s.saved["resting"].client_order_id and f.ts_event == h.bar_ts(3)


def test_random_rejects_are_seeded_and_reach_the_strategy() -> None:
    def run() -> list[str]:
        h = Harness(reject_rate=0.5)

        def script(s: Scripted, i: int, _bar: object) -> None:
            s.submit_order(s.f.limit(A, BUY, 1, "90.00"))

        s = h.strategy(script)
        h.bars([QUIET] * 40)
        h.run()
        return [e.client_order_id for e in s.of(OrderRejected)]

    first = run()
    assert 5 < len(first) < 35  # about half of 40
    assert run() == first  # same seed, same rejects
