"""A passive market maker: one bid at the best bid and one ask at the best ask, ``quantity`` each,
post-only; when the touch moves, the quotes follow it (a modify, which loses queue priority);
inventory is capped at ``max_position`` (the side that would exceed it is not quoted). It never
takes liquidity, so everything it earns or loses comes from *which* of its quotes fill and when:
the queue model decides. Used to compare fidelity levels (docs/simulated_exchange.md)."""

from __future__ import annotations

from tradeforge.model.data import QuoteTick
from tradeforge.model.enums import OrderSide, OrderStatus
from tradeforge.model.orders import Order
from tradeforge.strategy.base import Strategy

_BUSY = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL)


class PassiveMarketMaker(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.iid = p["instrument"]
        self.inst = self.instrument(self.iid)
        self.qty_raw = self.inst.quantity(p.get("quantity", 100))
        self.max_position = self.qty_raw * int(p.get("max_levels", 5))
        self.quotes: dict[OrderSide, Order | None] = {OrderSide.BUY: None, OrderSide.SELL: None}
        self.subscribe_quotes(self.iid)

    def on_quote(self, quote: QuoteTick) -> None:
        pos = self.position_quantity(self.iid)
        self._quote(OrderSide.BUY, quote.bid, pos + self.qty_raw <= self.max_position)
        self._quote(OrderSide.SELL, quote.ask, -pos + self.qty_raw <= self.max_position)

    def _quote(self, side: OrderSide, price: int, allowed: bool) -> None:
        order = self.quotes[side]
        if order is not None and not order.is_open:
            order = self.quotes[side] = None
        if order is not None and order.status in _BUSY:
            return  # an earlier request is still on its way
        if not allowed:
            if order is not None:
                self.cancel_order(order)
            return
        if order is None:
            new = self.order_factory.limit(
                self.iid, side, self.inst.make_quantity(self.qty_raw), self.inst.make_price(price), post_only=True
            )
            self.quotes[side] = self.submit_order(new)
        elif order.price != price:
            self.modify_order(order, price=price)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.iid)
