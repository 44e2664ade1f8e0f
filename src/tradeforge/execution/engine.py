"""The order management system: the only way from a strategy to a venue.

``submit_order`` registers the order (client order ids are idempotent), asks the risk engine, and
only on a pass hands it to its venue. Venue reports come back through :meth:`handle_report`: fills
are de-duplicated by execution id, every event goes through the order's state machine (an invalid
transition is refused, logged and published as an ``ErrorEvent``), the portfolio books fills, and
then the order event and the position events it caused are published, in that order.

Contingencies: OTO children wait until their parent fills and are released with the filled
quantity; OCO siblings are reduced by each fill and canceled when the other completes or is canceled.
Reduce-only orders shrink or cancel when the position they reduce gets smaller.

Trade busts and corrections (:class:`~tradeforge.model.events.TradeCorrected`) never touch the order:
they are booked into the portfolio and the risk books (:mod:`tradeforge.execution.corrections`).

Topics: ``events.order.{strategy_id}``, ``events.position.{strategy_id}``, ``events.error``.
Endpoint used: ``portfolio.apply_fill`` (fill -> position events).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from tradeforge.core.bus import MessageBus
from tradeforge.core.clock import Clock
from tradeforge.execution.corrections import CorrectionBook
from tradeforge.model.enums import ContingencyType, OrderStatus
from tradeforge.model.events import (
    ErrorEvent,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    PositionEvent,
    TradeCorrected,
)
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import InvalidOrderTransition, Order
from tradeforge.risk.engine import RiskEngine
from tradeforge.venues.base import ExecutionVenue

log = logging.getLogger(__name__)


class ExecutionError(RuntimeError):
    """A command cannot be carried out (unknown venue, unknown order)."""


class ExecutionEngine:
    """Orders by client order id, their life through risk and venue, and their contingencies."""

    def __init__(
        self, bus: MessageBus, clock: Clock, risk: RiskEngine, instruments: Callable[[str], Instrument]
    ) -> None:
        self._bus = bus
        self._clock = clock
        self.risk = risk
        self._instrument = instruments
        self._venues: dict[str, ExecutionVenue] = {}
        self.orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # client order id -> order, in submission order
        self._execution_ids: set[str] = set()
        self.duplicate_fills = 0
        self.late_rejects = 0  # cancel/modify answers that arrived after the order closed
        self.errors: list[ErrorEvent] = []
        self.fills: list[OrderFilled] = []
        self.corrections = CorrectionBook(bus, self.fills, risk.on_order_event)

    def register_venue(self, venue: ExecutionVenue) -> None:
        if venue.name in self._venues:
            raise ExecutionError(f"venue {venue.name} registered twice")
        self._venues[venue.name] = venue
        venue.connect(self.handle_report)

    def venue_for(self, instrument_id: str) -> ExecutionVenue:
        venue_name = self._instrument(instrument_id).venue
        try:
            return self._venues[venue_name]
        except KeyError:
            raise ExecutionError(
                f"no venue {venue_name!r} for {instrument_id} (venues: {sorted(self._venues)})"
            ) from None

    # -- queries --
    def order(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    def open_orders(self, strategy_id: str | None = None, instrument_id: str | None = None) -> list[Order]:
        return [
            o for o in self._open.values()
            if (strategy_id is None or o.strategy_id == strategy_id)
            and (instrument_id is None or o.instrument_id == instrument_id)
        ]

    def _all_open(self) -> Iterable[Order]:
        return self._open.values()

    # -- commands --
    def submit_order(self, order: Order) -> Order:
        """Send ``order`` through risk to its venue. Re-submitting a known id changes nothing."""
        known = self.orders.get(order.client_order_id)
        if known is not None:
            if known is not order:
                self._error("execution", f"client order id {order.client_order_id} already used; new order ignored")
            return known
        self.orders[order.client_order_id] = order
        parent = self.orders.get(order.parent_order_id) if order.parent_order_id else None
        if parent is not None and parent.filled_qty == 0:
            return order  # OTO child: held until the parent fills
        self._send(order)
        return order

    def submit_order_list(self, orders: list[Order]) -> list[Order]:
        """Submit a bracket / OCO / OTO list; parents first, children are held as needed."""
        listed: dict[str, Order] = {}
        for o in orders:  # an id taken by a different order voids the whole list (as in submit_order)
            known = self.orders.get(o.client_order_id) or listed.get(o.client_order_id)
            if known is not None and known is not o:
                self._error("execution", f"client order id {o.client_order_id} already used; order list ignored")
                return orders
            listed[o.client_order_id] = o
        for o in orders:
            self.orders.setdefault(o.client_order_id, o)
        for o in orders:
            if not o.parent_order_id and o.status is OrderStatus.INITIALIZED:
                self._send(o)
        return orders

    def _send(self, order: Order) -> None:
        now = self._clock.timestamp_ns()
        venue = self.venue_for(order.instrument_id)  # unknown venue: error before any state change
        reason = self.risk.check(order, self._all_open, now)
        if reason is not None:
            self._apply(order, OrderDenied(order.client_order_id, order.strategy_id, order.instrument_id, now, now, reason))
            self._cancel_children(order, "parent denied")
            return
        self._open[order.client_order_id] = order
        self._apply(order, OrderSubmitted(order.client_order_id, order.strategy_id, order.instrument_id, now, now))
        venue.submit(order)

    def cancel_order(self, order: Order) -> None:
        now = self._clock.timestamp_ns()
        if order.status is OrderStatus.INITIALIZED:  # a held child: cancel locally
            self._apply(order, OrderCanceled(order.client_order_id, order.strategy_id, order.instrument_id, now, now, "canceled before release"))
            return
        if not order.is_open or order.status is OrderStatus.PENDING_CANCEL:
            self._error("execution", f"cancel of {order.client_order_id} refused: status {order.status.value}")
            return
        if self._apply(order, OrderPendingCancel(order.client_order_id, order.strategy_id, order.instrument_id, now, now)):
            self.venue_for(order.instrument_id).cancel(order)

    def modify_order(
        self, order: Order, quantity: int | None = None, price: int | None = None, trigger_price: int | None = None
    ) -> None:
        """Cancel/replace: new quantity, price or trigger (raw). The change passes risk again."""
        inst = self._instrument(order.instrument_id)
        if quantity is not None:
            inst.check_quantity(quantity)
        for px in (price, trigger_price):
            if px is not None:
                inst.check_price(px)
        now = self._clock.timestamp_ns()
        if not order.is_open or order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE):
            self._error("execution", f"modify of {order.client_order_id} refused: status {order.status.value}")
            return
        proposed = _proposed(order, quantity, price, trigger_price)
        reason = self.risk.check(proposed, lambda: (o for o in self._open.values() if o is not order), now)
        if reason is not None:
            self._error("risk", f"modify of {order.client_order_id} denied: {reason}")
            return
        if self._apply(order, OrderPendingUpdate(order.client_order_id, order.strategy_id, order.instrument_id, now, now)):
            self.venue_for(order.instrument_id).modify(order, quantity, price, trigger_price)

    # -- venue reports --
    def handle_report(self, event: OrderEvent) -> None:
        order = self.orders.get(event.client_order_id)
        if order is None:
            self._error("venue", f"report for unknown order {event.client_order_id}: {type(event).__name__}")
            return
        position_events: list[PositionEvent] = []
        if isinstance(event, OrderFilled):
            if event.execution_id in self._execution_ids:
                self.duplicate_fills += 1
                return
            if not self._check(order, event):
                return
            self._execution_ids.add(event.execution_id)
            order.apply(event)
            self.fills.append(event)
            position_events = self._bus.request("portfolio.apply_fill", event)
            self._after_apply(order, event)
        elif type(event) is TradeCorrected:
            if event.execution_id in self._execution_ids:
                self.duplicate_fills += 1
            else:
                self._execution_ids.add(event.execution_id)
                why = self.corrections.book(order, event)
                if why is not None:
                    self._error("venue", why)
            return
        elif not self._apply(order, event, publish=False):
            return
        self._bus.publish(f"events.order.{order.strategy_id}", event)
        for pe in position_events:
            self._bus.publish(f"events.position.{pe.strategy_id}", pe)
        if isinstance(event, OrderFilled):
            self._on_fill_contingencies(order, event)
        elif order.is_closed:
            self._on_closed_contingencies(order)

    # -- internals --
    def _check(self, order: Order, event: OrderEvent) -> bool:
        try:
            order.next_status(event)
        except InvalidOrderTransition as exc:
            if order.is_closed and isinstance(event, (OrderCancelRejected, OrderModifyRejected)):
                # the venue answers a cancel/modify that crossed the order's last fill: too late,
                # nothing to change (counted, not an error)
                self.late_rejects += 1
                return False
            self._error("order", str(exc))
            return False
        return True

    def _apply(self, order: Order, event: OrderEvent, publish: bool = True) -> bool:
        if not self._check(order, event):
            return False
        order.apply(event)
        self._after_apply(order, event)
        if publish:
            self._bus.publish(f"events.order.{order.strategy_id}", event)
        return True

    def _after_apply(self, order: Order, event: OrderEvent) -> None:
        if order.is_closed:
            self._open.pop(order.client_order_id, None)

    def _on_fill_contingencies(self, order: Order, fill: OrderFilled) -> None:
        if order.contingency_type is ContingencyType.OTO:
            for cid in order.linked_order_ids:
                child = self.orders.get(cid)
                if child is None or child.is_closed:
                    continue
                if child.status is OrderStatus.INITIALIZED:
                    child.quantity = order.filled_qty
                    self._send(child)
                elif child.is_open and child.quantity != order.filled_qty:
                    self.modify_order(child, quantity=order.filled_qty)
        if order.contingency_type is ContingencyType.OCO:
            for cid in order.linked_order_ids:
                sib = self.orders.get(cid)
                if sib is None or sib.is_closed:
                    continue
                if order.status is OrderStatus.FILLED:
                    self.cancel_order(sib)
                elif sib.is_open:
                    new_qty = sib.quantity - fill.last_qty
                    if new_qty > sib.filled_qty:
                        self.modify_order(sib, quantity=new_qty)
                    else:
                        self.cancel_order(sib)
        self._shrink_reduce_only(fill)

    def _on_closed_contingencies(self, order: Order) -> None:
        if order.status is OrderStatus.FILLED:
            return
        if order.contingency_type is ContingencyType.OCO:
            for cid in order.linked_order_ids:
                sib = self.orders.get(cid)
                if sib is not None and not sib.is_closed and sib.status is not OrderStatus.PENDING_CANCEL:
                    self.cancel_order(sib)
        if order.filled_qty == 0:
            self._cancel_children(order, "parent closed without a fill")

    def _cancel_children(self, order: Order, reason: str) -> None:
        if order.contingency_type is not ContingencyType.OTO:
            return
        now = self._clock.timestamp_ns()
        for cid in order.linked_order_ids:
            child = self.orders.get(cid)
            if child is not None and child.status is OrderStatus.INITIALIZED:
                self._apply(child, OrderCanceled(child.client_order_id, child.strategy_id, child.instrument_id, now, now, reason))

    def _shrink_reduce_only(self, fill: OrderFilled) -> None:
        signed_net = self.risk.portfolio.net_quantity(fill.instrument_id)
        net = abs(signed_net)
        for o in list(self._open.values()):
            if not o.reduce_only or o.instrument_id != fill.instrument_id or o.status in (
                OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE
            ):
                continue
            if net == 0 or int(o.side) * signed_net > 0:  # flat, or the position flipped: it would now add
                self.cancel_order(o)
            elif o.leaves_qty > net:
                self.modify_order(o, quantity=o.filled_qty + net)

    def _error(self, source: str, message: str) -> None:
        now = self._clock.timestamp_ns()
        event = ErrorEvent(source, message, now, now)
        self.errors.append(event)
        log.warning("%s: %s", source, message)
        self._bus.publish("events.error", event)


def _proposed(order: Order, quantity: int | None, price: int | None, trigger_price: int | None) -> Order:
    """A copy of ``order`` with the modified fields, for the risk check of a modify."""
    copy = Order(
        order.client_order_id, order.strategy_id, order.instrument_id, order.side, order.order_type,
        quantity if quantity is not None else order.quantity, order.ts_init,
        price=price if price is not None else order.price,
        trigger_price=trigger_price if trigger_price is not None else order.trigger_price,
        time_in_force=order.time_in_force, expire_time_ns=order.expire_time_ns, post_only=order.post_only,
        reduce_only=order.reduce_only, trailing_offset=order.trailing_offset,
    )
    copy.filled_qty = order.filled_qty
    return copy
