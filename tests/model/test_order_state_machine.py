"""The order state machine, exhaustively: every (status, event type) pair, fills, updates, restores,
random event sequences, constructor validation and the order factory."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.model.enums import (
    TERMINAL_STATUSES,
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from tradeforge.model.fixed import FixedPointError
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.model.order_factory import OrderFactory
from tradeforge.model.orders import (
    _RESTORE,
    ORDER_EVENT_TYPES,
    ORDER_STATE_TABLE,
    InvalidOrderTransition,
    Order,
    _PartialFill,
)

QTY = 10
S = OrderStatus
PENDING = (S.PENDING_UPDATE, S.PENDING_CANCEL)
_ts = itertools.count(1_000)


def make_order(order_type: OrderType = OrderType.STOP_LIMIT, qty: int = QTY, coid: str = "S-1") -> Order:
    kwargs: dict[str, Any] = {}
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        kwargs["price"] = 100
    if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.MARKET_IF_TOUCHED):
        kwargs["trigger_price"] = 99
    if order_type is OrderType.TRAILING_STOP_MARKET:
        kwargs["trailing_offset"] = 5
    return Order(coid, "S", "AAPL.XNAS", OrderSide.BUY, order_type, qty, 1, **kwargs)


def ev(order: Order, etype: type, **kwargs: Any) -> Any:
    """An event of ``etype`` for ``order``; ``_PartialFill`` builds a fill that leaves quantity open and
    ``OrderFilled`` (without ``last_qty``) a fill of the whole leaves quantity."""
    ts = next(_ts)
    common = {"client_order_id": order.client_order_id, "strategy_id": "S", "instrument_id": order.instrument_id}
    if etype is _PartialFill:
        kwargs.setdefault("last_qty", 1)
        etype = OrderFilled
    if etype is OrderFilled:
        kwargs.setdefault("last_qty", order.leaves_qty)
        kwargs.setdefault("last_px", 100)
        kwargs.setdefault("execution_id", f"E{ts}")
    if etype is OrderUpdated and not kwargs:
        kwargs["price"] = 101
    return etype(**common, ts_event=ts, ts_init=ts, **kwargs)


def snapshot(order: Order) -> tuple:
    return (
        order.status,
        order.previous_status,
        order.filled_qty,
        order.fill_cost_raw,
        len(order.events),
        order.quantity,
        order.price,
        order.trigger_price,
        order.venue_order_id,
        order.ts_last,
    )


#: legal paths from INITIALIZED to each status
PATHS: dict[OrderStatus, list[Any]] = {
    S.INITIALIZED: [],
    S.DENIED: [OrderDenied],
    S.SUBMITTED: [OrderSubmitted],
    S.ACCEPTED: [OrderSubmitted, OrderAccepted],
    S.REJECTED: [OrderSubmitted, OrderRejected],
    S.TRIGGERED: [OrderSubmitted, OrderAccepted, OrderTriggered],
    S.PENDING_UPDATE: [OrderSubmitted, OrderAccepted, OrderPendingUpdate],
    S.PENDING_CANCEL: [OrderSubmitted, OrderAccepted, OrderPendingCancel],
    S.PARTIALLY_FILLED: [OrderSubmitted, OrderAccepted, (OrderFilled, 4)],
    S.FILLED: [OrderSubmitted, OrderAccepted, OrderFilled],
    S.CANCELED: [OrderSubmitted, OrderAccepted, OrderCanceled],
    S.EXPIRED: [OrderSubmitted, OrderAccepted, OrderExpired],
}


def drive(order: Order, status: OrderStatus) -> Order:
    for step in PATHS[status]:
        if isinstance(step, tuple):
            order.apply(ev(order, step[0], last_qty=step[1]))
        else:
            order.apply(ev(order, step))
    assert order.status is status
    return order


def set_status(order: Order, status: OrderStatus) -> Order:
    """Put ``order`` in ``status`` directly, with a consistent fill state and previous status."""
    order.status = status
    if status is S.PARTIALLY_FILLED:
        order.filled_qty, order.fill_cost_raw = 4, 400
    elif status is S.FILLED:
        order.filled_qty, order.fill_cost_raw = QTY, QTY * 100
    if status in PENDING:
        order.previous_status = S.ACCEPTED
    return order


def expected_status(order: Order, etype: type) -> OrderStatus | None:
    nxt = ORDER_STATE_TABLE.get((order.status, etype))
    if nxt is None:
        return None
    return order.previous_status if nxt == _RESTORE else nxt  # type: ignore[return-value]


def check_pair(order: Order, etype: type) -> None:
    status = order.status
    expected = expected_status(order, etype)
    # a fill that cannot fit (leaves 0 in FILLED) is refused whatever the table says
    fill_impossible = etype in (OrderFilled, _PartialFill) and order.leaves_qty <= (1 if etype is _PartialFill else 0)
    event = ev(order, etype)
    if expected is None or fill_impossible:
        before = snapshot(order)
        with pytest.raises(InvalidOrderTransition):
            order.apply(event)
        assert snapshot(order) == before
        assert (status, etype) not in ORDER_STATE_TABLE or fill_impossible
    else:
        filled_before = order.filled_qty
        n_events = len(order.events)
        order.apply(event)
        assert order.status is expected
        assert len(order.events) == n_events + 1 and order.events[-1] is event
        assert order.ts_last == event.ts_event
        if etype in (OrderFilled, _PartialFill):
            assert order.filled_qty == filled_before + event.last_qty
        else:
            assert order.filled_qty == filled_before


ALL_PAIRS = list(itertools.product(list(OrderStatus), ORDER_EVENT_TYPES))


@pytest.mark.parametrize(("status", "etype"), ALL_PAIRS, ids=[f"{s.value}-{e.__name__}" for s, e in ALL_PAIRS])
def test_table_exhaustive_status_set_directly(status: OrderStatus, etype: type) -> None:
    check_pair(set_status(make_order(), status), etype)


@pytest.mark.parametrize(("status", "etype"), ALL_PAIRS, ids=[f"{s.value}-{e.__name__}" for s, e in ALL_PAIRS])
def test_table_exhaustive_status_driven_by_events(status: OrderStatus, etype: type) -> None:
    check_pair(drive(make_order(), status), etype)


def test_table_covers_known_statuses_and_events_only() -> None:
    assert {s for s, _ in ORDER_STATE_TABLE} <= set(OrderStatus) - TERMINAL_STATUSES
    assert {e for _, e in ORDER_STATE_TABLE} <= set(ORDER_EVENT_TYPES)
    for (status, _), target in ORDER_STATE_TABLE.items():
        assert target == _RESTORE or isinstance(target, OrderStatus)
        if target == _RESTORE:
            assert status in PENDING
    # every non-terminal status can reach at least one other status, terminal ones none
    for status in OrderStatus:
        has_exit = any(s is status for s, _ in ORDER_STATE_TABLE)
        assert has_exit == (status not in TERMINAL_STATUSES)


@pytest.mark.parametrize("previous", [S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED])
@pytest.mark.parametrize(
    ("pending", "answer"),
    [
        (S.PENDING_UPDATE, OrderUpdated),
        (S.PENDING_UPDATE, OrderModifyRejected),
        (S.PENDING_CANCEL, OrderCancelRejected),
    ],
)
def test_restore_rows_resolve_to_previous_status(previous: OrderStatus, pending: OrderStatus, answer: type) -> None:
    order = set_status(make_order(), previous)
    order.apply(ev(order, OrderPendingUpdate if pending is S.PENDING_UPDATE else OrderPendingCancel))
    assert order.status is pending and order.previous_status is previous
    order.apply(ev(order, answer))
    assert order.status is previous


# -- pending update / cancel -------------------------------------------------------------------


def test_pending_update_then_updated_restores_and_applies() -> None:
    order = drive(make_order(), S.TRIGGERED)
    order.apply(ev(order, OrderPendingUpdate))
    assert order.status is S.PENDING_UPDATE
    order.apply(ev(order, OrderUpdated, quantity=12, price=105, trigger_price=98))
    assert order.status is S.TRIGGERED
    assert (order.quantity, order.price, order.trigger_price) == (12, 105, 98)


def test_pending_update_then_cancel_request_then_refused_restores_original() -> None:
    order = drive(make_order(), S.ACCEPTED)
    order.apply(ev(order, OrderPendingUpdate))
    order.apply(ev(order, OrderPendingCancel))
    assert order.status is S.PENDING_CANCEL
    assert order.previous_status is S.ACCEPTED  # not PENDING_UPDATE
    order.apply(ev(order, OrderCancelRejected))
    assert order.status is S.ACCEPTED


def test_pending_cancel_then_partial_fill_then_cancel() -> None:
    order = drive(make_order(), S.PENDING_CANCEL)
    order.apply(ev(order, _PartialFill, last_qty=3))
    assert order.status is S.PARTIALLY_FILLED and order.filled_qty == 3
    order.apply(ev(order, OrderCanceled))
    assert order.status is S.CANCELED and order.filled_qty == 3 and order.is_closed


def test_pending_update_of_unacked_order_then_accepted() -> None:
    order = drive(make_order(), S.SUBMITTED)
    order.apply(ev(order, OrderPendingUpdate))
    order.apply(ev(order, OrderAccepted, venue_order_id="V1"))
    assert order.status is S.ACCEPTED and order.venue_order_id == "V1"
    order.apply(ev(order, OrderUpdated, price=102))  # the late answer to the modify
    assert order.status is S.ACCEPTED and order.price == 102


def test_late_ack_during_pending_cancel_then_cancel_refused_restores_accepted() -> None:
    order = drive(make_order(), S.SUBMITTED)
    order.apply(ev(order, OrderPendingCancel))
    assert order.previous_status is S.SUBMITTED
    order.apply(ev(order, OrderAccepted, venue_order_id="V9"))
    assert order.status is S.PENDING_CANCEL and order.venue_order_id == "V9"
    order.apply(ev(order, OrderCancelRejected))
    assert order.status is S.ACCEPTED  # the venue acked it: the order is working, not merely submitted
    order.apply(ev(order, OrderTriggered))
    assert order.status is S.TRIGGERED


# -- fills -------------------------------------------------------------------------------------


def test_partial_then_full_fill_updates_filled_qty_and_avg_px() -> None:
    order = drive(make_order(), S.ACCEPTED)
    assert order.avg_px is None and order.leaves_qty == QTY
    order.apply(ev(order, OrderFilled, last_qty=4, last_px=100, venue_order_id="V1", position_id="P1"))
    assert order.status is S.PARTIALLY_FILLED
    assert (order.filled_qty, order.leaves_qty, order.avg_px) == (4, 6, 100.0)
    assert order.venue_order_id == "V1" and order.position_id == "P1"
    order.apply(ev(order, OrderFilled, last_qty=6, last_px=110, position_id="P2"))
    assert order.status is S.FILLED and order.is_closed and not order.is_open
    assert (order.filled_qty, order.leaves_qty, order.fill_cost_raw) == (10, 0, 1060)
    assert order.avg_px == pytest.approx(106.0)
    assert order.position_id == "P1"  # the first position id sticks


def test_submitted_order_may_be_filled_without_ack() -> None:
    order = drive(make_order(), S.SUBMITTED)
    order.apply(ev(order, OrderFilled, last_qty=QTY))
    assert order.status is S.FILLED


@pytest.mark.parametrize(
    "status", [S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PENDING_UPDATE, S.PENDING_CANCEL, S.PARTIALLY_FILLED]
)
@pytest.mark.parametrize("last_qty", [0, -1, "overfill"])
def test_zero_negative_and_overfill_rejected(status: OrderStatus, last_qty: Any) -> None:
    order = drive(make_order(), status)
    qty = order.leaves_qty + 1 if last_qty == "overfill" else last_qty
    before = snapshot(order)
    with pytest.raises(InvalidOrderTransition, match="does not fit"):
        order.apply(ev(order, OrderFilled, last_qty=qty))
    assert snapshot(order) == before


def test_filled_order_accepts_no_more_fills() -> None:
    order = drive(make_order(), S.FILLED)
    with pytest.raises(InvalidOrderTransition):
        order.apply(ev(order, OrderFilled, last_qty=1))
    assert order.filled_qty == QTY


def test_event_for_another_order_refused() -> None:
    order = drive(make_order(), S.ACCEPTED)
    other = make_order(coid="S-2")
    before = snapshot(order)
    with pytest.raises(InvalidOrderTransition, match="S-2"):
        order.apply(ev(other, OrderCanceled))
    assert snapshot(order) == before


# -- updates -----------------------------------------------------------------------------------


def test_updated_changes_only_given_fields() -> None:
    order = drive(make_order(), S.ACCEPTED)
    order.apply(ev(order, OrderUpdated, quantity=20))
    assert (order.quantity, order.price, order.trigger_price) == (20, 100, 99)
    order.apply(ev(order, OrderUpdated, price=103))
    assert (order.quantity, order.price, order.trigger_price) == (20, 103, 99)
    order.apply(ev(order, OrderUpdated, trigger_price=97))
    assert (order.quantity, order.price, order.trigger_price) == (20, 103, 97)
    assert order.status is S.ACCEPTED


@pytest.mark.parametrize("new_qty", [4, 3, 0])
def test_updated_refuses_quantity_not_above_filled(new_qty: int) -> None:
    order = drive(make_order(), S.PARTIALLY_FILLED)  # filled 4
    before = snapshot(order)
    with pytest.raises(InvalidOrderTransition, match="not above filled"):
        order.apply(ev(order, OrderUpdated, quantity=new_qty, price=150))
    assert snapshot(order) == before
    order.apply(ev(order, OrderUpdated, quantity=5))
    assert order.quantity == 5 and order.leaves_qty == 1 and order.status is S.PARTIALLY_FILLED


def test_updated_in_pending_update_refused_quantity_keeps_pending() -> None:
    order = drive(make_order(), S.PARTIALLY_FILLED)
    order.apply(ev(order, OrderPendingUpdate))
    before = snapshot(order)
    with pytest.raises(InvalidOrderTransition):
        order.apply(ev(order, OrderUpdated, quantity=4))
    assert snapshot(order) == before and order.status is S.PENDING_UPDATE


# -- random sequences ----------------------------------------------------------------------------

TARGETS = {t for t in ORDER_STATE_TABLE.values() if isinstance(t, OrderStatus)}

event_specs = st.one_of(
    st.sampled_from([e for e in ORDER_EVENT_TYPES if e not in (OrderFilled, _PartialFill, OrderUpdated)]).map(
        lambda e: (e, {})
    ),
    st.integers(min_value=-1, max_value=QTY + 2).map(lambda q: (OrderFilled, {"last_qty": q})),
    st.tuples(st.none() | st.integers(min_value=0, max_value=QTY + 5), st.none() | st.integers(90, 110)).map(
        lambda t: (OrderUpdated, {"quantity": t[0], "price": t[1]})
    ),
)


def check_invariants(order: Order) -> None:
    assert order.status in TARGETS or order.status is S.INITIALIZED
    assert 0 <= order.filled_qty <= order.quantity
    assert order.previous_status not in PENDING
    if order.status is S.FILLED:
        assert order.filled_qty == order.quantity
    if order.status is S.PARTIALLY_FILLED:
        assert 0 < order.filled_qty < order.quantity
    if order.status is S.INITIALIZED:
        assert order.filled_qty == 0


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(event_specs, max_size=40), order_type=st.sampled_from(list(OrderType)))
def test_random_event_sequences_respect_the_table(specs: list[tuple[type, dict]], order_type: OrderType) -> None:
    order = make_order(order_type)
    applied = 0
    for etype, kwargs in specs:
        event = ev(order, etype, **kwargs)
        before = snapshot(order)
        was_terminal = order.status in TERMINAL_STATUSES
        try:
            order.apply(event)
        except InvalidOrderTransition:
            assert snapshot(order) == before
        else:
            applied += 1
            assert not was_terminal, f"{order.status} accepted {etype.__name__}"
            assert order.events[-1] is event
        assert len(order.events) == applied
        check_invariants(order)
    if order.status in TERMINAL_STATUSES:
        for etype in ORDER_EVENT_TYPES:
            before = snapshot(order)
            with pytest.raises(InvalidOrderTransition):
                order.apply(ev(order, etype))
            assert snapshot(order) == before


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_walk_over_legal_events(data: st.DataObject) -> None:
    """Walk the table choosing only events it allows: every step must succeed and land on the table's target."""
    order = make_order()
    for _ in range(25):
        allowed = [e for (s, e) in ORDER_STATE_TABLE if s is order.status]
        if not allowed:
            assert order.status in TERMINAL_STATUSES
            break
        etype = data.draw(st.sampled_from(allowed))
        if etype is _PartialFill and order.leaves_qty < 2:
            continue
        kwargs: dict[str, Any] = {}
        if etype is _PartialFill:
            kwargs["last_qty"] = data.draw(st.integers(1, order.leaves_qty - 1))
        expected = expected_status(order, etype)
        order.apply(ev(order, etype, **kwargs))
        assert order.status is expected
        check_invariants(order)


