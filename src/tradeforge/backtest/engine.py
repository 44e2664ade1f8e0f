"""Backtest wiring: a simulated clock, data streams and simulated venues around the same components
(bus, strategies, execution engine, risk engine, portfolio) that paper and live trading use.

Per event the runner does: advance the clock (timers fire first, in time order), then publish the
event on its topic. Subscribers run in priority order: the venue (fills resting orders against the
new data), the portfolio (marks to market), then strategies (indicators, then the handler).

An L3 order flow whose only subscriber is a compiled book-replay venue (:meth:`add_order_flow`) is
not published message by message: the runner hands the venue's kernel runs of it -- every message
before the next event of another stream, up to the next due timer (:mod:`.flow_runs`) -- and the
kernel gives a message back to Python only when something must happen there (a fill of ours, a stop).
The order of everything, clock times and equity samples are those of the per-event path.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from pathlib import Path
from typing import Unpack

from tradeforge.backtest.flow_runs import FlowRunner
from tradeforge.backtest.result import BacktestResult, EquityCurve
from tradeforge.core.bus import Handler
from tradeforge.core.clock import SimulatedClock
from tradeforge.data.catalog import Catalog, CatalogError, normalize_kind
from tradeforge.data.catalog_stream import KIND_SINGULAR, CatalogStream, parse_ns
from tradeforge.data.columns import Columns, EventList
from tradeforge.data.errors import BadRecord
from tradeforge.data.stream import DEFAULT_CHUNK, DataStream, Stream, merge
from tradeforge.model.data import CustomData, Data, OrderBookDelta, OrderBookDepth
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.node.kernel import VENUE_PRIORITY, KernelOptions, Node
from tradeforge.strategy.base import Strategy, data_topic
from tradeforge.venues.fees import FeeModel
from tradeforge.venues.impact import ImpactModel, ParticipationCap
from tradeforge.venues.latency import LatencyModel
from tradeforge.venues.replay.flow import OrderFlow
from tradeforge.venues.replay.kbook import FlowFeed
from tradeforge.venues.replay.market_view import DerivedFlows, derive, market_view
from tradeforge.venues.replay.venue import BookReplayVenue, ReplayVenueConfig
from tradeforge.venues.simulated import SimulatedVenue, SimulatedVenueConfig
from tradeforge.venues.slippage import SlippageModel

Progress = Callable[[int], None]


class BacktestEngine(Node):
    """Build with instruments and an account, add venues, strategies and data, then :meth:`run`.

    ``options`` are the kernel's: ``oms_type``, ``risk_checks``, ``trading_state``.
    """

    def __init__(
        self,
        instruments: InstrumentProvider,
        currency: str,
        starting_cash_raw: int,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        check_invariant: bool = False,
        **options: Unpack[KernelOptions],
    ) -> None:
        self.clock = SimulatedClock()
        super().__init__(instruments, self.clock, currency, starting_cash_raw, **options)
        self.venues: dict[str, SimulatedVenue | BookReplayVenue] = {}
        self.streams: list[Stream] = []
        self.chunk_size = chunk_size
        self.check_invariant = check_invariant
        self.quarantined: list[BadRecord] = []
        self.data_warnings: Counter[str] = Counter()  # integrity warnings by kind (data kept)
        self._feeds: dict[int, FlowFeed] = {}  # id(stream) -> its compiled replay (add_order_flow)

    # -- assembly --
    def add_venue(
        self, config: SimulatedVenueConfig, fee_model: FeeModel | None = None, slippage: SlippageModel | None = None,
        impact: ImpactModel | None = None, participation_cap: ParticipationCap | None = None,
    ) -> SimulatedVenue:
        venue = SimulatedVenue(
            config, self.instruments.get, self.clock.timestamp_ns, fee_model, slippage, impact, participation_cap
        )
        self.venues[config.name] = venue
        self.kernel.add_venue(venue)
        return venue

    def add_replay_venue(
        self, config: ReplayVenueConfig, fee_model: FeeModel | None = None, impact: ImpactModel | None = None
    ) -> BookReplayVenue:
        """A venue that matches against replayed order flow (L3, L2 or L1; see
        :mod:`tradeforge.venues.replay.venue`); feed it with :meth:`add_order_flow`."""
        venue = BookReplayVenue(config, self.instruments.get, self.clock, fee_model, impact)
        self.venues[config.name] = venue
        self.kernel.add_venue(venue)
        return venue

    def add_order_flow(
        self, flow: OrderFlow, feed_latency: LatencyModel | None = None, derived: DerivedFlows | None = None,
        *, market_data: bool = True,
    ) -> DerivedFlows | None:
        """Replay an order flow through its instrument's book-replay venue, at the venue's fidelity
        (an L3 flow is reduced to L2 / L1 as needed), and publish what strategies see of it --
        top-of-book quotes and trade prints, delayed by ``feed_latency`` -- on the usual topics
        (``market_data=False``: the venue alone, e.g. to measure it). Returns the derived flows
        (pass them back in ``derived`` to reuse them across runs)."""
        inst = self.instruments.get(flow.instrument_id)
        venue = self.venues.get(inst.venue)
        if not isinstance(venue, BookReplayVenue):
            raise ValueError(f"order flow of {inst.id} needs a book-replay venue {inst.venue!r} (add_replay_venue)")
        flow.validate_sorted(f"order flow of {inst.id}")
        rank = {"l3": 3, "l2": 2, "l1": 1}
        if rank[flow.level] < rank[venue.fidelity]:
            raise ValueError(f"venue {venue.name} replays at {venue.fidelity} but the flow of {inst.id} is {flow.level}")
        if flow.level != "l1" and (market_data or venue.fidelity != flow.level):
            derived = derived or derive(flow)
            flow = {"l3": flow, "l2": derived.l2, "l1": derived.l1}[venue.fidelity]
        topic = data_topic("flow", inst.id)
        self.bus.subscribe(topic, venue.on_flow, priority=VENUE_PRIORITY)
        feed = venue.compile_flow(flow)
        venue.book(inst.id)
        stream = DataStream(flow, topic, self.chunk_size)  # type: ignore[arg-type]
        self.streams.append(stream)
        if feed is not None:
            self._feeds[id(stream)] = feed
        if derived is not None and market_data:
            quotes, trades = market_view(derived, feed_latency)
            self.add_data(quotes)
            self.add_data(trades)
        return derived

    def add_data(self, columns: Columns) -> None:
        """Add one stream; it is published on ``data.{bars|quotes|trades}.{instrument_id}``."""
        inst = self.instruments.get(columns.instrument_id)
        if inst.venue not in self.venues:
            raise ValueError(f"no venue {inst.venue!r} added for data of {inst.id}")
        columns.validate_sorted(f"data of {inst.id}")
        topic = self.kernel.connect_market_data(columns.kind, inst.id)
        self.streams.append(DataStream(columns, topic, self.chunk_size))

    def add_catalog(
        self, catalog: Catalog | str | Path, kind: str, instrument_id: str,
        start: int | str | None = None, end: int | str | None = None, *, chunk_size: int | None = None,
    ) -> CatalogStream:
        """Replay one series of a data catalog (streamed from disk, batch by batch); ``start`` is
        inclusive, ``end`` exclusive, as ns or ISO text. The catalog's precision must be the run's.

        Book deltas (kind ``book``) are published on ``data.book.{instrument_id}`` for strategies
        only, like :meth:`add_book_data`: no venue is needed (a book-replay venue matches on order flow,
        :meth:`add_order_flow`)."""
        cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        kind = normalize_kind(kind)
        inst = self.instruments.get(instrument_id)
        if kind != "book" and inst.venue not in self.venues:
            raise ValueError(f"no venue {inst.venue!r} added for data of {inst.id}")
        stored = cat.instrument(kind, instrument_id)
        if (stored.price_precision, stored.size_precision) != (inst.price_precision, inst.size_precision):
            raise CatalogError(
                f"{kind} of {inst.id} in {cat.root} are at price/size precision "
                f"{stored.price_precision}/{stored.size_precision}, but the run's instrument is at "
                f"{inst.price_precision}/{inst.size_precision}"
            )
        stream = CatalogStream(
            cat, kind, str(inst.id), "", parse_ns(start), parse_ns(end), chunk_size or self.chunk_size
        )
        if len(stream):
            if kind == "book":
                stream.topic = data_topic("book", inst.id)
            else:
                stream.topic = self.kernel.connect_market_data(KIND_SINGULAR[kind], inst.id)
            self.streams.append(stream)
        return stream

    def add_custom_data(self, data_type: str, events: list[CustomData]) -> None:
        """Add user-defined data (news, signals, alternative data), published on ``data.custom.{data_type}``."""
        bad = [e for e in events if e.data_type != data_type]
        if bad:
            raise ValueError(f"custom data stream {data_type!r} holds events of type {bad[0].data_type!r}")
        stream = EventList.of(list(events))
        stream.validate_sorted(f"custom data {data_type}")
        self.streams.append(DataStream(stream, f"data.custom.{data_type}", self.chunk_size))

    def add_book_data(self, instrument_id: str, events: list[OrderBookDelta | OrderBookDepth]) -> None:
        """Add order book deltas / depth snapshots, published on ``data.book.{instrument_id}``
        (strategies see them; to match our orders against order flow use :meth:`add_order_flow`)."""
        inst = self.instruments.get(instrument_id)
        stream = EventList.of(list(events), inst.id)
        stream.validate_sorted(f"book data of {inst.id}")
        self.streams.append(DataStream(stream, data_topic("book", inst.id), self.chunk_size))

    # -- running --
    def _rounds(self, streams: list[Stream]) -> Iterator[tuple[Iterable[list[Handler]], list[Data], list[int]]]:
        """Events in replay order, round by round, each with the handler list of its topic and the
        position of its stream in ``streams``."""
        if len(streams) == 1:  # no merge needed
            handlers = self.bus.handlers(streams[0].topic)
            for chunk in streams[0].chunks():
                yield repeat(handlers), chunk.events, [0] * len(chunk.events)
            return
        by_stream = [self.bus.handlers(s.topic) for s in streams]
        for _, events_by_stream, sids, idxs in merge(streams):
            sid_list = sids.tolist()
            yield (
                [by_stream[s] for s in sid_list],
                [events_by_stream[s][i] for s, i in zip(sid_list, idxs.tolist(), strict=True)],
                sid_list,
            )

    def _compiled(self) -> dict[int, FlowFeed]:
        """Stream index -> compiled feed, for flows whose topic has no subscriber but their venue."""
        out: dict[int, FlowFeed] = {}
        for i, s in enumerate(self.streams):
            feed = self._feeds.get(id(s))
            if feed is not None and self.bus.handlers(s.topic) == [feed.venue.on_flow]:
                feed.pos = 0
                out[i] = feed
        return out

    def run(self, progress: Progress | None = None) -> BacktestResult:
        """Replay all streams merged by ``(ts_init, stream, sequence)`` and return the result."""
        starts = [s.first_ts for s in self.streams if s.first_ts is not None]
        clock = self.clock
        if starts:
            clock.set_time(min(starts))
        self.kernel.start()
        curve = EquityCurve()
        pf = self.portfolio
        check = self.check_invariant
        compiled = self._compiled()
        others = [i for i in range(len(self.streams)) if i not in compiled]
        runner = FlowRunner(clock, pf, curve, check, list(compiled.items()), progress)
        rec_ts, rec_eq, rec_gross = curve.ts.append, curve.equity.append, curve.gross.append
        last_ts = -1
        for handler_lists, events, sids in self._rounds([self.streams[i] for i in others]):
            due = runner.prepare(events, sids, others) if compiled else repeat(False)
            for n, (handlers, ev, flow_first) in enumerate(zip(handler_lists, events, due)):  # noqa: B905
                if flow_first:  # flow messages come before this event: replay them
                    last_ts = runner.drain_before(n, last_ts)
                    rec_ts, rec_eq, rec_gross = curve.ts.append, curve.equity.append, curve.gross.append
                ts = ev.ts_init  # type: ignore[attr-defined]
                if ts != last_ts:
                    if last_ts >= 0:  # the previous timestamp is complete: sample equity
                        try:
                            rec_ts(last_ts)
                            rec_eq(pf.cash + pf._value)
                            rec_gross(pf._gross)
                        except OverflowError:
                            curve.widen()
                            curve.record(last_ts, pf.cash + pf._value, pf._gross)
                            rec_ts, rec_eq, rec_gross = curve.ts.append, curve.equity.append, curve.gross.append
                        if check:
                            pf.check_invariant()
                    if ts >= clock.next_timer_ns:
                        clock.advance_to(ts)  # due timers fire first, in time order
                    else:
                        clock._now = ts
                    last_ts = ts
                for h in handlers:
                    h(ev)
            if progress is not None:
                progress(len(events))
        if compiled:
            last_ts = runner.drain([len(f) for f in runner.feeds], last_ts)  # what is left of the flows
        self.kernel.stop()
        if last_ts >= 0:
            curve.record(last_ts, pf.equity(), pf.gross_exposure())
        pf.check_invariant()
        return BacktestResult(self, curve, self.quarantined, dict(sorted(self.data_warnings.items())))


def load_strategy_class(spec: str, base_dir: Path | None = None) -> type[Strategy]:
    """``package.module:Class`` or ``path/to/file.py:Class`` (relative to ``base_dir``)."""
    target, sep, cls_name = spec.rpartition(":")
    if not sep or not target or not cls_name:
        raise ValueError(f"strategy class {spec!r} must look like 'module:Class' or 'file.py:Class'")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ValueError(f"strategy file {path} does not exist")
        mod_spec = importlib.util.spec_from_file_location(f"tradeforge_user_{path.stem}", path)
        assert mod_spec is not None and mod_spec.loader is not None
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ValueError(f"{spec!r} is not a Strategy subclass")
    return cls
