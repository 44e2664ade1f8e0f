"""A venue that matches our orders against a replayed exchange book (L3, L2 or L1 order flow).

The data's book (:class:`~.book.ReplayBook`) replays exactly as recorded: our orders never change
it (no market impact on the replayed book; see docs/simulated_exchange.md). Our orders are
*virtual*: a resting order hangs on its level and moves up the queue as the data says.

Fidelity (``ReplayVenueConfig.fidelity``, matching the flow's level):

- ``l3`` -- our order joins the back of the real FIFO queue at arrival: every data order then at
  its level (and the level's unattributed size) is ahead of it. Cancels and executions of those
  orders shrink ``ahead``; an execution at our price of an order *behind* us (or a hidden
  execution there) once nothing is ahead means the aggressor would have met us first: we fill.
- ``l2`` -- level sizes only: a :class:`~tradeforge.venues.queue.QueueModel` per order estimates
  ``ahead`` from trades and size changes (risk-averse by default).
- ``l1`` -- top of book only: the queue estimate starts when our level is (or becomes) the touch
  and only moves while it is; deeper levels are unknown.

In every fidelity: a trade *through* our price (a seller hitting bids below our bid) fills us; a
new data order that would cross our resting order (an ask added at or below our bid) trades with
it, up to its size; resting fills are maker fills at our price. An order that is marketable on
arrival takes the displayed liquidity (best level first, at each level's price, taker) without
depleting it: the data never saw us. Market orders that find no more liquidity are canceled (L3/L2)
or, on L1 where depth is unknown, fill the rest at the touch plus the configured impact model.
Stop orders wait for a trade print at or through their trigger, then arrive as market / limit.
GTD orders expire at their expire time and DAY orders at the session close of the venue's calendar
(the end of the UTC day without one), by a clock alert.

Latency (``latency``, any :class:`~tradeforge.venues.latency.LatencyModel`): an order or cancel
reaches the exchange ``entry_ns`` after the decision and meets the book as it is *then*; every
report (ack, fill, cancel) reaches the OMS ``response_ns`` after the exchange time it happened, never
overtaking an earlier report (``ts_event`` = exchange time, ``ts_init`` = delivery). The feed leg
is applied to what strategies see (:func:`~.market_view.market_view`).

Compiled L3 (``ReplayVenueConfig.compiled``, default on): :meth:`BookReplayVenue.compile_flow` puts the
instrument's book and our resting orders' queue positions into a :class:`~.kbook.KernelBook`, and the
backtest engine replays the flow through its kernel in runs (:mod:`.kernel`); the kernel hands a message
back (:meth:`BookReplayVenue.on_flow_at`) whenever this module's code must handle it, over the same
arrays, so both paths give the same results. :meth:`on_flow` is the reference path, used for L2/L1,
paper trading and anything else that feeds messages one by one.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradeforge.core.clock import Clock, TimeEvent
from tradeforge.model.calendar import SessionCalendar, day_order_end
from tradeforge.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.venues.base import Report
from tradeforge.venues.fees import FeeContext, FeeModel, NoFee
from tradeforge.venues.impact import ImpactContext, ImpactModel, NoImpact
from tradeforge.venues.latency import ConstantLatency, LatencyModel
from tradeforge.venues.queue import QueueModel, RiskAverseQueue
from tradeforge.venues.replay.book import Level, ReplayBook
from tradeforge.venues.replay.flow import FlowAction, FlowMessage, OrderFlow
from tradeforge.venues.replay.kbook import FlowFeed, KernelBook, compilable
from tradeforge.venues.replay.kernel import A_MINE, M_AHEAD, M_SEQ

_ADD, _CANCEL, _DELETE, _EXECUTE, _REPLACE, _MODIFY, _FILL, _TRADE, _LEVEL, _REVEAL, _CLEAR, _TOP, _PRINT = (
    int(a) for a in FlowAction
)
AnyBook = ReplayBook | KernelBook
_BEHIND = 1 << 62  # the arrival number of a trade against nobody we know (hidden): behind us all
FIDELITIES = ("l3", "l2", "l1")


@dataclass(slots=True)
class ReplayVenueConfig:
    """Settings of one book-replay venue (see the module docstring)."""

    name: str
    fidelity: str = "l3"
    queue_model: QueueModel | None = None  # L2/L1 prototype (default: RiskAverseQueue)
    latency: LatencyModel | None = None  # entry and response legs (default: none)
    down: tuple[tuple[int, int], ...] = ()  # [start, end) exchange-time windows when unreachable
    reject_rate: float = 0.0
    seed: int = 0
    calendar: SessionCalendar | None = None  # DAY orders expire at its session close (else UTC midnight)
    compiled: bool = True  # L3 in a backtest: replay the book and our queue positions in compiled code

    def __post_init__(self) -> None:
        if self.fidelity not in FIDELITIES:
            raise ValueError(f"venue {self.name}: fidelity must be one of {FIDELITIES}, not {self.fidelity!r}")


class _Resting:
    """Venue-side state of one of our orders."""

    __slots__ = (
        "ahead",
        "book_seq",
        "key",
        "leaves",
        "level",
        "order",
        "price",
        "queue",
        "side",
        "unknown",
        "venue_order_id",
    )

    def __init__(self, order: Order, key: int, venue_order_id: str) -> None:
        self.order = order
        self.key = key
        self.venue_order_id = venue_order_id
        self.side = 1 if order.side is OrderSide.BUY else -1
        self.price: int = order.price or 0
        self.leaves = order.leaves_qty
        self.level: Level | None = None
        self.ahead = 0  # L3: data size ahead of us
        self.book_seq = 0  # L3: data orders with a smaller arrival number are ahead
        self.queue: QueueModel | None = None  # L2/L1 estimate
        self.unknown = False  # L1: our level has not been the touch since we joined it


class _KernelResting(_Resting):
    """One of our orders on a :class:`~.kbook.KernelBook`: while it rests, ``ahead`` and
    ``book_seq`` live in the kernel's arrays (the compiled runs move them); otherwise here."""

    __slots__ = ("_ahead", "_book_seq", "kbook", "slot")

    def __init__(self, order: Order, key: int, venue_order_id: str) -> None:
        self.slot = -1
        self.kbook: KernelBook | None = None
        self._ahead = 0
        self._book_seq = 0
        super().__init__(order, key, venue_order_id)

    def attach(self, book: KernelBook, slot: int) -> None:
        """Rests in ``slot`` of ``book`` (which set its queue position)."""
        self.kbook, self.slot = book, slot

    def detach(self) -> int:
        self._ahead, self._book_seq = self.ahead, self.book_seq
        slot, self.slot = self.slot, -1
        return slot

    @property  # type: ignore[override]
    def ahead(self) -> int:
        return int(self.kbook.aux[A_MINE + M_AHEAD, self.slot]) if self.slot >= 0 else self._ahead  # type: ignore[union-attr]

    @ahead.setter
    def ahead(self, value: int) -> None:
        if self.slot >= 0:
            self.kbook.aux[A_MINE + M_AHEAD, self.slot] = value  # type: ignore[union-attr]
        else:
            self._ahead = value

    @property  # type: ignore[override]
    def book_seq(self) -> int:
        return int(self.kbook.aux[A_MINE + M_SEQ, self.slot]) if self.slot >= 0 else self._book_seq  # type: ignore[union-attr]

    @book_seq.setter
    def book_seq(self, value: int) -> None:
        if self.slot >= 0:
            self.kbook.aux[A_MINE + M_SEQ, self.slot] = value  # type: ignore[union-attr]
        else:
            self._book_seq = value


