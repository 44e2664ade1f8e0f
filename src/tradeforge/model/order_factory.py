"""Builds orders for one strategy: human values in, validated raw integers out.

Client order ids are ``{strategy_id}-{n}``: deterministic in a backtest; a live node restores ``n``
from its journal so ids stay unique across restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradeforge.model.enums import ContingencyType, OrderSide, OrderType, TimeInForce
from tradeforge.model.fixed import Price, Quantity
from tradeforge.model.identifiers import ClientOrderId
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order

Human = int | str | Decimal | float


class OrderFactory:
    """Order construction with tick/lot validation against the instrument."""

    def __init__(
        self, strategy_id: str, instrument_lookup: Callable[[str], Instrument], now_ns: Callable[[], int],
        start_count: int = 0,
    ) -> None:
        self.strategy_id = strategy_id
        self._instrument = instrument_lookup
        self._now = now_ns
        self._count = start_count
        self._list_count = 0

    def next_client_order_id(self) -> ClientOrderId:
        """Take the next id (``{strategy_id}-{n}``)."""
        self._count += 1
        return ClientOrderId(f"{self.strategy_id}-{self._count}")

    def _make(self, instrument_id: str, *args: Any, **kwargs: Any) -> Order:
        """Build the order first, take its id only if that succeeded (ids have no gaps)."""
        order = Order(ClientOrderId(f"{self.strategy_id}-{self._count + 1}"), self.strategy_id, instrument_id, *args, **kwargs)
        self._count += 1
        return order

    def _common(self, instrument_id: str, quantity: Human | Quantity) -> tuple[Instrument, int]:
        inst = self._instrument(instrument_id)
        return inst, inst.quantity(quantity)

    def market(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, *,
        time_in_force: TimeInForce = TimeInForce.GTC, reduce_only: bool = False, position_id: str = "",
        tags: tuple[str, ...] = (),
    ) -> Order:
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.MARKET, qty, self._now(),
            time_in_force=time_in_force, reduce_only=reduce_only, position_id=position_id, tags=tags,
        )

    def limit(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, price: Human | Price, *,
        time_in_force: TimeInForce = TimeInForce.GTC, expire_time_ns: int | None = None, post_only: bool = False,
        reduce_only: bool = False, position_id: str = "", tags: tuple[str, ...] = (),
    ) -> Order:
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.LIMIT, qty, self._now(),
            price=inst.price(price), time_in_force=time_in_force, expire_time_ns=expire_time_ns,
            post_only=post_only, reduce_only=reduce_only, position_id=position_id, tags=tags,
        )

    def stop_market(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, trigger_price: Human | Price, *,
        time_in_force: TimeInForce = TimeInForce.GTC, expire_time_ns: int | None = None, reduce_only: bool = False,
        position_id: str = "", tags: tuple[str, ...] = (),
    ) -> Order:
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.STOP_MARKET, qty, self._now(),
            trigger_price=inst.price(trigger_price), time_in_force=time_in_force, expire_time_ns=expire_time_ns,
            reduce_only=reduce_only, position_id=position_id, tags=tags,
        )

    def stop_limit(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, price: Human | Price,
        trigger_price: Human | Price, *, time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None, reduce_only: bool = False, position_id: str = "",
        tags: tuple[str, ...] = (),
    ) -> Order:
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.STOP_LIMIT, qty, self._now(),
            price=inst.price(price), trigger_price=inst.price(trigger_price), time_in_force=time_in_force,
            expire_time_ns=expire_time_ns, reduce_only=reduce_only, position_id=position_id, tags=tags,
        )

    def market_if_touched(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, trigger_price: Human | Price, *,
        time_in_force: TimeInForce = TimeInForce.GTC, expire_time_ns: int | None = None, reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> Order:
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.MARKET_IF_TOUCHED, qty,
            self._now(), trigger_price=inst.price(trigger_price), time_in_force=time_in_force,
            expire_time_ns=expire_time_ns, reduce_only=reduce_only, tags=tags,
        )

    def trailing_stop_market(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, trailing_offset: Human | Price, *,
        trigger_price: Human | Price | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False, tags: tuple[str, ...] = (),
    ) -> Order:
        """A stop that trails the best price by ``trailing_offset`` (price units); the venue sets the
        first trigger from the market unless ``trigger_price`` is given."""
        inst, qty = self._common(instrument_id, quantity)
        return self._make(
            inst.id, side, OrderType.TRAILING_STOP_MARKET, qty,
            self._now(), trigger_price=None if trigger_price is None else inst.price(trigger_price),
            trailing_offset=inst.price(trailing_offset), time_in_force=time_in_force, reduce_only=reduce_only,
            tags=tags,
        )

    def _next_list_id(self) -> str:
        self._list_count += 1
        return f"{self.strategy_id}-L{self._list_count}"

    def bracket(
        self, instrument_id: str, side: OrderSide, quantity: Human | Quantity, *, take_profit: Human | Price,
        stop_loss: Human | Price, entry_price: Human | Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> list[Order]:
        """Entry (market, or limit at ``entry_price``) plus take-profit limit and stop-loss stop.

        The exits are released when the entry fills (OTO) and cancel each other (OCO).
        """
        list_id = self._next_list_id()
        entry = (
            self.market(instrument_id, side, quantity, time_in_force=time_in_force)
            if entry_price is None
            else self.limit(instrument_id, side, quantity, entry_price, time_in_force=time_in_force)
        )
        tp = self.limit(instrument_id, side.opposite, quantity, take_profit, reduce_only=True)
        sl = self.stop_market(instrument_id, side.opposite, quantity, stop_loss, reduce_only=True)
        entry.order_list_id = tp.order_list_id = sl.order_list_id = list_id
        entry.contingency_type = ContingencyType.OTO
        entry.linked_order_ids = (tp.client_order_id, sl.client_order_id)
        tp.parent_order_id = sl.parent_order_id = entry.client_order_id
        tp.contingency_type = sl.contingency_type = ContingencyType.OCO
        tp.linked_order_ids = (sl.client_order_id,)
        sl.linked_order_ids = (tp.client_order_id,)
        return [entry, tp, sl]

    def oco(self, first: Order, second: Order) -> list[Order]:
        """Link two orders so that a fill of one cancels (or reduces) the other."""
        list_id = self._next_list_id()
        for a, b in ((first, second), (second, first)):
            a.contingency_type = ContingencyType.OCO
            a.linked_order_ids = (b.client_order_id,)
            a.order_list_id = list_id
        return [first, second]

    def oto(self, parent: Order, *children: Order) -> list[Order]:
        """``children`` are held until ``parent`` fills, then sent with the filled quantity."""
        list_id = self._next_list_id()
        parent.contingency_type = ContingencyType.OTO
        parent.linked_order_ids = tuple(c.client_order_id for c in children)
        parent.order_list_id = list_id
        for c in children:
            c.parent_order_id = parent.client_order_id
            c.order_list_id = list_id
        return [parent, *children]
