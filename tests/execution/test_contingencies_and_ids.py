"""Contingent orders (bracket / OTO / OCO), reduce-only shrinking, idempotent ids, fill de-duplication
and refusal of invalid venue reports — all through the engine."""

from __future__ import annotations

import pytest

from tests.execution._harness import Harness, Scripted
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    PositionClosed,
    PositionOpened,
)
from tradeforge.model.orders import Order
from tradeforge.risk.checks import MaxOrderQuantity

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A = "AAA.SIM"
QUIET = (100, 100.5, 99.5, 100)


def _bracket(qty: int, entry_price: str | None = None):
    def step(s: Scripted, _b: object) -> None:
        entry, tp, sl = s.f.bracket(A, BUY, qty, take_profit="103.00", stop_loss="97.00", entry_price=entry_price)
        s.saved.update(entry=entry, tp=tp, sl=sl)
        s.submit_order_list([entry, tp, sl])

    return step


# -- brackets --


@pytest.mark.parametrize(("exit_bar", "winner", "loser", "exit_px"), [
    ((101, 103.5, 100.8, 103), "tp", "sl", "103.00"),  # take profit trades through 103
    ((99, 99.5, 96.5, 97), "sl", "tp", "97.00"),  # stop loss reaches 97
])
def test_bracket_exit_fill_cancels_sibling_and_flattens(exit_bar: tuple, winner: str, loser: str, exit_px: str) -> None:
    h = Harness()
    s = h.strategy({0: _bracket(10)})
    h.bars([QUIET, (100.2, 100.8, 99.8, 100.5), QUIET, exit_bar, (96, 106, 95, 100)])
    h.run()
    entry, win, lose = s.saved["entry"], s.saved[winner], s.saved[loser]
    assert entry.status is OrderStatus.FILLED
    # exits were released when the entry filled (bar 1), not before
    for child in (win, lose):
        (sub,) = s.of(OrderSubmitted, child.client_order_id)
        assert sub.ts_event == h.bar_ts(1)
        assert child.quantity == 10
    assert win.status is OrderStatus.FILLED
    assert lose.status is OrderStatus.CANCELED and lose.filled_qty == 0
    (exit_fill,) = s.of(OrderFilled, win.client_order_id)
    assert exit_fill.last_px == h.px(exit_px) and exit_fill.ts_event == h.bar_ts(3)
    pf = h.engine.portfolio
    assert pf.net_quantity(A) == 0
    (closed,) = s.of(PositionClosed)
    assert closed.realized_pnl == 10 * (h.px(exit_px) - h.px("100.2")) * h.inst().notional_factor
    assert h.engine.execution.open_orders() == []
    assert h.venue.working_orders(A) == []


def test_bracket_children_are_held_until_entry_fills_and_released_with_filled_qty() -> None:
    h = Harness(participation=0.5)
    snap: dict[str, object] = {}

    def script(s: Scripted, i: int, bar: object) -> None:
        if i == 0:
            _bracket(100, entry_price="101.00")(s, bar)
            snap["status0"] = (s.saved["tp"].status, s.saved["sl"].status)
        if i == 1:
            snap["qty1"] = (s.saved["tp"].quantity, s.saved["sl"].quantity)
            snap["status1"] = (s.saved["tp"].status, s.saved["sl"].status)

    s = h.strategy(script)
    h.bars([QUIET, (100.5, 101, 100, 100.5, 60), (100.5, 101, 100, 100.5, 400), QUIET])
    h.run()
    assert snap["status0"] == (OrderStatus.INITIALIZED, OrderStatus.INITIALIZED)
    assert [o.client_order_id for o in h.sent][:1] == [s.saved["entry"].client_order_id]
    assert snap["qty1"] == (30, 30)  # released with the 30 filled on bar 1
    assert snap["status1"] == (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED)
    assert s.saved["entry"].status is OrderStatus.FILLED
    assert s.saved["tp"].quantity == 100 and s.saved["sl"].quantity == 100  # grown with the later fill
    assert s.saved["tp"].status is OrderStatus.ACCEPTED


def test_bracket_entry_denied_cancels_children() -> None:
    h = Harness(risk_checks=[MaxOrderQuantity(5 * 10**9, {})])
    s = h.strategy({0: _bracket(10)})
    h.bars([QUIET, QUIET, (101, 104, 96, 100)])
    h.run()
    entry, tp, sl = s.saved["entry"], s.saved["tp"], s.saved["sl"]
    assert entry.status is OrderStatus.DENIED
    (d,) = s.of(OrderDenied)
    assert d.reason.startswith("max_order_quantity:")
    for child in (tp, sl):
        assert child.status is OrderStatus.CANCELED
        (c,) = s.of(OrderCanceled, child.client_order_id)
        assert c.reason == "parent denied"
    assert h.sent == []
    assert not s.of(OrderFilled)


