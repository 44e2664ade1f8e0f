"""The ``Strategy`` base class: written once, run in backtest, paper and live unchanged.

A strategy never talks to a venue and never reads the wall clock. The node (backtest or live) wires
it to a :class:`StrategyContext`: the bus it listens on, the clock, instruments, a read-only view of
the portfolio and the trading API (the execution engine, behind the risk gate).

Market data fields are raw fixed-point integers (``bar.close`` is ``1107850`` for ``1.10785`` at
precision 5); use ``self.instrument(id).price_to_float(raw)`` to display them. Registered indicators
receive the raw field too, so their sums are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tradeforge.core.bus import MessageBus
from tradeforge.core.clock import Clock, TimeEvent
from tradeforge.model.data import Bar, CustomData, OrderBookDelta, OrderBookDepth, QuoteTick, TradeTick
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderEvent, PositionEvent
from tradeforge.model.instruments import Instrument
from tradeforge.model.order_factory import OrderFactory
from tradeforge.model.orders import Order
from tradeforge.model.trading import OrderApi
from tradeforge.strategy.indicators import Indicator


class TradingApi(OrderApi, Protocol):
    """What a strategy may ask of the execution layer (implemented by the execution engine)."""

    def submit_order_list(self, orders: list[Order]) -> list[Order]: ...


class PositionView(Protocol):
    """What a strategy reads of a position (implemented by ``portfolio.Position``)."""

    position_id: str
    instrument_id: str
    net_qty: int
    realized_pnl: int
    opened_ts_ns: int

    @property
    def avg_px(self) -> float: ...

    def unrealized_pnl(self, mark: int) -> int: ...


class PortfolioView(Protocol):
    """Read-only portfolio access (implemented by the portfolio); money is raw at 1e-9."""

    def equity(self) -> int: ...

    def position(self, instrument_id: str, strategy_id: str) -> PositionView | None: ...

    def open_positions(self, strategy_id: str | None = None) -> list[PositionView]: ...

    def unrealized_pnl(self, instrument_id: str | None = None) -> int: ...

    def net_quantity(self, instrument_id: str) -> int: ...

    def last_price(self, instrument_id: str) -> int | None: ...

    cash: int


@dataclass(slots=True)
class StrategyContext:
    bus: MessageBus
    clock: Clock
    instruments: Callable[[str], Instrument]
    portfolio: PortfolioView
    trading: TradingApi


def data_topic(kind: str, instrument_id: str) -> str:
    """The bus topic of market data: ``data.{bars|quotes|trades|book}.{instrument_id}``."""
    return f"data.{kind}.{instrument_id}"


class Strategy:
    """Subclass and override the ``on_*`` handlers you need."""

    def __init__(self, strategy_id: str, params: dict[str, Any] | None = None) -> None:
        self.id = strategy_id
        self.params: dict[str, Any] = dict(params or {})
        self._ctx: StrategyContext | None = None
        self.order_factory: OrderFactory
        self.clock: Clock
        self.portfolio: PortfolioView
        self._bar_indicators: dict[str, list[Indicator]] = {}
        self._quote_indicators: dict[str, list[Indicator]] = {}

    # -- wiring (called by the node) --
    def register(self, ctx: StrategyContext) -> None:
        self._ctx = ctx
        self.clock = ctx.clock
        self.portfolio = ctx.portfolio
        self.order_factory = OrderFactory(self.id, ctx.instruments, ctx.clock.timestamp_ns)
        ctx.bus.subscribe(f"events.order.{self.id}", self.on_order_event)
        ctx.bus.subscribe(f"events.position.{self.id}", self.on_position_event)

    @property
    def ctx(self) -> StrategyContext:
        if self._ctx is None:
            raise RuntimeError(f"strategy {self.id} is not registered with a node")
        return self._ctx

    def instrument(self, instrument_id: str) -> Instrument:
        return self.ctx.instruments(instrument_id)

    # -- subscriptions --
    def subscribe_bars(self, instrument_id: str) -> None:
        inds = self._bar_indicators.setdefault(instrument_id, [])
        on_bar = self.on_bar

        def handle(bar: Bar) -> None:
            close = bar.close
            for ind in inds:
                ind.update(close)
            on_bar(bar)

        self.ctx.bus.subscribe(data_topic("bars", instrument_id), handle)

    def subscribe_quotes(self, instrument_id: str) -> None:
        inds = self._quote_indicators.setdefault(instrument_id, [])
        on_quote = self.on_quote

        def handle(quote: QuoteTick) -> None:
            if inds:
                mid = (quote.bid + quote.ask) / 2
                for ind in inds:
                    ind.update(mid)
            on_quote(quote)

        self.ctx.bus.subscribe(data_topic("quotes", instrument_id), handle)

    def subscribe_trades(self, instrument_id: str) -> None:
        self.ctx.bus.subscribe(data_topic("trades", instrument_id), self.on_trade)

    def subscribe_book(self, instrument_id: str) -> None:
        self.ctx.bus.subscribe(data_topic("book", instrument_id), self.on_book)

    def subscribe_data(self, data_type: str) -> None:
        self.ctx.bus.subscribe(f"data.custom.{data_type}", self.on_data)

    def register_indicator_for_bars(self, instrument_id: str, indicator: Indicator) -> None:
        """Update ``indicator`` with each bar's raw close before ``on_bar`` runs."""
        self._bar_indicators.setdefault(instrument_id, []).append(indicator)

    def register_indicator_for_quotes(self, instrument_id: str, indicator: Indicator) -> None:
        """Update ``indicator`` with each quote's raw mid before ``on_quote`` runs."""
        self._quote_indicators.setdefault(instrument_id, []).append(indicator)

    # -- trading --
    def submit_order(self, order: Order) -> Order:
        return self.ctx.trading.submit_order(order)

    def submit_order_list(self, orders: list[Order]) -> list[Order]:
        return self.ctx.trading.submit_order_list(orders)

    def cancel_order(self, order: Order) -> None:
        self.ctx.trading.cancel_order(order)

    def modify_order(
        self, order: Order, quantity: int | None = None, price: int | None = None, trigger_price: int | None = None
    ) -> None:
        """Cancel/replace with raw quantity / price / trigger price."""
        self.ctx.trading.modify_order(order, quantity, price, trigger_price)

    def cancel_all_orders(self, instrument_id: str | None = None) -> None:
        for order in self.open_orders(instrument_id):
            self.cancel_order(order)

    def open_orders(self, instrument_id: str | None = None) -> list[Order]:
        return self.ctx.trading.open_orders(self.id, instrument_id)

    def position(self, instrument_id: str) -> PositionView | None:
        """This strategy's open position in ``instrument_id`` (the oldest one when hedging)."""
        return self.portfolio.position(instrument_id, self.id)

    def positions(self) -> list[PositionView]:
        """This strategy's open positions."""
        return self.portfolio.open_positions(self.id)

    def position_quantity(self, instrument_id: str) -> int:
        """This account's net raw quantity in ``instrument_id`` (signed)."""
        return self.ctx.portfolio.net_quantity(instrument_id)

    def close_position(self, instrument_id: str) -> Order | None:
        """Flatten with a reduce-only market order; ``None`` if already flat."""
        qty = self.position_quantity(instrument_id)
        if qty == 0:
            return None
        inst = self.instrument(instrument_id)
        side = OrderSide.SELL if qty > 0 else OrderSide.BUY
        order = self.order_factory.market(instrument_id, side, inst.make_quantity(abs(qty)), reduce_only=True)
        return self.submit_order(order)

    # -- timers --
    def set_timer(self, name: str, interval_ns: int, start_ns: int | None = None, stop_ns: int | None = None) -> None:
        self.clock.set_timer(f"{self.id}:{name}", interval_ns, self._on_timer, start_ns, stop_ns)

    def set_time_alert(self, name: str, alert_ns: int) -> None:
        self.clock.set_time_alert(f"{self.id}:{name}", alert_ns, self._on_timer)

    def _on_timer(self, event: TimeEvent) -> None:
        self.on_timer(TimeEvent(event.name.partition(":")[2], event.ts_event, event.ts_init))

    # -- handlers to override --
    def on_start(self) -> None:
        """Subscribe to data and register indicators here."""

    def on_bar(self, bar: Bar) -> None: ...

    def on_quote(self, quote: QuoteTick) -> None: ...

    def on_trade(self, trade: TradeTick) -> None: ...

    def on_book(self, book: OrderBookDelta | OrderBookDepth) -> None: ...

    def on_data(self, data: CustomData) -> None: ...

    def on_order_event(self, event: OrderEvent) -> None: ...

    def on_position_event(self, event: PositionEvent) -> None: ...

    def on_timer(self, event: TimeEvent) -> None: ...

    def on_stop(self) -> None: ...
