"""Orders and their strict state machine.

The whole lifecycle is the table below: ``(current status, event type) -> next status``. A pair that
is not in the table is refused with :class:`InvalidOrderTransition`; nothing is applied silently.
``_RESTORE`` means "back to the status before the pending request" (a modify or cancel that was
answered, or refused).
"""

from __future__ import annotations

from typing import Final

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
    OrderEvent,
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


class InvalidOrderTransition(RuntimeError):
    """An event does not apply to an order in its current status."""


class _PartialFill:
    """Marker for the table: a fill that leaves quantity open."""


_RESTORE: Final = "restore previous status"
S = OrderStatus

#: (status, event type) -> next status. Anything else is an invalid transition.
ORDER_STATE_TABLE: Final[dict[tuple[OrderStatus, type], OrderStatus | str]] = {
    (S.INITIALIZED, OrderDenied): S.DENIED,
    (S.INITIALIZED, OrderSubmitted): S.SUBMITTED,
    (S.INITIALIZED, OrderCanceled): S.CANCELED,  # a contingent child canceled before release
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    (S.SUBMITTED, OrderCanceled): S.CANCELED,  # IOC/FOK canceled on arrival
    (S.SUBMITTED, OrderExpired): S.EXPIRED,
    (S.SUBMITTED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.SUBMITTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.SUBMITTED, _PartialFill): S.PARTIALLY_FILLED,  # venues may skip the ack
    (S.SUBMITTED, OrderFilled): S.FILLED,
    (S.ACCEPTED, OrderCanceled): S.CANCELED,
    (S.ACCEPTED, OrderExpired): S.EXPIRED,
    (S.ACCEPTED, OrderTriggered): S.TRIGGERED,
    (S.ACCEPTED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.ACCEPTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.ACCEPTED, OrderUpdated): S.ACCEPTED,  # unsolicited venue update
    (S.ACCEPTED, OrderModifyRejected): S.ACCEPTED,  # answer raced with another event
    (S.ACCEPTED, OrderCancelRejected): S.ACCEPTED,
    (S.ACCEPTED, _PartialFill): S.PARTIALLY_FILLED,
    (S.ACCEPTED, OrderFilled): S.FILLED,
    (S.TRIGGERED, OrderRejected): S.REJECTED,  # e.g. a post-only limit after its trigger
    (S.TRIGGERED, OrderCanceled): S.CANCELED,
    (S.TRIGGERED, OrderExpired): S.EXPIRED,
    (S.TRIGGERED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.TRIGGERED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.TRIGGERED, OrderUpdated): S.TRIGGERED,
    (S.TRIGGERED, OrderModifyRejected): S.TRIGGERED,
    (S.TRIGGERED, OrderCancelRejected): S.TRIGGERED,
    (S.TRIGGERED, _PartialFill): S.PARTIALLY_FILLED,
    (S.TRIGGERED, OrderFilled): S.FILLED,
    (S.PENDING_UPDATE, OrderUpdated): _RESTORE,
    (S.PENDING_UPDATE, OrderModifyRejected): _RESTORE,
    (S.PENDING_UPDATE, OrderAccepted): S.ACCEPTED,  # a modify of a not-yet-acked order
    (S.PENDING_UPDATE, OrderRejected): S.REJECTED,
    (S.PENDING_UPDATE, OrderTriggered): S.TRIGGERED,
    (S.PENDING_UPDATE, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PENDING_UPDATE, OrderCanceled): S.CANCELED,
    (S.PENDING_UPDATE, OrderExpired): S.EXPIRED,
    (S.PENDING_UPDATE, _PartialFill): S.PARTIALLY_FILLED,
    (S.PENDING_UPDATE, OrderFilled): S.FILLED,
    (S.PENDING_CANCEL, OrderCanceled): S.CANCELED,
    (S.PENDING_CANCEL, OrderCancelRejected): _RESTORE,
    (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,  # ack of the original order arrives late
    (S.PENDING_CANCEL, OrderTriggered): S.PENDING_CANCEL,  # trigger raced with the cancel
    (S.PENDING_CANCEL, OrderExpired): S.EXPIRED,
    (S.PENDING_CANCEL, _PartialFill): S.PARTIALLY_FILLED,  # fill raced with the cancel
    (S.PENDING_CANCEL, OrderFilled): S.FILLED,
    (S.PARTIALLY_FILLED, _PartialFill): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderFilled): S.FILLED,
    (S.PARTIALLY_FILLED, OrderCanceled): S.CANCELED,
    (S.PARTIALLY_FILLED, OrderExpired): S.EXPIRED,
    (S.PARTIALLY_FILLED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.PARTIALLY_FILLED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, OrderUpdated): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderModifyRejected): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderCancelRejected): S.PARTIALLY_FILLED,
}

