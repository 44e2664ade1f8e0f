"""The live node: the same kernel as the backtest, with a real-time clock and pushed market data.

A strategy class runs here exactly as in a backtest. With ``add_paper_venue`` orders are matched by
the simulated venue against the live data (paper trading); a real venue adapter plugs in through
``add_venue`` with the same interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Unpack

from tradeforge.core.clock import LiveClock
from tradeforge.model.data import Data
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.node.kernel import KernelOptions, Node
from tradeforge.strategy.base import data_topic
from tradeforge.venues.base import ExecutionVenue
from tradeforge.venues.fees import FeeModel
from tradeforge.venues.impact import ImpactModel, ParticipationCap
from tradeforge.venues.replay.flow import FlowMessage
from tradeforge.venues.replay.market_view import LiveMarketView
from tradeforge.venues.replay.venue import BookReplayVenue, ReplayVenueConfig
from tradeforge.venues.simulated import SimulatedVenue, SimulatedVenueConfig
from tradeforge.venues.slippage import SlippageModel


class LiveNode(Node):
    """Paper / live trading node; ``options`` are the kernel's (``oms_type``, ``risk_checks``, ...)."""

    def __init__(
        self, instruments: InstrumentProvider, currency: str, starting_cash_raw: int, **options: Unpack[KernelOptions]
    ) -> None:
        self.clock = LiveClock()
        super().__init__(instruments, self.clock, currency, starting_cash_raw, **options)
        self._feeds: list[tuple[str, AsyncIterator[Data]]] = []
        self._flow_feeds: list[tuple[BookReplayVenue, str, AsyncIterator[FlowMessage]]] = []
        self.events_published = 0

    def add_paper_venue(
        self, config: SimulatedVenueConfig, fee_model: FeeModel | None = None, slippage: SlippageModel | None = None,
        impact: ImpactModel | None = None, participation_cap: ParticipationCap | None = None,
    ) -> SimulatedVenue:
        """A venue that fills against the live market data (paper trading), with the backtest's cost models."""
        venue = SimulatedVenue(
            config, self.instruments.get, self.clock.timestamp_ns, fee_model, slippage, impact, participation_cap
        )
        self.kernel.add_venue(venue)
        return venue

    def add_paper_replay_venue(self, config: ReplayVenueConfig, fee_model: FeeModel | None = None) -> BookReplayVenue:
        """A book-replay venue (L3 / L2 / L1 queue simulation) fed by :meth:`add_order_flow_feed`."""
        venue = BookReplayVenue(config, self.instruments.get, self.clock, fee_model)
        self.kernel.add_venue(venue)
        return venue

    def add_order_flow_feed(self, instrument_id: str, feed: AsyncIterator[FlowMessage]) -> None:
        """Order flow of one instrument for its book-replay venue; strategies get the quotes and
        prints it makes (:class:`~tradeforge.venues.replay.market_view.LiveMarketView`)."""
        inst = self.instruments.get(instrument_id)
        venue = self.kernel.venues.get(inst.venue)
        if not isinstance(venue, BookReplayVenue):
            raise ValueError(f"order flow of {inst.id} needs a book-replay venue {inst.venue!r}")
        venue.book(inst.id)
        self.kernel.connect_market_data("quote", inst.id)
        self.kernel.connect_market_data("trade", inst.id)
        self._flow_feeds.append((venue, inst.id, feed))

    def add_venue(self, venue: ExecutionVenue) -> None:
        self.kernel.add_venue(venue)

    def add_feed(self, kind: str, instrument_id: str, feed: AsyncIterator[Data]) -> None:
        """Market data of ``kind`` (bar, quote, trade) for one instrument, from an async feed."""
        self._feeds.append((self.kernel.connect_market_data(kind, instrument_id), feed))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Start strategies, pump every feed until all end (or ``stop`` is set), stop strategies."""
        self.kernel.start()
        bus = self.kernel.bus

        async def pump(topic: str, feed: AsyncIterator[Data]) -> None:
            handlers = bus.handlers(topic)
            async for event in feed:
                for handler in handlers:
                    handler(event)
                self.events_published += 1
                if stop is not None and stop.is_set():
                    return

        async def pump_flow(venue: BookReplayVenue, iid: str, feed: AsyncIterator[FlowMessage]) -> None:
            quotes = bus.handlers(data_topic("quotes", iid))
            trades = bus.handlers(data_topic("trades", iid))
            view = LiveMarketView(iid)
            book = venue.books[iid]
            now = self.clock.timestamp_ns
            async for message in feed:
                venue.on_flow(message)
                quote, trade = view.after(message, book, now())
                for event, handlers in ((quote, quotes), (trade, trades)):
                    if event is not None:
                        for handler in handlers:
                            handler(event)
                self.events_published += 1
                if stop is not None and stop.is_set():
                    return

        try:
            await asyncio.gather(*(pump(topic, feed) for topic, feed in self._feeds),
                                 *(pump_flow(*f) for f in self._flow_feeds))
        finally:
            self.kernel.stop()