def test_bracket_entry_canceled_unfilled_cancels_held_children() -> None:
    h = Harness()
    s = h.strategy({0: _bracket(10, entry_price="95.00"), 1: lambda s, _b: s.cancel_order(s.saved["entry"])})
    h.bars([QUIET, QUIET, (96, 96, 90, 92)])
    h.run()
    assert s.saved["entry"].status is OrderStatus.CANCELED
    assert s.saved["tp"].status is OrderStatus.CANCELED and s.saved["sl"].status is OrderStatus.CANCELED
    assert [o.client_order_id for o in h.sent] == [s.saved["entry"].client_order_id]


def test_oto_child_canceled_while_held_is_never_sent() -> None:
    h = Harness()

    def step0(s: Scripted, _b: object) -> None:
        parent = s.f.limit(A, BUY, 10, "99.00")
        child = s.f.limit(A, SELL, 10, "105.00")
        s.saved.update(parent=parent, child=child)
        s.submit_order_list(s.f.oto(parent, child))
        s.cancel_order(child)

    s = h.strategy({0: step0})
    h.bars([QUIET, (99.5, 100, 98, 99)])
    h.run()
    assert s.saved["parent"].status is OrderStatus.FILLED
    assert s.saved["child"].status is OrderStatus.CANCELED
    assert s.saved["child"] not in h.sent


# -- OCO --


def test_oco_partial_fill_reduces_sibling_then_full_fill_cancels_it() -> None:
    h = Harness(participation=0.3)
    snap: dict[str, object] = {}

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            a = s.f.limit(A, BUY, 100, "99.00")
            b = s.f.stop_market(A, BUY, 100, "102.00")
            s.saved.update(a=a, b=b)
            s.submit_order_list(s.f.oco(a, b))
        elif i == 1:
            snap["b1"] = (s.saved["b"].quantity, s.saved["b"].status)

    s = h.strategy(script)
    h.bars([QUIET, (100, 101, 98, 100, 100), (100, 101, 98.5, 100, 1000), (101, 104, 100, 103)])
    h.run()
    a, b = s.saved["a"], s.saved["b"]
    assert snap["b1"] == (70, OrderStatus.ACCEPTED)  # 100 - 30 filled on the sibling
    assert a.status is OrderStatus.FILLED and a.filled_qty == 100
    assert b.status is OrderStatus.CANCELED and b.filled_qty == 0
    assert h.engine.portfolio.net_quantity(A) == 100  # the stop never fired on bar 3


def test_oco_cancel_of_one_cancels_the_other() -> None:
    h = Harness()

    def step0(s: Scripted, _b: object) -> None:
        a, b = s.f.limit(A, BUY, 10, "95.00"), s.f.limit(A, SELL, 10, "105.00")
        s.saved.update(a=a, b=b)
        s.submit_order_list(s.f.oco(a, b))

    s = h.strategy({0: step0, 1: lambda s, _b: s.cancel_order(s.saved["a"])})
    h.bars([QUIET, QUIET, (100, 106, 94, 100)])
    h.run()
    assert s.saved["a"].status is OrderStatus.CANCELED and s.saved["b"].status is OrderStatus.CANCELED
    assert not s.of(OrderFilled)


# -- reduce-only shrinking --


def test_reduce_only_order_shrinks_then_cancels_as_the_position_shrinks() -> None:
    h = Harness()
    snap: dict[str, object] = {}

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 10))
        elif i == 1:
            s.saved["ro"] = s.submit_order(s.f.limit(A, SELL, 10, "110.00", reduce_only=True))
            s.submit_order(s.f.market(A, SELL, 4))
        elif i == 2:
            snap["qty2"] = s.saved["ro"].quantity
            s.submit_order(s.f.market(A, SELL, 6))

    s = h.strategy(script)
    h.bars([QUIET] * 4)
    h.run()
    assert snap["qty2"] == 6
    assert s.saved["ro"].status is OrderStatus.CANCELED
    assert h.engine.portfolio.net_quantity(A) == 0