class BookReplayVenue:
    """Matches our orders against replayed order flow; an :class:`ExecutionVenue`."""

    def __init__(
        self,
        config: ReplayVenueConfig,
        instruments: Callable[[str], Instrument],
        clock: Clock,
        fee_model: FeeModel | None = None,
        impact: ImpactModel | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.fidelity = config.fidelity
        self._instrument = instruments
        self._clock = clock
        self.fee_model = fee_model or NoFee()
        self.impact = impact or NoImpact()
        self.latency: LatencyModel = config.latency or ConstantLatency()
        self._queue_proto: QueueModel = config.queue_model or RiskAverseQueue()
        self._report: Report = _no_report
        self.books: dict[str, AnyBook] = {}
        self._resting: dict[str, _Resting] = {}  # client order id -> resting (or held stop)
        self._mine: dict[str, tuple[list[_Resting], list[_Resting], list[_Resting]]] = {}  # by side 1 / -1
        self._stops: dict[str, list[_Resting]] = {}
        self._seq = 0
        self._exec = 0
        self._alerts = 0
        self._last_delivery = 0
        self._last_arrival = 0
        self._rng = random.Random(config.seed)
        #: filled quantity by how it happened: queue (a trade reached us), through (a trade went
        #: through our price), cross (a new order crossed ours), take (we took liquidity)
        self.fill_reasons: Counter[str] = Counter()
        self.trades: list[tuple[int, int, int, int]] = []  # (ts, side, price, size) executions seen, when recording
        self.record_trades = False

    def connect(self, report: Report) -> None:
        self._report = report

    def book(self, instrument_id: str) -> AnyBook:
        b = self.books.get(instrument_id)
        if b is None:
            b = self.books[instrument_id] = ReplayBook()
            self._mine[instrument_id] = ([], [], [])
        return b

    def compile_flow(self, flow: OrderFlow) -> FlowFeed | None:
        """Replay ``flow`` in compiled runs (:class:`~.kbook.FlowFeed`) where that applies: L3
        fidelity, ``config.compiled``, a flow the kernel knows and a book nothing has touched yet;
        None: feed it message by message to :meth:`on_flow`."""
        iid = flow.instrument_id
        book = self.books.get(iid)
        if not (self.config.compiled and self.fidelity == "l3" and compilable(flow)):
            return None
        if not isinstance(book, KernelBook):
            if book is not None and (book.orders or book.levels[1] or book.levels[-1] or self._mine[iid][1]
                                     or self._mine[iid][-1]):
                return None
            book = self.books[iid] = KernelBook(max(1024, min(len(flow) // 8, 1 << 20)))
            self._mine[iid] = ([], [], [])
        return FlowFeed(self, flow, book)

    def on_flow_at(self, feed: FlowFeed, i: int) -> None:
        """Message ``i`` of a compiled feed, which the kernel handed back: the reference code."""
        self.on_flow(feed.message(i))

    # ------------------------------------------------------------------ commands (decision time)
    def submit(self, order: Order) -> None:
        self._after_entry(lambda: self._arrive(order))

    def cancel(self, order: Order) -> None:
        self._after_entry(lambda: self._arrive_cancel(order))

    def modify(self, order: Order, quantity: int | None, price: int | None, trigger_price: int | None) -> None:
        self._after_entry(lambda: self._arrive_modify(order, quantity, price, trigger_price))

    def _after_entry(self, action: Callable[[], None]) -> None:
        """Run ``action`` when the request reaches the exchange: ``entry_ns`` later, and never before
        an earlier request (one session delivers in order, whatever the latency draws)."""
        now = self._clock.timestamp_ns()
        arrive = max(now + self.latency.entry_ns(now), self._last_arrival)
        self._last_arrival = arrive
        if arrive <= now:
            action()
            return
        self._alerts += 1
        self._clock.set_time_alert(f"{self.name}.entry.{self._alerts}", arrive, lambda _e: action())

    def is_down(self, ts: int) -> bool:
        return any(start <= ts < end for start, end in self.config.down)

    # ------------------------------------------------------------------ arrivals (exchange time)
    def _arrive(self, order: Order) -> None:
        ts = self._clock.timestamp_ns()
        ids = _ids(order)
        if self.config.down and self.is_down(ts):
            self._emit(OrderRejected, ids, ts, reason="venue is down")
            return
        if self.config.reject_rate and self._rng.random() < self.config.reject_rate:
            self._emit(OrderRejected, ids, ts, reason="rejected by the venue (simulated)")
            return
        ot = order.order_type
        if ot not in (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            self._emit(OrderRejected, ids, ts, reason=f"{ot.name} is not supported by the book replay venue")
            return
        book = self.book(order.instrument_id)
        side = 1 if order.side is OrderSide.BUY else -1
        if order.post_only and order.price is not None and self._marketable(book, side, order.price):
            self._emit(OrderRejected, ids, ts, reason="post-only order would take liquidity")
            return
        self._seq += 1
        r = (_KernelResting if isinstance(book, KernelBook) else _Resting)(order, self._seq, f"{self.name}-{self._seq}")
        self._emit(OrderAccepted, ids, ts, venue_order_id=r.venue_order_id)
        self._schedule_expiry(r)
        if ot in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            self._resting[order.client_order_id] = r
            self._stops.setdefault(order.instrument_id, []).append(r)
            return
        self._enter(r, book, ts)

    def _schedule_expiry(self, r: _Resting) -> None:
        """GTD orders expire at their expire time, DAY orders at the session close (venue calendar)."""
        order = r.order
        tif = order.time_in_force
        if tif is TimeInForce.GTD and order.expire_time_ns is not None:
            at = order.expire_time_ns
        elif tif is TimeInForce.DAY:
            at = day_order_end(self.config.calendar, order.ts_init)
        else:
            return
        self._alerts += 1
        self._clock.set_time_alert(f"{self.name}.expire.{self._alerts}", at, lambda e: self._expire(r, e.ts_event))

    def _expire(self, r: _Resting, at: int) -> None:
        if self._resting.get(r.order.client_order_id) is not r:
            return  # filled, canceled or expired already
        self._unrest(r)
        self._emit(OrderExpired, _ids(r.order), at)

    def _enter(self, r: _Resting, book: AnyBook, ts: int) -> None:
        """A market / limit order (or a triggered stop) meets the book."""
        order = r.order
        inst = self._instrument(order.instrument_id)
        market = r.order.order_type in (OrderType.MARKET, OrderType.STOP_MARKET)
        limit = None if market else r.price
        tif = order.time_in_force
        if tif is TimeInForce.FOK and self._available(book, -r.side, limit) < r.leaves:
            self._cancel(r, ts, "FOK could not fill in full")
            return
        self._take(r, book, inst, limit, ts)
        if r.leaves <= 0:
            return
        if market:
            if self.fidelity == "l1" and book.best(-r.side) is not None:
                touch = book.best(-r.side).price  # type: ignore[union-attr]
                adj = self.impact.adjustment(ImpactContext(inst, r.side, r.leaves, touch, ts_ns=ts))
                self._fill(r, inst, touch + adj, r.leaves, ts, LiquiditySide.TAKER, "take")
                return
            self._cancel(r, ts, "market order found no more liquidity")
            return
        if tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._cancel(r, ts, "IOC remainder" if tif is TimeInForce.IOC else "FOK could not fill in full")
            return
        self._rest(r, book)

    def _rest(self, r: _Resting, book: AnyBook) -> None:
        lvl = book.get_level(r.side, r.price)
        r.level = lvl
        book.join(lvl, r)  # type: ignore[arg-type]  # L3: behind every data order here now
        self._resting[r.order.client_order_id] = r
        self._mine[r.order.instrument_id][r.side].append(r)
        if self.fidelity == "l3":
            return
        q = self._queue_proto.spawn(r.key)
        r.queue = q
        if self.fidelity == "l2":
            q.on_new_order(lvl.size)
            return
        best = book.best_price(r.side)
        if best is None or (r.price - best) * r.side > 0:
            q.on_new_order(0)  # we improve the touch: nobody ahead
        elif best == r.price:
            q.on_new_order(lvl.size)
        else:
            q.on_new_order(0)
            r.unknown = True  # behind the touch: sized when our level becomes the touch

    def _unrest(self, r: _Resting) -> None:
        self._resting.pop(r.order.client_order_id, None)
        lvl = r.level
        if lvl is not None:
            book = self.books[r.order.instrument_id]
            book.leave(lvl, r)  # type: ignore[arg-type]
            r.level = None
            self._mine[r.order.instrument_id][r.side].remove(r)
        else:
            stops = self._stops.get(r.order.instrument_id)
            if stops and r in stops:
                stops.remove(r)

    def _arrive_cancel(self, order: Order) -> None:
        ts = self._clock.timestamp_ns()
        ids = _ids(order)
        if self.config.down and self.is_down(ts):
            self._emit(OrderCancelRejected, ids, ts, reason="venue is down")
            return
        r = self._resting.get(order.client_order_id)
        if r is None:
            self._emit(OrderCancelRejected, ids, ts, reason="order is not working at the venue")
            return
        self._unrest(r)
        self._emit(OrderCanceled, ids, ts)

    def _arrive_modify(self, order: Order, quantity: int | None, price: int | None, trigger: int | None) -> None:
        ts = self._clock.timestamp_ns()
        ids = _ids(order)
        if self.config.down and self.is_down(ts):
            self._emit(OrderModifyRejected, ids, ts, reason="venue is down")
            return
        r = self._resting.get(order.client_order_id)
        if r is None:
            self._emit(OrderModifyRejected, ids, ts, reason="order is not working at the venue")
            return
        done = order.quantity - r.leaves  # filled at the venue (the OMS may not know all of it yet)
        new_total = order.quantity if quantity is None else quantity
        if new_total <= done:
            self._emit(OrderModifyRejected, ids, ts, reason="new quantity is not above the filled quantity")
            return
        new_leaves = new_total - done
        new_price = r.price if price is None else price
        book = self.books[order.instrument_id]
        if order.post_only and new_price != r.price and self._marketable(book, r.side, new_price):
            self._emit(OrderModifyRejected, ids, ts, reason="post-only order would take liquidity")
            return
        self._emit(OrderUpdated, ids, ts, quantity=quantity, price=price, trigger_price=trigger)
        if r.level is None:  # a held stop: just change it
            r.leaves, r.price = new_leaves, new_price
            return
        if new_price == r.price and new_leaves <= r.leaves:
            r.leaves = new_leaves  # keeps its place
            return
        self._unrest(r)
        r.leaves, r.price = new_leaves, new_price
        self._enter(r, book, ts)  # back of the queue (and may now be marketable)

    # ------------------------------------------------------------------ taking liquidity
    def _marketable(self, book: AnyBook, side: int, price: int) -> bool:
        best = book.best_price(-side)
        return best is not None and (price - best) * side >= 0

    def _available(self, book: AnyBook, side: int, limit: int | None) -> int:
        total = 0
        for lvl in book.walk(side):
            if limit is not None and (lvl.price - limit) * side < 0:
                break
            total += lvl.size
        return total

    def _take(self, r: _Resting, book: AnyBook, inst: Instrument, limit: int | None, ts: int) -> None:
        opp = -r.side
        for lvl in book.walk(opp):  # our fills never change the data's levels
            if r.leaves <= 0 or (limit is not None and (lvl.price - limit) * opp < 0):
                break
            if lvl.size > 0:
                self._fill(r, inst, lvl.price, min(lvl.size, r.leaves), ts, LiquiditySide.TAKER, "take")

    # ------------------------------------------------------------------ the flow (exchange time)
    def on_flow(self, m: FlowMessage) -> None:
        """Apply one order-flow message to the book, then move and fill our orders it touches."""
        book = self.books.get(m.instrument_id)
        if book is None:
            book = self.book(m.instrument_id)
        a = m.action
        if a == _ADD:
            lvl = book.add(m.order_id, m.side, m.price, m.size)
            if self._resting and self._mine[m.instrument_id][-m.side]:
                self._crossed(m, -m.side, m.price, m.size)
        elif a in (_CANCEL, _DELETE):
            lvl, removed, seq = (book.reduce(m.order_id, m.size, m.side, m.price) if a == _CANCEL
                                 else book.remove(m.order_id, m.side, m.price, m.size))
            if book.has_credit():
                removed -= book.credit_take(m.order_id, removed)
            if lvl is not None and lvl.mine and removed:
                self._left(lvl, removed, seq)
        elif a in (_EXECUTE, _FILL):
            found = book.order(m.order_id)
            lvl = None
            if found is not None:
                lvl, _, seq = found
                side, price = lvl.side, lvl.price
                if a == _FILL and (m.side == 0 or (m.price and m.price != price)):
                    # an auction fill, or the aggressor's own fill (its order moved into the book;
                    # the move follows as its M/C): not a trade against this resting level
                    if self._resting:
                        self._stop_check(m, m.price)
                    return
            else:
                side, price, seq = m.side, m.price, -1
            if self.record_trades:
                self.trades.append((m.ts_event, side, price, m.size))
            if self._resting:
                self._traded(m, side, price, m.size, seq)
                self._stop_check(m, price)
            if a == _EXECUTE:
                lvl, removed, seq = book.reduce(m.order_id, m.size, side, price)
                if lvl is not None and lvl.mine and removed:
                    self._left(lvl, removed, seq)
            elif lvl is not None and lvl.mine:
                # MBO sends an aggressor's fills first (F F ...) and the book updates after (C C ...):
                # the filled size leaves the queue now, and its C will not take it off again
                self._left(lvl, m.size, seq)
                book.credit_add(m.order_id, m.size)
        elif a == _LEVEL:
            lvl, old = book.set_level(m.side, m.price, m.size)
            if lvl.mine:
                for r in lvl.mine:
                    r.queue.on_level_change(old, m.size)  # type: ignore[union-attr]
            if m.size > old and self._resting and self._mine[m.instrument_id][-m.side]:
                self._crossed(m, -m.side, m.price, m.size - old)
        elif a == _TOP:
            self._top(m, book)
        elif a == _TRADE:
            if self.record_trades:
                self.trades.append((m.ts_event, m.side, m.price, m.size))
            if self._resting:
                self._traded(m, m.side, m.price, m.size, _BEHIND)
                self._stop_check(m, m.price)
        elif a == _REPLACE:
            lvl, removed, seq = book.remove(m.order_id, m.side, m.price, m.size)
            side = lvl.side if lvl is not None else m.side
            if lvl is not None and lvl.mine and removed:
                self._left(lvl, removed, seq)
            book.add(m.new_id, side, m.price, m.size)
            if self._resting and self._mine[m.instrument_id][-side]:
                self._crossed(m, -side, m.price, m.size)
        elif a == _MODIFY:
            self._modify(m, book)
        elif a == _REVEAL:
            for r in self._mine[m.instrument_id][m.side]:
                if (r.price - m.price) * m.side > 0:
                    r.ahead = 0  # the data's orders at our better level are gone
            lvl, delta = book.reveal(m.side, m.price, m.size)
            for r in lvl.mine:
                r.ahead = max(0, r.ahead + delta)
        elif a == _CLEAR:
            book.clear()
            for side in (1, -1):
                for r in self._mine[m.instrument_id][side]:
                    r.ahead = 0
                    if r.queue is not None:
                        r.queue.on_new_order(0)
        elif a == _PRINT and self._resting:
            self._stop_check(m, m.price)

    def _modify(self, m: FlowMessage, book: AnyBook) -> None:
        before = book.order(m.order_id)
        _old, new, kept = book.modify(m.order_id, m.side, m.price, m.size)
        if before is not None:
            lvl0, size0, seq0 = before
            removed = size0 - m.size if kept else size0
            if book.has_credit():
                removed -= book.credit_take(m.order_id, max(removed, 0))
            if lvl0.mine and removed > 0:
                self._left(lvl0, removed, seq0)
        if not kept and self._resting and self._mine[m.instrument_id][-new.side]:
            self._crossed(m, -new.side, new.price, m.size)

    def _left(self, lvl: Level, removed: int, seq: int) -> None:
        """``removed`` size of a data order with arrival number ``seq`` left ``lvl`` (L3)."""
        for r in lvl.mine:
            if seq < r.book_seq:
                r.ahead = max(0, r.ahead - removed)

    def _traded(self, m: FlowMessage, side: int, price: int, size: int, seq: int) -> None:
        """A data trade of ``size`` against resting ``side`` at ``price`` (the resting order's
        arrival number ``seq``): fill our orders it passed through or reached."""
        mine = self._mine[m.instrument_id][side]
        if not mine or side == 0:
            return
        ts = m.ts_event
        inst = self._instrument(m.instrument_id)
        left = size
        for r in sorted(mine, key=lambda r: (-r.price * side, r.key)):
            if left <= 0:
                break
            gap = (r.price - price) * side
            if gap < 0:
                break  # our price is worse than the trade's: not reached
            why = "queue"
            if gap > 0:
                qty = min(left, r.leaves)  # the trade went through our price: we were first
                why = "through"
            elif self.fidelity == "l3":
                if seq < r.book_seq or r.ahead > 0:
                    continue  # an order ahead of us traded
                qty = min(left, r.leaves)
            else:
                q = r.queue
                if r.unknown:
                    continue
                q.on_trade(left)  # type: ignore[union-attr]
                qty = q.filled_qty(r.leaves)  # type: ignore[union-attr]
            if qty > 0:
                left -= qty
                self._fill(r, inst, r.price, qty, ts, LiquiditySide.MAKER, why)

    def _crossed(self, m: FlowMessage, side: int, price: int, size: int) -> None:
        """A data order of ``size`` arrived on the other side at ``price``: it meets our ``side``
        orders at or through that price, best first, as the aggressor (we are makers)."""
        inst = self._instrument(m.instrument_id)
        left = size
        for r in sorted(self._mine[m.instrument_id][side], key=lambda r: (-r.price * side, r.key)):
            if left <= 0 or (r.price - price) * side < 0:
                break
            qty = min(left, r.leaves)
            left -= qty
            self._fill(r, inst, r.price, qty, m.ts_event, LiquiditySide.MAKER, "cross")

    def _top(self, m: FlowMessage, book: AnyBook) -> None:
        prev = book.best(m.side)
        prev_price = None if prev is None else prev.price
        prev_size = 0 if prev is None else prev.size
        lvl, old = book.set_top(m.side, m.price, m.size)
        if lvl is not None and lvl.mine:
            for r in lvl.mine:
                q = r.queue
                if r.unknown:
                    q.on_new_order(m.size)  # type: ignore[union-attr]
                    r.unknown = False
                else:
                    q.on_level_change(old if prev_price == m.price else 0, m.size)  # type: ignore[union-attr]
        if not self._resting or not self._mine[m.instrument_id][-m.side] or m.size <= 0:
            return
        grew = m.size - prev_size if prev_price == m.price else m.size
        if grew > 0:
            self._crossed(m, -m.side, m.price, grew)

    def _stop_check(self, m: FlowMessage, price: int) -> None:
        stops = self._stops.get(m.instrument_id)
        if not stops:
            return
        for r in list(stops):
            trig = r.order.trigger_price
            if trig is None or (price - trig) * r.side < 0:
                continue
            stops.remove(r)
            self._resting.pop(r.order.client_order_id, None)
            self._emit(OrderTriggered, _ids(r.order), m.ts_event)
            self._enter(r, self.books[m.instrument_id], m.ts_event)

    # ------------------------------------------------------------------ reports
    def _fill(
        self, r: _Resting, inst: Instrument, price: int, qty: int, ts: int, liq: LiquiditySide, why: str
    ) -> None:
        qty -= qty % inst.lot_size_raw
        if qty <= 0:
            return
        self.fill_reasons[why] += qty
        order = r.order
        self._exec += 1
        commission = self.fee_model.commission(FeeContext(inst, qty, price, liq))
        r.leaves -= qty
        if r.leaves <= 0 and r.level is not None:
            self._unrest(r)
        self._emit(
            OrderFilled, _ids(order), ts, venue_order_id=r.venue_order_id, execution_id=f"{self.name}-E{self._exec}",
            side=order.side, last_qty=qty, last_px=price, commission=commission, currency=inst.currency,
            liquidity_side=liq, position_id=order.position_id,
        )

    def _cancel(self, r: _Resting, ts: int, reason: str) -> None:
        if r.level is not None:
            self._unrest(r)
        self._emit(OrderCanceled, _ids(r.order), ts, reason=reason)

    def _emit(self, cls: type[OrderEvent], ids: tuple[str, str, str], ts: int, **kw: Any) -> None:
        delay = self.latency.response_ns(ts)
        due = max(ts + delay, self._last_delivery)
        self._last_delivery = due
        event = cls(*ids, ts, due, **kw)
        if due <= self._clock.timestamp_ns():
            self._report(event)
            return
        self._alerts += 1
        self._clock.set_time_alert(f"{self.name}.report.{self._alerts}", due, _Deliver(self._report, event))

    def working_orders(self, instrument_id: str) -> list[Order]:
        return [r.order for r in self._resting.values() if r.order.instrument_id == instrument_id]

    def queue_ahead(self, client_order_id: str) -> float | None:
        """The size ahead of one of our resting orders (exact in L3, estimated in L2/L1)."""
        r = self._resting.get(client_order_id)
        if r is None or r.level is None:
            return None
        return float(r.ahead) if r.queue is None else r.queue.ahead


class _Deliver:
    __slots__ = ("event", "report")

    def __init__(self, report: Report, event: OrderEvent) -> None:
        self.report = report
        self.event = event

    def __call__(self, _e: TimeEvent) -> None:
        self.report(self.event)


def _ids(order: Order) -> tuple[str, str, str]:
    return order.client_order_id, order.strategy_id, order.instrument_id


def _no_report(event: OrderEvent) -> None:
    raise RuntimeError("venue is not connected to an execution engine")