# the table keyed by the status *value* (a str: hashed in C), for the per-event lookup
_TABLE: Final = {(status.value, event): nxt for (status, event), nxt in ORDER_STATE_TABLE.items()}
_TERMINAL: Final = tuple(TERMINAL_STATUSES)
_NOT_OPEN: Final = (*_TERMINAL, S.INITIALIZED)

#: Every event type the table knows (used by the exhaustive transition tests).
ORDER_EVENT_TYPES: Final = (
    OrderDenied, OrderSubmitted, OrderAccepted, OrderRejected, OrderTriggered, OrderPendingUpdate,
    OrderPendingCancel, OrderUpdated, OrderModifyRejected, OrderCancelRejected, OrderCanceled,
    OrderExpired, OrderFilled, _PartialFill,
)


class Order:
    """A mutable order; its status changes only through :meth:`apply` and the table above.

    Quantities and prices are raw integers at the instrument's precisions.
    """

    __slots__ = (
        "client_order_id", "contingency_type", "events", "expire_time_ns", "fill_cost_raw", "filled_qty",
        "instrument_id", "linked_order_ids", "order_list_id", "order_type", "parent_order_id",
        "position_id", "post_only", "previous_status", "price", "quantity", "reduce_only", "side",
        "status", "strategy_id", "tags", "time_in_force", "trailing_offset", "trigger_price", "ts_init",
        "ts_last", "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        strategy_id: str,
        instrument_id: str,
        side: OrderSide,
        order_type: OrderType,
        quantity: int,
        ts_init: int,
        *,
        price: int | None = None,
        trigger_price: int | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        trailing_offset: int | None = None,
        position_id: str = "",
        contingency_type: ContingencyType = ContingencyType.NONE,
        order_list_id: str = "",
        linked_order_ids: tuple[str, ...] = (),
        parent_order_id: str = "",
        tags: tuple[str, ...] = (),
    ) -> None:
        if quantity <= 0:
            raise ValueError(f"{client_order_id}: quantity must be positive")
        needs_price = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_trigger = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.MARKET_IF_TOUCHED)
        if needs_price and price is None:
            raise ValueError(f"{client_order_id}: a {order_type.value} order needs a price")
        if not needs_price and price is not None:
            raise ValueError(f"{client_order_id}: a {order_type.value} order takes no price")
        if needs_trigger and trigger_price is None:
            raise ValueError(f"{client_order_id}: a {order_type.value} order needs a trigger price")
        if order_type is OrderType.TRAILING_STOP_MARKET and (trailing_offset is None or trailing_offset <= 0):
            raise ValueError(f"{client_order_id}: a trailing stop needs a positive trailing offset")
        if time_in_force is TimeInForce.GTD and expire_time_ns is None:
            raise ValueError(f"{client_order_id}: a GTD order needs an expire time")
        if post_only and order_type is not OrderType.LIMIT:
            raise ValueError(f"{client_order_id}: post-only applies to limit orders only")
        self.client_order_id = client_order_id
        self.strategy_id = strategy_id
        self.instrument_id = instrument_id
        self.side = side
        self.order_type = order_type
        self.quantity = quantity
        self.price = price
        self.trigger_price = trigger_price
        self.time_in_force = time_in_force
        self.expire_time_ns = expire_time_ns
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.trailing_offset = trailing_offset
        self.position_id = position_id
        self.contingency_type = contingency_type
        self.order_list_id = order_list_id
        self.linked_order_ids = linked_order_ids
        self.parent_order_id = parent_order_id
        self.tags = tags
        self.status = OrderStatus.INITIALIZED
        self.previous_status = OrderStatus.INITIALIZED
        self.filled_qty = 0
        self.fill_cost_raw = 0  # sum(last_px * last_qty) in raw price x raw size units
        self.venue_order_id = ""
        self.ts_init = ts_init
        self.ts_last = ts_init
        self.events: list[OrderEvent] = []

    # -- derived --
    @property
    def leaves_qty(self) -> int:
        return self.quantity - self.filled_qty

    @property
    def is_open(self) -> bool:
        """Working at (or on its way to) a venue."""
        return self.status not in _NOT_OPEN  # a tuple: identity tests, no Enum.__hash__ call

    @property
    def is_closed(self) -> bool:
        return self.status in _TERMINAL

    @property
    def avg_px(self) -> float | None:
        """Average fill price in raw price units (float, for display)."""
        return self.fill_cost_raw / self.filled_qty if self.filled_qty else None

    @property
    def signed_side(self) -> int:
        return int(self.side)

    # -- state machine --
    def next_status(self, event: OrderEvent) -> OrderStatus:
        """The status ``event`` would lead to; raises :class:`InvalidOrderTransition` if none."""
        key: type = type(event)
        if key is OrderFilled:
            fill_qty = event.last_qty  # type: ignore[attr-defined]
            if fill_qty <= 0 or fill_qty > self.leaves_qty:
                raise InvalidOrderTransition(
                    f"{self.client_order_id}: fill of {fill_qty} does not fit leaves {self.leaves_qty}"
                )
            if fill_qty < self.leaves_qty:
                key = _PartialFill
        nxt = _TABLE.get((self.status._value_, key))
        if nxt is None:
            raise InvalidOrderTransition(
                f"{self.client_order_id}: {type(event).__name__} is not allowed in status {self.status.value}"
            )
        return self.previous_status if nxt == _RESTORE else nxt  # type: ignore[return-value]

    def apply(self, event: OrderEvent) -> None:
        """Apply ``event``: validate the transition first, then update the order."""
        if event.client_order_id != self.client_order_id:
            raise InvalidOrderTransition(f"{event.client_order_id} event applied to order {self.client_order_id}")
        nxt = self.next_status(event)
        if nxt in (OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL) and self.status not in (
            OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL
        ):
            self.previous_status = self.status
        elif isinstance(event, OrderAccepted) and nxt is OrderStatus.PENDING_CANCEL:
            self.previous_status = OrderStatus.ACCEPTED  # late ack: a refused cancel restores ACCEPTED
        elif isinstance(event, OrderTriggered) and nxt is OrderStatus.PENDING_CANCEL:
            self.previous_status = OrderStatus.TRIGGERED  # a refused cancel restores TRIGGERED
        if isinstance(event, OrderFilled):
            self.filled_qty += event.last_qty
            self.fill_cost_raw += event.last_px * event.last_qty
            if event.venue_order_id:
                self.venue_order_id = event.venue_order_id
            if event.position_id and not self.position_id:
                self.position_id = event.position_id
        elif isinstance(event, OrderAccepted) and event.venue_order_id:
            self.venue_order_id = event.venue_order_id
        elif isinstance(event, OrderUpdated):
            if event.quantity is not None:
                if event.quantity <= self.filled_qty:
                    raise InvalidOrderTransition(
                        f"{self.client_order_id}: new quantity {event.quantity} is not above filled {self.filled_qty}"
                    )
                self.quantity = event.quantity
            if event.price is not None:
                self.price = event.price
            if event.trigger_price is not None:
                self.trigger_price = event.trigger_price
        self.status = nxt
        self.ts_last = event.ts_event
        self.events.append(event)

    def __repr__(self) -> str:
        px = f" @{self.price}" if self.price is not None else ""
        return (
            f"Order({self.client_order_id} {self.side.name} {self.quantity} {self.instrument_id} "
            f"{self.order_type.value}{px} {self.status.value})"
        )