def test_reduce_only_order_on_the_wrong_side_after_a_flip_is_canceled() -> None:
    # long 10, reduce-only sell 10 resting; another sell of 15 flips the position to short 5: the resting
    # reduce-only sell would now add to the short, so it must be canceled (not left working)
    h = Harness()

    def at1(s: Scripted, _b: object) -> None:
        s.saved["ro"] = s.submit_order(s.f.limit(A, SELL, 10, "101.00", reduce_only=True))
        s.submit_order(s.f.market(A, SELL, 15))

    s = h.strategy({0: _mkt_buy10, 1: at1})
    h.bars([QUIET, QUIET, QUIET, (100, 102, 99.5, 101)])  # bar 3 trades through 101
    h.run()
    assert s.saved["ro"].status is OrderStatus.CANCELED and s.saved["ro"].filled_qty == 0
    assert h.engine.portfolio.net_quantity(A) == -5
    assert h.errors == []


def _mkt_buy10(s: Scripted, _b: object) -> None:
    s.submit_order(s.f.market(A, BUY, 10))


# -- client order ids --


def test_submitting_the_same_order_twice_creates_one_order() -> None:
    h = Harness()

    def step0(s: Scripted, _b: object) -> None:
        o = s.f.market(A, BUY, 10)
        s.saved["o"] = o
        s.saved["again"] = s.submit_order(o)
        s.saved["third"] = s.submit_order(o)

    s = h.strategy({0: step0})
    h.bars([QUIET, QUIET])
    h.run()
    o = s.saved["o"]
    assert s.saved["again"] is o and s.saved["third"] is o
    assert list(h.engine.execution.orders) == [o.client_order_id]
    assert h.sent == [o]
    assert len(s.of(OrderSubmitted)) == 1 and len(s.of(OrderFilled)) == 1
    assert h.engine.portfolio.net_quantity(A) == 10
    assert h.errors == []


def test_a_different_order_reusing_an_id_is_ignored_with_an_error() -> None:
    h = Harness()

    def step0(s: Scripted, _b: object) -> None:
        first = s.submit_order(s.f.market(A, BUY, 10))
        impostor = Order(first.client_order_id, s.id, A, SELL, OrderType.MARKET, 99, s.clock.timestamp_ns())
        s.saved.update(first=first, impostor=impostor, returned=s.submit_order(impostor))

    s = h.strategy({0: step0})
    h.bars([QUIET, QUIET])
    h.run()
    first, impostor = s.saved["first"], s.saved["impostor"]
    assert s.saved["returned"] is first
    assert impostor.status is OrderStatus.INITIALIZED and impostor not in h.sent
    assert h.engine.execution.order(first.client_order_id) is first
    (err,) = h.errors
    assert err.source == "execution" and "already used" in err.message
    assert h.engine.execution.errors == [err]
    assert h.engine.portfolio.net_quantity(A) == 10


def test_an_order_list_reusing_a_taken_id_is_ignored_with_an_error() -> None:
    h = Harness()

    def step0(s: Scripted, _b: object) -> None:
        first = s.submit_order(s.f.market(A, BUY, 10))
        impostor = Order(first.client_order_id, s.id, A, SELL, OrderType.LIMIT, 7, s.clock.timestamp_ns(),
                         price=h.px(99))
        other = s.f.limit(A, SELL, 7, "101.00")
        s.submit_order_list(s.f.oco(impostor, other))
        s.saved.update(first=first, impostor=impostor, other=other)

    s = h.strategy({0: step0})
    h.bars([QUIET, QUIET, QUIET])
    h.run()
    assert h.sent == [s.saved["first"]]
    assert s.saved["impostor"].status is OrderStatus.INITIALIZED
    assert s.saved["other"].status is OrderStatus.INITIALIZED
    assert h.engine.execution.order(s.saved["other"].client_order_id) is None
    (err,) = h.errors
    assert err.source == "execution" and "already used" in err.message
    assert s.saved["first"].status is OrderStatus.FILLED


def test_resubmitting_the_same_order_list_changes_nothing() -> None:
    h = Harness()

    def step0(s: Scripted, b: object) -> None:
        _bracket(10)(s, b)
        s.submit_order_list([s.saved["entry"], s.saved["tp"], s.saved["sl"]])

    h.strategy({0: step0})
    h.bars([QUIET, QUIET, QUIET])
    h.run()
    assert [o.client_order_id for o in h.sent] == ["S-1", "S-2", "S-3"]
    assert h.errors == []


# -- venue reports --


def _fill(o: Order, exec_id: str, qty: int, px: int, ts: int) -> OrderFilled:
    return OrderFilled(
        o.client_order_id, o.strategy_id, o.instrument_id, ts, ts, venue_order_id=o.venue_order_id,
        execution_id=exec_id, side=o.side, last_qty=qty, last_px=px, currency="USD",
    )


