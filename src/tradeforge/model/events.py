"""Order and position events (immutable). Prices and quantities are raw integers; money is raw at
MONEY_PRECISION. Every event has ``ts_event`` (when it happened at its source: the venue, the risk
engine) and ``ts_init`` (when tradeforge created the object)."""

from __future__ import annotations

import msgspec

from tradeforge.model.enums import LiquiditySide, OrderSide


class OrderEvent(msgspec.Struct, frozen=True, gc=False):
    """Base of every event in an order's life."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    ts_event: int
    ts_init: int


class OrderDenied(OrderEvent, frozen=True, gc=False):
    """The risk engine (or the OMS) refused the order before any venue saw it."""

    reason: str = ""


class OrderSubmitted(OrderEvent, frozen=True, gc=False):
    pass


class OrderAccepted(OrderEvent, frozen=True, gc=False):
    venue_order_id: str = ""


class OrderRejected(OrderEvent, frozen=True, gc=False):
    reason: str = ""


class OrderTriggered(OrderEvent, frozen=True, gc=False):
    """A stop / if-touched order's trigger was hit; it now works as market or limit."""


class OrderPendingUpdate(OrderEvent, frozen=True, gc=False):
    pass


class OrderPendingCancel(OrderEvent, frozen=True, gc=False):
    pass


class OrderUpdated(OrderEvent, frozen=True, gc=False):
    """A modify (cancel/replace) took effect; ``None`` fields did not change."""

    quantity: int | None = None
    price: int | None = None
    trigger_price: int | None = None


class OrderModifyRejected(OrderEvent, frozen=True, gc=False):
    reason: str = ""


class OrderCancelRejected(OrderEvent, frozen=True, gc=False):
    reason: str = ""


class OrderCanceled(OrderEvent, frozen=True, gc=False):
    reason: str = ""


class OrderExpired(OrderEvent, frozen=True, gc=False):
    pass


class OrderFilled(OrderEvent, frozen=True, gc=False):
    """One execution. De-duplicated by ``execution_id``."""

    venue_order_id: str = ""
    execution_id: str = ""
    side: OrderSide = OrderSide.BUY
    last_qty: int = 0
    last_px: int = 0
    commission: int = 0  # money raw, account currency
    currency: str = ""
    liquidity_side: LiquiditySide = LiquiditySide.TAKER
    position_id: str = ""
    ambiguous: bool = False  # the fill depended on an assumption about the path inside a bar


class TradeCorrected(OrderEvent, frozen=True, gc=False):
    """The venue busted (``kind`` "bust") or corrected ("correct") an earlier fill of the order, the one
    with ``ref_execution_id``; a correction's new terms are ``corrected_qty`` at ``corrected_px``.

    Never a step of the order's state machine: the OMS books the difference into the portfolio and
    the risk books and then publishes this event (:mod:`tradeforge.execution.corrections`)."""

    kind: str = "bust"
    execution_id: str = ""
    ref_execution_id: str = ""
    corrected_qty: int = 0
    corrected_px: int = 0


class PositionEvent(msgspec.Struct, frozen=True, gc=False):
    """Base of position events: signed quantity (raw), realized P&L (money raw, net of fees)."""

    position_id: str
    strategy_id: str
    instrument_id: str
    signed_qty: int
    avg_px: float
    realized_pnl: int
    ts_event: int
    ts_init: int


class PositionOpened(PositionEvent, frozen=True, gc=False):
    pass


class PositionChanged(PositionEvent, frozen=True, gc=False):
    pass


class PositionClosed(PositionEvent, frozen=True, gc=False):
    duration_ns: int = 0


class ErrorEvent(msgspec.Struct, frozen=True, gc=False):
    """Something was refused or went wrong and must be seen (never silently applied)."""

    source: str
    message: str
    ts_event: int
    ts_init: int
