"""Trade busts and corrections booked by the OMS.

A venue reports a bust or correction of an earlier fill as a
:class:`~tradeforge.model.events.TradeCorrected` (FIX 150=H / 150=G). The order is unchanged -- its
state machine has no "unfill" -- but money and positions must be: the OMS reverses the fill as it
was booked (the opposite side, same quantity and price, its commission refunded) and, for a
correction, books the corrected quantity and price with the original commission. Both entries go
through ``portfolio.apply_fill`` and the risk books like any fill, so cash, positions and total P&L are
exactly what they would be had the fill never happened or happened on the corrected terms (the split
between realized and unrealized P&L follows the average-cost accounting of the entries). The
entries' execution ids are ``{correction id}:reverse`` and ``{correction id}:rebook``; a correction id
seen before is a duplicate, and a correction of a fill the OMS never booked is an error, not booked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradeforge.core.bus import MessageBus
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderFilled, TradeCorrected
from tradeforge.model.orders import Order


@dataclass(slots=True)
class _Booked:
    """A fill as it stands in the books now (after any earlier corrections of it)."""

    side: OrderSide
    qty: int
    px: int
    commission: int


class CorrectionBook:
    """Books the venue's trade corrections against the fills the OMS recorded."""

    def __init__(self, bus: MessageBus, fills: list[OrderFilled], follow_fill: Callable[[OrderFilled], None]) -> None:
        self._bus = bus
        self._fills = fills  # the OMS's fill list (searched only when a correction comes)
        self._follow_fill = follow_fill  # the risk books' fill entry
        self._booked: dict[str, _Booked] = {}  # ref execution id -> terms after corrections
        self.corrections: list[TradeCorrected] = []
        self.entries: list[OrderFilled] = []  # the reversing and rebooking entries made

    def _current(self, ref: str) -> tuple[_Booked, OrderFilled] | None:
        for f in reversed(self._fills):
            if f.execution_id == ref:
                b = self._booked.get(ref)
                return (b if b is not None else _Booked(f.side, f.last_qty, f.last_px, f.commission)), f
        return None

    def book(self, order: Order, event: TradeCorrected) -> str | None:
        """Book ``event``; ``None`` when done, else why it was not booked."""
        found = self._current(event.ref_execution_id)
        if found is None:
            return (f"trade {event.kind} {event.execution_id} of {order.client_order_id} refers to fill "
                    f"{event.ref_execution_id!r}, which was never booked: not booked")
        if event.kind not in ("bust", "correct"):
            return f"trade correction {event.execution_id}: unknown kind {event.kind!r}: not booked"
        booked, original = found
        opposite = OrderSide.SELL if booked.side is OrderSide.BUY else OrderSide.BUY

        def entry(suffix: str, side: OrderSide, qty: int, px: int, commission: int) -> OrderFilled:
            return OrderFilled(
                order.client_order_id, order.strategy_id, order.instrument_id, event.ts_event, event.ts_init,
                original.venue_order_id, f"{event.execution_id}:{suffix}", side, qty, px, commission,
                original.currency, original.liquidity_side, original.position_id,
            )

        entries = []
        if booked.qty:
            entries.append(entry("reverse", opposite, booked.qty, booked.px, -booked.commission))
        if event.kind == "correct" and event.corrected_qty > 0:
            entries.append(entry("rebook", booked.side, event.corrected_qty, event.corrected_px, booked.commission))
            self._booked[event.ref_execution_id] = _Booked(booked.side, event.corrected_qty, event.corrected_px,
                                                           booked.commission)
        else:
            self._booked[event.ref_execution_id] = _Booked(booked.side, 0, 0, 0)
        for e in entries:
            position_events = self._bus.request("portfolio.apply_fill", e)
            self._follow_fill(e)
            for pe in position_events:
                self._bus.publish(f"events.position.{pe.strategy_id}", pe)
        self.entries += entries
        self.corrections.append(event)
        self._bus.publish(f"events.order.{order.strategy_id}", event)
        return None