def test_duplicate_fill_is_applied_once() -> None:
    h = Harness()

    def step1(s: Scripted, _b: object) -> None:
        o = s.saved["o"]
        report = _fill(o, "EXT-1", 4, h.px(99), s.clock.timestamp_ns())
        h.engine.execution.handle_report(report)
        h.engine.execution.handle_report(report)

    s = h.strategy({0: lambda s, _b: s.saved.__setitem__("o", s.submit_order(s.f.limit(A, BUY, 10, "95.00"))),
                    1: step1})
    h.bars([QUIET, QUIET, QUIET])
    h.run()
    o = s.saved["o"]
    assert o.filled_qty == 4 and o.status is OrderStatus.PARTIALLY_FILLED
    assert h.engine.execution.duplicate_fills == 1
    assert [f.execution_id for f in h.engine.execution.fills] == ["EXT-1"]
    assert len(s.of(OrderFilled)) == 1 and len(s.of(PositionOpened)) == 1
    assert h.engine.portfolio.net_quantity(A) == 4
    assert h.engine.portfolio.cash == h.engine.portfolio.starting_cash - 4 * h.px(99) * h.inst().notional_factor


def test_redelivered_venue_fill_is_ignored() -> None:
    h = Harness()
    s = h.strategy({0: lambda s, _b: s.submit_order(s.f.limit(A, BUY, 10, "100.20"))})
    h.bars([QUIET, QUIET])
    h.run()
    (f,) = h.engine.execution.fills
    cash = h.engine.portfolio.cash
    h.engine.execution.handle_report(f)
    assert h.engine.execution.duplicate_fills == 1
    assert h.engine.portfolio.net_quantity(A) == 10 and h.engine.portfolio.cash == cash
    assert len(s.of(OrderFilled)) == 1


@pytest.mark.parametrize("case", ["fill_canceled", "accept_filled", "overfill", "fill_initialized"])
def test_invalid_transition_from_venue_report_is_refused_and_published(case: str) -> None:
    h = Harness()
    bus_errors: list[object] = []
    h.engine.bus.subscribe("events.error", bus_errors.append)

    def step0(s: Scripted, _b: object) -> None:
        s.saved["resting"] = s.submit_order(s.f.limit(A, BUY, 10, "95.00"))
        s.saved["filled"] = s.submit_order(s.f.market(A, BUY, 5))
        held = s.f.limit(A, SELL, 5, "120.00")
        parent = s.f.limit(A, BUY, 5, "90.00")
        s.submit_order_list(s.f.oto(parent, held))
        s.saved["held"] = held

    def step2(s: Scripted, _b: object) -> None:
        now = s.clock.timestamp_ns()
        if case == "fill_canceled":
            s.cancel_order(s.saved["resting"])
            target, report = s.saved["resting"], _fill(s.saved["resting"], "FAKE-1", 10, h.px(95), now)
        elif case == "accept_filled":
            f = s.saved["filled"]
            target, report = f, OrderAccepted(f.client_order_id, s.id, A, now, now, venue_order_id="X")
        elif case == "overfill":
            target, report = s.saved["resting"], _fill(s.saved["resting"], "FAKE-2", 11, h.px(95), now)
        else:
            target, report = s.saved["held"], _fill(s.saved["held"], "FAKE-3", 5, h.px(120), now)
        s.saved["target"] = target
        s.saved["before"] = (target.status, target.filled_qty, len(target.events), len(s.events))
        s.saved["cash"] = h.engine.portfolio.cash
        h.engine.execution.handle_report(report)
        s.saved["after"] = (target.status, target.filled_qty, len(target.events), len(s.events))

    s = h.strategy({0: step0, 2: step2})
    h.bars([QUIET, QUIET, QUIET, QUIET])
    h.run()
    assert s.saved["after"] == s.saved["before"]
    assert h.engine.portfolio.cash == s.saved["cash"]
    (err,) = h.engine.execution.errors
    assert err.source == "order"
    assert bus_errors == [err]
    assert s.saved["target"].client_order_id in err.message
    assert h.engine.portfolio.net_quantity(A) == 5  # only the genuine market fill


def test_report_for_unknown_order_is_an_error() -> None:
    h = Harness()
    h.strategy()
    h.bars([QUIET])
    h.run()
    h.engine.execution.handle_report(OrderCanceled("nope-1", "S", A, 0, 0))
    (err,) = h.errors
    assert err.source == "venue" and "unknown order" in err.message