# -- constructor validation ------------------------------------------------------------------------


def new(order_type: OrderType, **kwargs: Any) -> Order:
    qty = kwargs.pop("qty", 1)
    return Order("S-1", "S", "AAPL.XNAS", OrderSide.SELL, order_type, qty, 0, **kwargs)


@pytest.mark.parametrize(
    ("order_type", "kwargs", "match"),
    [
        (OrderType.LIMIT, {}, "needs a price"),
        (OrderType.STOP_LIMIT, {"trigger_price": 5}, "needs a price"),
        (OrderType.MARKET, {"price": 5}, "takes no price"),
        (OrderType.STOP_MARKET, {"price": 5, "trigger_price": 5}, "takes no price"),
        (OrderType.STOP_MARKET, {}, "needs a trigger"),
        (OrderType.STOP_LIMIT, {"price": 5}, "needs a trigger"),
        (OrderType.MARKET_IF_TOUCHED, {}, "needs a trigger"),
        (OrderType.TRAILING_STOP_MARKET, {}, "trailing offset"),
        (OrderType.TRAILING_STOP_MARKET, {"trailing_offset": 0}, "trailing offset"),
        (OrderType.LIMIT, {"price": 5, "time_in_force": TimeInForce.GTD}, "GTD"),
        (OrderType.MARKET, {"post_only": True}, "post-only"),
        (OrderType.STOP_LIMIT, {"price": 5, "trigger_price": 5, "post_only": True}, "post-only"),
        (OrderType.MARKET, {"qty": 0}, "quantity must be positive"),
        (OrderType.LIMIT, {"price": 5, "qty": -3}, "quantity must be positive"),
    ],
)
def test_constructor_validation(order_type: OrderType, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        new(order_type, **kwargs)


def test_constructor_valid_orders() -> None:
    assert new(OrderType.MARKET).price is None
    limit = new(OrderType.LIMIT, price=5, post_only=True, time_in_force=TimeInForce.GTD, expire_time_ns=10)
    assert limit.post_only and limit.expire_time_ns == 10
    assert new(OrderType.STOP_LIMIT, price=5, trigger_price=6).trigger_price == 6
    assert new(OrderType.TRAILING_STOP_MARKET, trailing_offset=3).trailing_offset == 3
    order = new(OrderType.MARKET, qty=7)
    assert order.status is S.INITIALIZED and order.filled_qty == 0 and order.events == []
    assert not order.is_open and not order.is_closed and order.signed_side == -1
    assert "S-1" in repr(order) and "INITIALIZED" in repr(order)


# -- order factory ---------------------------------------------------------------------------------


@pytest.fixture
def provider() -> InstrumentProvider:
    return InstrumentProvider(
        [
            instrument_from_dict(
                {"id": "AAPL.XNAS", "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"}, "t"
            )
        ]
    )


def factory(provider: InstrumentProvider, start: int = 0) -> OrderFactory:
    return OrderFactory("EMA", provider.get, lambda: 42, start_count=start)


def test_factory_ids_sequential_and_deterministic(provider: InstrumentProvider) -> None:
    def run(f: OrderFactory) -> list[str]:
        return [
            f.market("AAPL.XNAS", OrderSide.BUY, 10).client_order_id,
            f.limit("AAPL.XNAS", OrderSide.SELL, "5", "101.25").client_order_id,
            f.stop_market("AAPL.XNAS", OrderSide.SELL, 5, "99.50").client_order_id,
            f.stop_limit("AAPL.XNAS", OrderSide.SELL, 5, "99.40", "99.50").client_order_id,
            f.market_if_touched("AAPL.XNAS", OrderSide.BUY, 5, "98").client_order_id,
            f.trailing_stop_market("AAPL.XNAS", OrderSide.SELL, 5, "0.50").client_order_id,
        ]

    ids = run(factory(provider))
    assert ids == [f"EMA-{n}" for n in range(1, 7)]
    assert run(factory(provider)) == ids
    assert run(factory(provider, start=100))[0] == "EMA-101"


def test_factory_converts_and_validates(provider: InstrumentProvider) -> None:
    f = factory(provider)
    order = f.limit("AAPL.XNAS", OrderSide.BUY, 10, "101.25", post_only=True)
    assert (order.price, order.quantity, order.ts_init, order.strategy_id) == (10125, 10, 42, "EMA")
    assert order.instrument_id == "AAPL.XNAS" and order.order_type is OrderType.LIMIT
    stop = f.stop_limit("AAPL.XNAS", OrderSide.SELL, 1, "99.40", "99.50")
    assert (stop.price, stop.trigger_price) == (9940, 9950)
    trail = f.trailing_stop_market("AAPL.XNAS", OrderSide.SELL, 1, "0.5")
    assert trail.trailing_offset == 50 and trail.trigger_price is None
    with pytest.raises(FixedPointError, match=r"AAPL\.XNAS"):
        f.limit("AAPL.XNAS", OrderSide.BUY, 10, "101.255")
    with pytest.raises(FixedPointError, match=r"AAPL\.XNAS"):
        f.market("AAPL.XNAS", OrderSide.BUY, "1.5")


def test_factory_bracket_links(provider: InstrumentProvider) -> None:
    f = factory(provider)
    entry, tp, sl = f.bracket("AAPL.XNAS", OrderSide.BUY, 10, take_profit="110", stop_loss="95", entry_price="100")
    assert [o.client_order_id for o in (entry, tp, sl)] == ["EMA-1", "EMA-2", "EMA-3"]
    assert entry.order_type is OrderType.LIMIT and entry.price == 10000 and entry.side is OrderSide.BUY
    assert tp.order_type is OrderType.LIMIT and tp.price == 11000 and tp.side is OrderSide.SELL and tp.reduce_only
    assert sl.order_type is OrderType.STOP_MARKET and sl.trigger_price == 9500 and sl.side is OrderSide.SELL
    assert sl.reduce_only
    assert entry.order_list_id == tp.order_list_id == sl.order_list_id == "EMA-L1"
    assert entry.contingency_type is ContingencyType.OTO
    assert entry.linked_order_ids == ("EMA-2", "EMA-3")
    assert tp.contingency_type is sl.contingency_type is ContingencyType.OCO
    assert tp.linked_order_ids == ("EMA-3",) and sl.linked_order_ids == ("EMA-2",)
    assert tp.parent_order_id == sl.parent_order_id == "EMA-1"
    assert entry.parent_order_id == ""
    assert all(o.quantity == 10 for o in (entry, tp, sl))

    m_entry, *_ = f.bracket("AAPL.XNAS", OrderSide.SELL, 3, take_profit="90", stop_loss="105")
    assert m_entry.order_type is OrderType.MARKET and m_entry.order_list_id == "EMA-L2"
    assert m_entry.client_order_id == "EMA-4"


def test_factory_oco_and_oto(provider: InstrumentProvider) -> None:
    f = factory(provider)
    a = f.limit("AAPL.XNAS", OrderSide.SELL, 1, "110")
    b = f.stop_market("AAPL.XNAS", OrderSide.SELL, 1, "90")
    assert f.oco(a, b) == [a, b]
    assert a.contingency_type is b.contingency_type is ContingencyType.OCO
    assert a.linked_order_ids == (b.client_order_id,) and b.linked_order_ids == (a.client_order_id,)
    assert a.order_list_id == b.order_list_id == "EMA-L1"

    parent = f.market("AAPL.XNAS", OrderSide.BUY, 2)
    c1 = f.limit("AAPL.XNAS", OrderSide.SELL, 2, "120")
    c2 = f.stop_market("AAPL.XNAS", OrderSide.SELL, 2, "80")
    assert f.oto(parent, c1, c2) == [parent, c1, c2]
    assert parent.contingency_type is ContingencyType.OTO
    assert parent.linked_order_ids == (c1.client_order_id, c2.client_order_id)
    assert c1.parent_order_id == c2.parent_order_id == parent.client_order_id
    assert parent.order_list_id == c1.order_list_id == c2.order_list_id == "EMA-L2"


def test_trigger_during_pending_cancel_then_cancel_refused_restores_triggered() -> None:
    order = drive(make_order(), S.ACCEPTED)
    order.apply(ev(order, OrderPendingCancel))
    order.apply(ev(order, OrderTriggered))
    assert order.status is S.PENDING_CANCEL
    order.apply(ev(order, OrderCancelRejected))
    assert order.status is S.TRIGGERED


def test_factory_takes_no_id_for_an_order_it_refuses(provider: InstrumentProvider) -> None:
    f = factory(provider)
    first = f.market("AAPL.XNAS", OrderSide.BUY, 1)
    with pytest.raises(FixedPointError):
        f.limit("AAPL.XNAS", OrderSide.BUY, 1, "1.234")  # off the tick grid
    with pytest.raises(ValueError):
        f.limit("AAPL.XNAS", OrderSide.BUY, 1, "1.00", time_in_force=TimeInForce.GTD)  # GTD without expire time
    second = f.market("AAPL.XNAS", OrderSide.SELL, 1)
    assert (first.client_order_id, second.client_order_id) == ("EMA-1", "EMA-2")
