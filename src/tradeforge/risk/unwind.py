"""Orderly de-risking: reduce a scope's positions over a horizon with passive, participation-capped orders.

Every ``interval_ns`` (engine clock timers) each position of the scope has one working reduce-only
limit order at the latest mark (a sell never below it, a buy never above it), sized so the position
follows a straight line to zero at ``horizon_ns`` and capped at ``participation`` of the last bar's
volume; each slice re-sizes and re-prices it in place (a modify, so it keeps working through the
next bar). Every order and modify passes the risk gate again (the scope is REDUCING, so only reducing
orders pass). :meth:`Unwind.escalate` (a hard limit was reached) replaces the working orders with
market orders for everything left.
"""

from __future__ import annotations

from collections.abc import Callable

from tradeforge.core.clock import Clock, TimeEvent
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradeforge.model.orders import Order
from tradeforge.model.trading import OrderApi as Trading  # what the unwinds need of the OMS
from tradeforge.risk.state import RiskState

UNWIND_TAG = "risk-unwind"


class Unwind:
    """One de-risking schedule for a set of ``(strategy, instrument)`` positions."""

    def __init__(
        self, name: str, positions: list[tuple[str, str, int]], state: RiskState, trading: Trading, clock: Clock,
        horizon_ns: int, interval_ns: int, participation: float, log: Callable[[str, str], None],
    ) -> None:
        self.name = name
        self.start_ns = clock.timestamp_ns()
        self.start = {(s, i): q for s, i, q in positions}
        self.state = state
        self.trading = trading
        self.clock = clock
        self.horizon_ns = max(horizon_ns, 1)
        self.interval_ns = interval_ns
        self.participation = participation
        self.log = log
        self.aggressive = False
        self.done = False
        self.working: dict[tuple[str, str], Order] = {}
        self.orders: list[Order] = []
        self._n = 0

    def begin(self) -> None:
        self.step(self.start_ns)
        if not self.done:
            self.clock.set_timer(f"risk:unwind:{self.name}", self.interval_ns, self._on_timer)

    def _on_timer(self, event: TimeEvent) -> None:
        self.step(event.ts_event)

    def escalate(self) -> None:
        """A hard limit was reached: market orders for everything left."""
        if self.done or self.aggressive:
            return
        self.aggressive = True
        self.log("escalate", "hard limit reached: aggressive (market) orders for the rest")
        self.step(self.clock.timestamp_ns())

    def stop(self, why: str) -> None:
        if self.done:
            return
        self.done = True
        self.clock.cancel_timer(f"risk:unwind:{self.name}")
        self.log("complete", why)

    def step(self, now_ns: int) -> None:
        """One slice per position still open: re-size and re-price its working order (or send one)."""
        if self.done:
            return
        frac_left = max(0, self.horizon_ns - (now_ns - self.start_ns)) / self.horizon_ns
        open_left = 0
        for (sid, iid), q0 in self.start.items():
            cur = self.state.strategy_cell(sid, iid).qty
            prev = self.working.get((sid, iid))
            if prev is not None and not prev.is_open:
                del self.working[(sid, iid)]
                prev = None
            if cur == 0 or (cur > 0) != (q0 > 0):
                if prev is not None:
                    self.trading.cancel_order(prev)
                continue
            open_left += 1
            ir = self.state.instrument(iid)
            lot = ir.inst.lot_size_raw
            if self.aggressive:
                qty = abs(cur)
            else:
                target = int(abs(q0) * frac_left) // lot * lot
                qty = abs(cur) - target
                if ir.last_volume > 0:
                    cap = int(ir.last_volume * self.participation) // lot * lot
                    qty = min(qty, cap)
            if qty <= 0 or ir.mark is None:
                continue
            side = OrderSide.SELL if cur > 0 else OrderSide.BUY
            tick = ir.inst.tick_size_raw
            px = -(-ir.mark // tick) * tick if side is OrderSide.SELL else ir.mark // tick * tick
            if prev is not None and not self.aggressive:
                # re-price and re-size the working order in place (it keeps working through the next bar)
                if prev.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED) and (
                        prev.leaves_qty != qty or prev.price != px):
                    self.trading.modify_order(prev, quantity=prev.filled_qty + qty, price=px)
                continue
            if prev is not None:
                self.trading.cancel_order(prev)
                self.working.pop((sid, iid), None)
            self._n += 1
            coid = f"{sid}-U{self.name}-{self._n}"
            if self.aggressive:
                order = Order(coid, sid, iid, side, OrderType.MARKET, qty, now_ns, reduce_only=True, tags=(UNWIND_TAG,))
            else:
                order = Order(coid, sid, iid, side, OrderType.LIMIT, qty, now_ns, price=px,
                              time_in_force=TimeInForce.GTC, reduce_only=True, tags=(UNWIND_TAG,))
            self.orders.append(order)
            self.trading.submit_order(order)
            if order.is_open:
                self.working[(sid, iid)] = order
        if open_left == 0:
            self.stop("all positions in scope are flat")
