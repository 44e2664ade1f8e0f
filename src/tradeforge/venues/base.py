"""The venue interface: what the OMS sees of a simulated exchange, a paper venue or a real one.

A venue takes commands for orders that already passed the risk gate and answers with order events
(accepted, rejected, filled, canceled, ...) through the ``report`` callback it was connected with.
Live adapters (FIX, exchange APIs) implement the same three commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tradeforge.model.events import OrderEvent
from tradeforge.model.orders import Order

Report = Callable[[OrderEvent], None]


class ExecutionVenue(Protocol):
    name: str

    def connect(self, report: Report) -> None:
        """Set where order events go (the execution engine)."""

    def submit(self, order: Order) -> None: ...

    def cancel(self, order: Order) -> None: ...

    def modify(self, order: Order, quantity: int | None, price: int | None, trigger_price: int | None) -> None: ...
