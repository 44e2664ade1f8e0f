"""What may be asked of the order management system, as a protocol (implemented by
:class:`tradeforge.execution.engine.ExecutionEngine`): strategies use it through
:class:`tradeforge.strategy.base.TradingApi`, the risk engine's unwinds directly."""

from __future__ import annotations

from typing import Protocol

from tradeforge.model.orders import Order


class OrderApi(Protocol):
    """Submit, cancel and modify orders (every one through the risk gate) and look them up."""

    def submit_order(self, order: Order) -> Order: ...

    def cancel_order(self, order: Order) -> None: ...

    def modify_order(
        self, order: Order, quantity: int | None = None, price: int | None = None, trigger_price: int | None = None
    ) -> None: ...

    def open_orders(self, strategy_id: str | None = None, instrument_id: str | None = None) -> list[Order]: ...

    def order(self, client_order_id: str) -> Order | None: ...
