"""One wiring of the trading components, used unchanged by the backtest engine and the live node.

The environment only chooses the clock (simulated or live) and the venues (simulated, paper or real
adapters), and pushes market data in. Market data topics are ``data.{bars|quotes|trades}.{id}``;
a venue that matches against market data (simulated or paper) subscribes first, then the portfolio
(mark to market), then strategies.
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from tradeforge.core.bus import MessageBus
from tradeforge.core.clock import Clock
from tradeforge.execution.engine import ExecutionEngine
from tradeforge.model.enums import OmsType, TradingState
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.portfolio.portfolio import Portfolio
from tradeforge.risk.checks import RiskCheck
from tradeforge.risk.engine import RiskEngine
from tradeforge.strategy.base import Strategy, StrategyContext, data_topic
from tradeforge.venues.base import ExecutionVenue

VENUE_PRIORITY = 100
PORTFOLIO_PRIORITY = 50
RISK_PRIORITY = 40  # after the portfolio's marks, before strategies
KIND_TOPIC = {"bar": "bars", "quote": "quotes", "trade": "trades"}
KIND_HANDLER = {"bar": "on_bar", "quote": "on_quote", "trade": "on_trade"}


class KernelOptions(TypedDict, total=False):
    """Account and risk settings every environment passes to its kernel."""

    oms_type: OmsType
    risk_checks: list[RiskCheck] | None
    trading_state: TradingState
    risk_options: dict[str, Any] | None  # keyword arguments of RiskEngine (sectors, accounts, monitors, audit, ...)


class Kernel:
    """Bus, clock, portfolio, risk gate, OMS, venues and strategies, wired together."""

    def __init__(
        self,
        instruments: InstrumentProvider,
        clock: Clock,
        currency: str,
        starting_cash_raw: int,
        *,
        oms_type: OmsType = OmsType.NETTING,
        risk_checks: list[RiskCheck] | None = None,
        trading_state: TradingState = TradingState.ACTIVE,
        risk_options: dict[str, Any] | None = None,
    ) -> None:
        self.instruments = instruments
        self.clock = clock
        self.bus = MessageBus()
        self.portfolio = Portfolio(currency, starting_cash_raw, oms_type)
        self.risk = RiskEngine(self.portfolio, instruments.get, risk_checks or [], trading_state, **(risk_options or {}))
        self.execution = ExecutionEngine(self.bus, clock, self.risk, instruments.get)
        self.risk.attach(self.bus, clock, self.execution)
        self._data_topics: list[tuple[str, str]] = []  # (topic, handler name) for the risk engine
        self.bus.register_endpoint("portfolio.apply_fill", self.portfolio.apply_fill)
        self.venues: dict[str, ExecutionVenue] = {}
        self.strategies: list[Strategy] = []

    def add_venue(self, venue: ExecutionVenue) -> None:
        self.venues[venue.name] = venue
        self.execution.register_venue(venue)

    def add_strategy(self, strategy: Strategy) -> None:
        strategy.register(StrategyContext(self.bus, self.clock, self.instruments.get, self.portfolio, self.execution))
        self.strategies.append(strategy)

    def connect_market_data(self, kind: str, instrument_id: str) -> str:
        """Route one instrument's market data of ``kind`` (bar, quote, trade); returns its topic."""
        inst = self.instruments.get(instrument_id)
        self.portfolio.register_instrument(inst)
        topic = data_topic(KIND_TOPIC[kind], inst.id)
        handler = KIND_HANDLER[kind]
        venue = self.venues.get(inst.venue)
        if venue is not None and hasattr(venue, handler):  # simulated / paper venues match on data
            self.bus.subscribe(topic, getattr(venue, handler), priority=VENUE_PRIORITY)
        self.bus.subscribe(topic, getattr(self.portfolio, handler), priority=PORTFOLIO_PRIORITY)
        self._data_topics.append((topic, handler))
        return topic

    def start(self) -> None:
        if self.risk.needs_market_data:  # only then: prices cost the risk engine a call per event
            for topic, handler in self._data_topics:
                self.bus.subscribe(topic, getattr(self.risk, handler), priority=RISK_PRIORITY)
            self.risk.state.marked = True
        for strategy in self.strategies:
            strategy.on_start()

    def stop(self) -> None:
        """Stop strategies, then cancel every timer: nothing fires after a stop."""
        for strategy in self.strategies:
            strategy.on_stop()
        for name in self.clock.timer_names():
            self.clock.cancel_timer(name)


class Node:
    """Base of the backtest engine and the live node: a kernel around the clock the subclass picks."""

    def __init__(
        self, instruments: InstrumentProvider, clock: Clock, currency: str, starting_cash_raw: int,
        **options: Unpack[KernelOptions],
    ) -> None:
        self.kernel = Kernel(instruments, clock, currency, starting_cash_raw, **options)
        self.instruments = instruments
        self.bus = self.kernel.bus
        self.portfolio = self.kernel.portfolio
        self.risk = self.kernel.risk
        self.execution = self.kernel.execution
        self.strategies = self.kernel.strategies

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)
