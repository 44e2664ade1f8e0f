"""A price-time-priority limit order book matching engine for one instrument (the exchange's core).

:class:`MatchingEngine` holds the resting orders of every participant and matches incoming ones the way
an exchange does. It knows nothing about clocks, events or instruments: prices and sizes are raw
integers, order ids and owners are any hashable values, and every call returns the list of
*result records* it produced, in the order they happened, for the venue to stamp and turn into
tradeforge order events. The same calls in the same order always give the same records.

Book and priority
    Each side keeps its price levels in a dict (price -> level) plus one sorted list of keys
    ``price * sign`` (bids +1, asks -1), so the best level is always the last key: reading or removing
    it is O(1), adding or removing any other level is a bisect. A level is an ``OrderedDict`` id ->
    order in arrival order (FIFO) with its total size, so the front, a cancel anywhere in the queue and
    moving an order to the back are all O(1). A match walks the opposite side best price first and each
    level front to back; trades execute at the resting (maker) order's price. Every order gets an
    arrival sequence number when it enters and a new one whenever it loses priority.

Orders (:meth:`MatchingEngine.submit`)
    ``LIMIT`` matches what it can and rests the rest (``GTC``, ``DAY`` and ``GTD`` all rest; when they
    end is the caller's business: it calls :meth:`~MatchingEngine.expire`). ``MARKET`` walks the book;
    what finds no liquidity is canceled (``NO_LIQUIDITY``), a market order never rests. ``IOC`` fills
    what it can now and cancels the rest; ``FOK`` is checked against the book *before* any fill and is
    canceled whole (``FOK``) unless it can fill completely. ``post_only`` (limit orders only) is rejected
    if it would take liquidity. ``STOP_MARKET`` / ``STOP_LIMIT`` are held until a trade prints at or
    through the trigger (buy: a trade ``>= trigger``, sell: ``<= trigger``), then enter as a market /
    limit order with the same id, size, tif and STP mode (a :class:`Triggered` record first). A stop
    whose trigger the last trade price already satisfies triggers on submission. When several stops
    trigger, buy stops go lowest trigger first and sell stops highest first (then by arrival), and
    between the two sides the earlier arrival goes first; one stop enters at a time and its trades
    can trigger more (a cascade, all within the same call).
    ``reduce_only_limit``: the most this order may ever execute (the position it reduces, known to the
    caller); a larger size is trimmed on entry (:class:`Reduced`, reason ``REDUCE_ONLY``), 0 or less is
    rejected.

Modify and cancel
    :meth:`~MatchingEngine.modify` takes the new *open* (leaves) size, not the total: a smaller size
    keeps the order's place in the queue, a larger size or a new price sends it to the back (a new
    arrival sequence). A limit order moved to a marketable price matches at once as the taker (a
    post-only order is refused instead). A held stop can change its size, limit price and trigger.
    :meth:`~MatchingEngine.cancel` and :meth:`~MatchingEngine.expire` remove a resting or held order.

Self-trade prevention (:class:`StpMode`), decided by the *incoming* order's mode when it meets a
resting order of the same owner: ``CANCEL_NEWEST`` cancels the incoming order's rest,
``CANCEL_OLDEST`` cancels the resting order and matching goes on, ``CANCEL_BOTH`` cancels both,
``DECREMENT_AND_CANCEL`` reduces both by the smaller open size (the smaller is canceled, the larger
:class:`Reduced`; equal sizes cancel both). ``NONE`` (the default) lets them trade: in an L3 replay
the other participants' orders may share one owner and must match each other. A FOK order counts
only liquidity it could really take under its STP mode.

Halts
    :meth:`~MatchingEngine.halt` stops all matching. While halted the engine *collects orders for the
    re-opening auction*: limit orders (GTC/DAY/GTD) are accepted and rest without matching, so the book
    may be locked or crossed during a halt; modify, cancel and expire work (nothing matches); stop
    orders are accepted and held (no trade prints, so none triggers); orders that cannot rest --
    ``MARKET``, ``IOC``, ``FOK`` -- are rejected (``HALTED``), as is a post-only order that would cross.
    :meth:`~MatchingEngine.resume` runs the opening cross: one price that maximizes the executed
    volume; ties go to the smaller imbalance ``|demand - supply|`` at that price, then to the price
    nearest the reference (the argument, else the last trade price), then to the lower price; the
    candidates are the limit prices in the crossed range. Orders execute at that price in price-time
    priority (the earlier of each pair is recorded as the maker, the aggressor is ``NONE``), STP by
    the later order's mode (post-only does not apply: an auction has no taker); if STP cancellations
    leave the book crossed, another cross runs until it is not. A :class:`Cross` record (price,
    executed size) ends each round. Held stops whose trigger the cross price (or the last trade price)
    reached trigger after it.

Records (``msgspec`` structs, immutable, in :mod:`~tradeforge.venues.match_records` and re-exported here): :class:`Accepted`, :class:`Rejected` (with the request it
answers and a :class:`Reason`), :class:`Fill`, :class:`Canceled` (the order is gone; ``size`` = what was
still open), :class:`Reduced` (the order's open size shrank but it lives on), :class:`Triggered`,
:class:`Modified`, :class:`Cross`. Quantity is conserved per order: accepted size + the size changes of
its :class:`Modified` records = filled + reduced + canceled + still open.

Cost: a submit is O(log levels) plus O(1) per order it touches (matched, STP-canceled, FOK-counted);
cancel and modify are O(1) plus a bisect when a level appears or empties;
:meth:`~MatchingEngine.queue_position` is O(orders ahead).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from tradeforge.model.enums import AggressorSide, OrderSide, OrderType, TimeInForce
from tradeforge.venues.match_records import (
    Accepted,
    Canceled,
    Cross,
    Fill,
    LevelView,
    Modified,
    OrderView,
    QueuePosition,
    Reason,
    Record,
    Reduced,
    Rejected,
    Request,
    StpMode,
    Triggered,
)

__all__ = [
    "Accepted",
    "Canceled",
    "Cross",
    "Fill",
    "LevelView",
    "MatchingEngine",
    "Modified",
    "OrderView",
    "QueuePosition",
    "Reason",
    "Record",
    "Reduced",
    "Rejected",
    "Request",
    "StpMode",
    "Triggered",
]

_BUY = OrderSide.BUY
_SELL = OrderSide.SELL
_MARKET = OrderType.MARKET
_LIMIT = OrderType.LIMIT
_STOP_MARKET = OrderType.STOP_MARKET
_STOP_LIMIT = OrderType.STOP_LIMIT
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
# (enum members hash in Python, so the hot paths compare identities instead of using sets)


# -- internal state --------------------------------------------------------------------------------


class _Order:
    __slots__ = (
        "held", "id", "level", "order_type", "owner", "post_only", "price", "seq", "side", "size", "stp", "tif",
        "trigger",
    )

    def __init__(
        self, oid: Hashable, owner: Any, side: OrderSide, order_type: OrderType, size: int, price: int | None,
        trigger: int | None, tif: TimeInForce, post_only: bool, stp: StpMode,
    ) -> None:
        self.id = oid
        self.owner = owner
        self.side = side
        self.order_type = order_type
        self.size = size
        self.price = price
        self.trigger = trigger
        self.tif = tif
        self.post_only = post_only
        self.stp = stp
        self.seq = 0
        self.level: _Level | None = None
        self.held = False


class _Level:
    __slots__ = ("orders", "price", "size")

    def __init__(self, price: int) -> None:
        self.price = price
        self.size = 0
        self.orders: OrderedDict[Hashable, _Order] = OrderedDict()


class _Side:
    """One side of the book: ``keys`` = sorted ``price * sign``, best last; ``levels`` price -> level."""

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.levels: dict[int, _Level] = {}


class _StopSide:
    """Held stops of one side: ``keys`` = sorted ``-side * trigger`` (the first to trigger last)."""

    __slots__ = ("buckets", "keys")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.buckets: dict[int, OrderedDict[Hashable, _Order]] = {}


def _bad(detail: str) -> tuple[Reason, str]:
    return Reason.INVALID, detail


class MatchingEngine:
    """The order book of one instrument and its matching rules (see the module docstring)."""

    def __init__(self, instrument_id: str = "") -> None:
        self.instrument_id = instrument_id
        self._bids = _Side(1)
        self._asks = _Side(-1)
        self._orders: dict[Hashable, _Order] = {}  # resting and held orders
        self._buy_stops = _StopSide()
        self._sell_stops = _StopSide()
        self._seq = 0
        self._match_id = 0
        self.halted = False
        self.last_trade_price: int | None = None
        self._out: list[Any] = []
        self._hi: int | None = None  # range of the trade prices of the current call (for stops)
        self._lo: int | None = None

    # -- commands ----------------------------------------------------------------------------------

    def submit(
        self,
        order_id: Hashable,
        owner: Any,
        side: OrderSide | int,
        order_type: OrderType,
        size: int,
        price: int | None = None,
        trigger: int | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only_limit: int | None = None,
        stp_mode: StpMode = StpMode.NONE,
    ) -> list[Any]:
        """Enter a new order; returns its records (``Accepted`` or ``Rejected`` first)."""
        out = self._begin()
        err = self._validate(side, order_type, size, price, trigger, tif, post_only, stp_mode)
        if err is None and order_id in self._orders:
            err = Reason.DUPLICATE_ID, "an order with this id is live"
        if err is None:
            if type(side) is not OrderSide:
                side = OrderSide(side)
            if self.halted and (order_type is _MARKET or ((tif is _IOC or tif is _FOK) and order_type is _LIMIT)):
                err = Reason.HALTED, "trading is halted: only orders that can rest are accepted"
            elif post_only and self._would_take(side, price):  # type: ignore[arg-type]
                err = Reason.POST_ONLY, "post-only order would take liquidity"
            elif reduce_only_limit is not None and reduce_only_limit <= 0:
                err = Reason.REDUCE_ONLY, "nothing to reduce"
        if err is not None:
            out.append(Rejected(order_id, owner, Request.SUBMIT, err[0], err[1]))
            return out
        out.append(Accepted(order_id, owner, side, order_type, size, price, trigger, tif))
        if reduce_only_limit is not None and size > reduce_only_limit:
            out.append(Reduced(order_id, owner, size - reduce_only_limit, reduce_only_limit, Reason.REDUCE_ONLY))
            size = reduce_only_limit
        o = _Order(order_id, owner, side, order_type, size, price, trigger, tif, post_only, stp_mode)
        if order_type is _STOP_MARKET or order_type is _STOP_LIMIT:
            self._hold_or_trigger(o)
        else:
            self._enter(o)
        self._run_stops()
        return out

    def modify(
        self,
        order_id: Hashable,
        new_size: int | None = None,
        new_price: int | None = None,
        new_trigger: int | None = None,
    ) -> list[Any]:
        """Change a live order's open size, limit price or (held stops) trigger; see the module docstring."""
        out = self._begin()
        o = self._orders.get(order_id)
        if o is None:
            out.append(Rejected(order_id, None, Request.MODIFY, Reason.UNKNOWN_ORDER, "order is not live"))
            return out
        err = None
        if new_size is not None and (not isinstance(new_size, int) or new_size <= 0):
            err = _bad("new size must be a positive integer (cancel to remove an order)")
        elif new_price is not None and (o.order_type is _MARKET or o.order_type is _STOP_MARKET or not isinstance(new_price, int) or new_price <= 0):
            err = _bad("new price must be a positive integer, for limit and stop-limit orders")
        elif new_trigger is not None and (not o.held or not isinstance(new_trigger, int) or new_trigger <= 0):
            err = _bad("new trigger must be a positive integer, for held stop orders")
        elif new_price is not None and o.post_only and not o.held and self._would_take(o.side, new_price):
            err = Reason.POST_ONLY, "post-only order would take liquidity at the new price"
        if err is not None:
            out.append(Rejected(order_id, o.owner, Request.MODIFY, err[0], err[1]))
            return out
        size = o.size if new_size is None else new_size
        price = o.price if new_price is None else new_price
        trigger = o.trigger if new_trigger is None else new_trigger
        if o.held:
            keep = size <= o.size and trigger == o.trigger
            out.append(Modified(order_id, o.owner, o.size, size, o.price, price, o.trigger, trigger, keep))
            if keep:  # a held stop's priority (among stops of one trigger) is kept, as for limits
                o.size, o.price = size, price
            else:
                self._unhold(o)
                o.size, o.price, o.trigger = size, price, trigger
                self._hold_or_trigger(o)
        else:
            level = o.level
            assert level is not None
            if size <= o.size and price == o.price:  # keeps its place
                out.append(Modified(order_id, o.owner, o.size, size, o.price, price, o.trigger, o.trigger, True))
                level.size -= o.size - size
                o.size = size
            elif price == o.price:  # size up: to the back of its level
                out.append(Modified(order_id, o.owner, o.size, size, o.price, price, o.trigger, o.trigger, False))
                level.size += size - o.size
                o.size = size
                level.orders.move_to_end(order_id)
                self._seq += 1
                o.seq = self._seq
            else:  # new price: leaves its level and arrives again (it may match at once)
                out.append(Modified(order_id, o.owner, o.size, size, o.price, price, o.trigger, o.trigger, False))
                self._unrest(o)
                o.size, o.price = size, price
                self._enter(o)
        self._run_stops()
        return out

    def cancel(self, order_id: Hashable) -> list[Any]:
        """Remove a resting or held order (``Canceled``, reason ``CANCELED``)."""
        return self._remove_by_request(order_id, Request.CANCEL, Reason.CANCELED)

    def expire(self, order_id: Hashable) -> list[Any]:
        """Remove a resting or held order whose time in force ended (``Canceled``, reason ``EXPIRED``)."""
        return self._remove_by_request(order_id, Request.EXPIRE, Reason.EXPIRED)

    def halt(self) -> list[Any]:
        """Stop matching; collect orders for the re-opening cross (see the module docstring)."""
        self._begin()
        self.halted = True
        return []

    def resume(self, reference_price: int | None = None) -> list[Any]:
        """End a halt with the opening cross; returns its fills, ``Cross`` records, triggered stops' records."""
        out = self._begin()
        self.halted = False
        ref = self.last_trade_price if reference_price is None else reference_price
        while True:
            px = self._cross_price(ref)
            if px is None:
                break
            self._run_cross(px)
        last = self.last_trade_price
        if last is not None:  # stops that arrived during the halt and whose trigger was already passed
            self._hi = last if self._hi is None else max(self._hi, last)
            self._lo = last if self._lo is None else min(self._lo, last)
        self._run_stops()
        return out

    # -- queries -----------------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        k = self._bids.keys
        return k[-1] if k else None

    def best_ask(self) -> int | None:
        k = self._asks.keys
        return -k[-1] if k else None

    def best_bid_size(self) -> int:
        k = self._bids.keys
        return self._bids.levels[k[-1]].size if k else 0

    def best_ask_size(self) -> int:
        k = self._asks.keys
        return self._asks.levels[-k[-1]].size if k else 0

    def is_crossed(self) -> bool:
        """Best bid at or above best ask (locked counts: matching would trade)."""
        b, a = self._bids.keys, self._asks.keys
        return bool(b and a and b[-1] >= -a[-1])

    def depth(self, n: int = 10) -> tuple[list[LevelView], list[LevelView]]:
        """The best ``n`` levels of each side, best first: ``(bids, asks)``."""
        result = []
        for side in (self._bids, self._asks):
            keys, levels, sign = side.keys, side.levels, side.sign
            rows = []
            for i in range(len(keys) - 1, max(len(keys) - 1 - n, -1), -1):
                lv = levels[keys[i] * sign]
                rows.append(LevelView(lv.price, lv.size, len(lv.orders)))
            result.append(rows)
        return result[0], result[1]

    def queue_position(self, order_id: Hashable) -> QueuePosition | None:
        """Orders and size ahead of a resting order at its level; None if it is not resting."""
        o = self._orders.get(order_id)
        if o is None or o.level is None:
            return None
        n = ahead = 0
        for x in o.level.orders.values():
            if x is o:
                break
            n += 1
            ahead += x.size
        return QueuePosition(n, ahead, o.level.size)

    def order(self, order_id: Hashable) -> OrderView | None:
        o = self._orders.get(order_id)
        return None if o is None else _view(o)

    def orders(self) -> Iterator[OrderView]:
        """Every live order (resting and held), in no particular order."""
        return (_view(o) for o in self._orders.values())

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def check_invariant(self) -> None:
        """Recompute the book from its orders; raise ``AssertionError`` on any inconsistency.

        Checks: keys strictly sorted and matching the levels; each level non-empty, its size the sum of
        its orders' open sizes, its orders on the right side and price, with increasing arrival
        sequence, positive sizes, known to the id table; held stops likewise; every live order in
        exactly one place; the book not crossed unless halted."""
        seen = 0
        for side, want in ((self._bids, _BUY), (self._asks, _SELL)):
            keys = side.keys
            assert all(keys[i] < keys[i + 1] for i in range(len(keys) - 1)), "level keys not strictly sorted"
            assert len(keys) == len(side.levels), "keys and levels differ"
            for k in keys:
                lv = side.levels[k * side.sign]
                assert lv.price == k * side.sign, "level price mismatch"
                assert lv.orders, "empty level"
                total, last_seq = 0, -1
                for oid, o in lv.orders.items():
                    assert o.id == oid and self._orders.get(oid) is o, "order not in the id table"
                    assert o.side is want and o.price == lv.price and o.level is lv, "order at the wrong level"
                    assert o.size > 0 and not o.held, "bad resting order"
                    assert o.seq > last_seq, "queue not in arrival order"
                    last_seq = o.seq
                    total += o.size
                    seen += 1
                assert total == lv.size, f"level {lv.price}: size {lv.size} != sum of orders {total}"
        for stops, want in ((self._buy_stops, _BUY), (self._sell_stops, _SELL)):
            keys = stops.keys
            assert all(keys[i] < keys[i + 1] for i in range(len(keys) - 1)), "stop keys not strictly sorted"
            assert len(keys) == len(stops.buckets), "stop keys and buckets differ"
            for k in keys:
                bucket = stops.buckets[k]
                assert bucket, "empty stop bucket"
                for oid, o in bucket.items():
                    assert self._orders.get(oid) is o and o.held and o.level is None, "bad held stop"
                    assert o.side is want and -want * o.trigger == k and o.size > 0, "stop in the wrong bucket"
                    seen += 1
        assert seen == len(self._orders), "id table holds orders that are nowhere"
        assert self.halted or not self.is_crossed(), "book crossed while trading"

    # -- internals ---------------------------------------------------------------------------------

    def _begin(self) -> list[Any]:
        self._out = out = []
        self._hi = self._lo = None
        return out

    @staticmethod
    def _validate(
        side: Any, order_type: Any, size: Any, price: Any, trigger: Any, tif: Any, post_only: bool, stp: Any,
    ) -> tuple[Reason, str] | None:
        if side != 1 and side != -1:
            return _bad("side must be BUY or SELL")
        limit, stop = order_type is _LIMIT, order_type is _STOP_MARKET
        stop_limit = order_type is _STOP_LIMIT
        if not (limit or stop or stop_limit or order_type is _MARKET):
            return _bad(f"order type {order_type} is not supported")
        if not isinstance(size, int) or size <= 0:
            return _bad("size must be a positive integer")
        if limit or stop_limit:
            if not isinstance(price, int) or price <= 0:
                return _bad("a limit price must be a positive integer")
        elif price is not None:
            return _bad("a market order takes no price")
        if stop or stop_limit:
            if not isinstance(trigger, int) or trigger <= 0:
                return _bad("a trigger must be a positive integer")
        elif trigger is not None:
            return _bad("only stop orders take a trigger")
        if not isinstance(tif, TimeInForce):
            return _bad("unknown time in force")
        if post_only and (order_type is not _LIMIT or tif is _IOC or tif is _FOK):
            return _bad("post-only applies to resting limit orders only")
        if not isinstance(stp, StpMode):
            return _bad("unknown STP mode")
        return None

    def _would_take(self, side: OrderSide, price: int) -> bool:
        if side is _BUY:
            k = self._asks.keys
            return bool(k) and price >= -k[-1]
        k = self._bids.keys
        return bool(k) and price <= k[-1]

    def _remove_by_request(self, order_id: Hashable, request: Request, reason: Reason) -> list[Any]:
        out = self._begin()
        o = self._orders.get(order_id)
        if o is None:
            out.append(Rejected(order_id, None, request, Reason.UNKNOWN_ORDER, "order is not live"))
            return out
        if o.held:
            self._unhold(o)
        else:
            self._unrest(o)
        out.append(Canceled(order_id, o.owner, o.size, reason))
        return out

    def _enter(self, o: _Order) -> None:
        """An order arrives at the book (new, triggered, or re-priced): match, then rest or cancel the rest."""
        self._seq += 1
        o.seq = self._seq
        if self.halted:  # only restable limit orders get here during a halt
            self._rest(o)
            return
        if o.tif is _FOK and self._fillable(o) < o.size:
            self._out.append(Canceled(o.id, o.owner, o.size, Reason.FOK))
            return
        if self._match(o) or o.size == 0:
            return
        if o.order_type is _MARKET or o.order_type is _STOP_MARKET:
            self._out.append(Canceled(o.id, o.owner, o.size, Reason.NO_LIQUIDITY))
        elif o.tif is _IOC or o.tif is _FOK:
            self._out.append(Canceled(o.id, o.owner, o.size, Reason.IOC if o.tif is _IOC else Reason.FOK))
        else:
            self._rest(o)

    def _fillable(self, o: _Order) -> int:
        """Size the incoming order could take right now under its limit and STP mode (stops at ``o.size``)."""
        buy = o.side is _BUY
        opp = self._asks if buy else self._bids
        keys, levels, sign = opp.keys, opp.levels, opp.sign
        limit, want, stp, owner = o.price, o.size, o.stp, o.owner
        if o.order_type is _MARKET or o.order_type is _STOP_MARKET:
            limit = None
        total = 0
        for i in range(len(keys) - 1, -1, -1):
            px = keys[i] * sign
            if limit is not None and (px > limit if buy else px < limit):
                break
            lv = levels[px]
            if stp is StpMode.NONE:
                total += lv.size
            else:
                for m in lv.orders.values():
                    if m.owner == owner:
                        if stp is StpMode.CANCEL_OLDEST:
                            continue  # it would be canceled, not taken
                        return total  # matching would stop (or shrink the order) here
                    total += m.size
                    if total >= want:
                        return total
            if total >= want:
                break
        return total

    def _match(self, o: _Order) -> bool:
        """Match the incoming order against the opposite side; True if STP canceled it. Sets ``o.size``."""
        buy = o.side is _BUY
        opp = self._asks if buy else self._bids
        keys, levels, sign = opp.keys, opp.levels, opp.sign
        limit = None if o.order_type is _MARKET or o.order_type is _STOP_MARKET else o.price
        remaining = o.size
        stp = o.stp is not StpMode.NONE
        owner, oid = o.owner, o.id
        aggressor = AggressorSide.BUYER if buy else AggressorSide.SELLER
        maker_side = _SELL if buy else _BUY
        out, orders = self._out, self._orders
        first_px = last_px = None
        killed = False
        while remaining and keys:
            px = keys[-1] * sign
            if limit is not None and (px > limit if buy else px < limit):
                break
            lv = levels[px]
            q = lv.orders
            while q:
                m = next(iter(q.values()))
                if stp and m.owner == owner:
                    remaining, killed = self._stp_incoming(o, remaining, m, lv)
                    if killed or not remaining:
                        break
                    continue
                n = remaining if remaining < m.size else m.size
                remaining -= n
                m.size -= n
                lv.size -= n
                self._match_id += 1
                out.append(
                    Fill(self._match_id, px, n, m.id, oid, m.owner, owner, maker_side, aggressor, m.size, remaining)
                )
                if first_px is None:
                    first_px = px
                last_px = px
                if not m.size:
                    q.popitem(last=False)
                    del orders[m.id]
                    m.level = None
                if not remaining:
                    break
            if not q:
                keys.pop()
                del levels[px]
            if killed:
                break
        o.size = remaining
        if last_px is not None:
            self._traded(first_px, last_px)  # type: ignore[arg-type]
        return killed

    def _stp_incoming(self, o: _Order, remaining: int, m: _Order, lv: _Level) -> tuple[int, bool]:
        """Self-trade prevention between the incoming order ``o`` and resting ``m``; -> (remaining, killed)."""
        out, mode = self._out, o.stp
        if mode is StpMode.CANCEL_NEWEST:
            out.append(Canceled(o.id, o.owner, remaining, Reason.SELF_TRADE))
            return 0, True
        if mode is StpMode.CANCEL_OLDEST:
            self._cancel_resting(m, Reason.SELF_TRADE)
            return remaining, False
        if mode is StpMode.CANCEL_BOTH:
            self._cancel_resting(m, Reason.SELF_TRADE)
            out.append(Canceled(o.id, o.owner, remaining, Reason.SELF_TRADE))
            return 0, True
        # DECREMENT_AND_CANCEL
        if m.size > remaining:
            m.size -= remaining
            lv.size -= remaining
            out.append(Reduced(m.id, m.owner, remaining, m.size, Reason.SELF_TRADE))
            out.append(Canceled(o.id, o.owner, remaining, Reason.SELF_TRADE))
            return 0, True
        d = m.size
        self._cancel_resting(m, Reason.SELF_TRADE)
        if d == remaining:
            out.append(Canceled(o.id, o.owner, remaining, Reason.SELF_TRADE))
            return 0, True
        out.append(Reduced(o.id, o.owner, d, remaining - d, Reason.SELF_TRADE))
        return remaining - d, False

    def _cancel_resting(self, m: _Order, reason: Reason) -> None:
        """Remove a resting order (its level may be left empty: the caller's walk cleans it up)."""
        lv = m.level
        assert lv is not None
        del lv.orders[m.id]
        lv.size -= m.size
        del self._orders[m.id]
        m.level = None
        self._out.append(Canceled(m.id, m.owner, m.size, reason))

    def _traded(self, a: int, b: int) -> None:
        lo, hi = (a, b) if a <= b else (b, a)
        self._hi = hi if self._hi is None or hi > self._hi else self._hi
        self._lo = lo if self._lo is None or lo < self._lo else self._lo
        self.last_trade_price = b

    def _rest(self, o: _Order) -> None:
        side = self._bids if o.side is _BUY else self._asks
        px = o.price
        assert px is not None
        lv = side.levels.get(px)
        if lv is None:
            lv = side.levels[px] = _Level(px)
            insort(side.keys, px * side.sign)
        lv.orders[o.id] = o
        lv.size += o.size
        o.level = lv
        self._orders[o.id] = o

    def _unrest(self, o: _Order) -> None:
        """Take a resting order out of the book (and the id table)."""
        lv = o.level
        assert lv is not None
        del lv.orders[o.id]
        lv.size -= o.size
        o.level = None
        del self._orders[o.id]
        if not lv.orders:
            side = self._bids if o.side is _BUY else self._asks
            key = lv.price * side.sign
            keys = side.keys
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
            del side.levels[lv.price]

    def _hold_or_trigger(self, o: _Order) -> None:
        """A stop arrives (or its trigger changed): trigger now if the last trade already reached it, else hold."""
        last = self.last_trade_price
        trig = o.trigger
        assert trig is not None
        if not self.halted and last is not None and (last >= trig if o.side is _BUY else last <= trig):
            self._out.append(Triggered(o.id, o.owner, trig, last))
            self._enter(o)
            return
        self._seq += 1
        o.seq = self._seq
        stops = self._buy_stops if o.side is _BUY else self._sell_stops
        key = -o.side * trig
        bucket = stops.buckets.get(key)
        if bucket is None:
            bucket = stops.buckets[key] = OrderedDict()
            insort(stops.keys, key)
        bucket[o.id] = o
        o.held = True
        self._orders[o.id] = o

    def _unhold(self, o: _Order) -> None:
        stops = self._buy_stops if o.side is _BUY else self._sell_stops
        key = -o.side * o.trigger  # type: ignore[operator]
        bucket = stops.buckets[key]
        del bucket[o.id]
        if not bucket:
            del stops.buckets[key]
            del stops.keys[bisect_left(stops.keys, key)]
        del self._orders[o.id]
        o.held = False

    def _run_stops(self) -> None:
        """Trigger held stops reached by this call's trades, the earliest arrival first, until none is left."""
        bs, ss = self._buy_stops, self._sell_stops
        while self._hi is not None and (bs.keys or ss.keys):
            hi, lo = self._hi, self._lo
            cand = None
            if bs.keys and bs.keys[-1] >= -hi:  # buy stop: trigger <= highest trade
                cand = next(iter(bs.buckets[bs.keys[-1]].values()))
            if ss.keys and ss.keys[-1] >= lo:  # type: ignore[operator]  # sell stop: trigger >= lowest trade
                c = next(iter(ss.buckets[ss.keys[-1]].values()))
                if cand is None or c.seq < cand.seq:
                    cand = c
            if cand is None:
                return
            self._unhold(cand)
            trig = cand.trigger
            assert trig is not None
            self._out.append(Triggered(cand.id, cand.owner, trig, hi if cand.side is _BUY else lo))  # type: ignore[arg-type]
            self._enter(cand)

    # -- opening cross -----------------------------------------------------------------------------

    def _cross_price(self, ref: int | None) -> int | None:
        """The opening cross price (see the module docstring), or None if the book is not crossed."""
        if not self.is_crossed():
            return None
        bk, ak = self._bids.keys, self._asks.keys
        best_bid, best_ask = bk[-1], -ak[-1]
        bids = [k for k in reversed(bk) if k >= best_ask]  # crossed bid prices, descending
        asks = [-k for k in reversed(ak) if -k <= best_bid]  # crossed ask prices, ascending
        bl, al = self._bids.levels, self._asks.levels
        # demand(p) = bid size at prices >= p; supply(p) = ask size at prices <= p
        candidates = sorted(set(bids) | set(asks))
        best = None
        best_key = None
        bi = len(bids) - 1  # bids ascending via reversed index
        demand = sum(bl[p].size for p in bids)
        ai = 0
        supply = 0
        for p in candidates:  # ascending: demand falls, supply grows
            while bi >= 0 and bids[bi] < p:
                demand -= bl[bids[bi]].size
                bi -= 1
            while ai < len(asks) and asks[ai] <= p:
                supply += al[asks[ai]].size
                ai += 1
            vol = min(demand, supply)
            key = (-vol, abs(demand - supply), abs(p - ref) if ref is not None else 0, p)
            if best_key is None or key < best_key:
                best_key, best = key, p
        return best

    def _run_cross(self, px: int) -> None:
        """Execute the crossed part of the book at ``px`` in price-time priority (one round)."""
        bids, asks = self._bids, self._asks
        out = self._out
        volume = 0
        while bids.keys and asks.keys and bids.keys[-1] >= px and -asks.keys[-1] <= px:
            b = next(iter(bids.levels[bids.keys[-1]].orders.values()))
            a = next(iter(asks.levels[-asks.keys[-1]].orders.values()))
            maker, taker = (b, a) if b.seq < a.seq else (a, b)
            if b.owner == a.owner and taker.stp is not StpMode.NONE:
                self._stp_cross(taker, maker)
                continue
            n = min(b.size, a.size)
            self._match_id += 1
            out.append(
                Fill(
                    self._match_id, px, n, maker.id, taker.id, maker.owner, taker.owner, maker.side,
                    AggressorSide.NONE, maker.size - n, taker.size - n,
                )
            )
            volume += n
            self._take(b, n)
            self._take(a, n)
        if volume:
            self._traded(px, px)
        out.append(Cross(px, volume))

    def _take(self, o: _Order, n: int) -> None:
        """Decrease a resting order by ``n`` (fill or STP decrement), removing it when it reaches zero."""
        if n == o.size:
            self._unrest(o)
            o.size = 0
        else:
            o.size -= n
            o.level.size -= n  # type: ignore[union-attr]

    def _stp_cross(self, newer: _Order, older: _Order) -> None:
        mode, out = newer.stp, self._out
        if mode is StpMode.DECREMENT_AND_CANCEL:
            d = min(newer.size, older.size)
            for x in (older, newer):
                if x.size == d:
                    self._unrest(x)
                    out.append(Canceled(x.id, x.owner, d, Reason.SELF_TRADE))
                else:
                    self._take(x, d)
                    out.append(Reduced(x.id, x.owner, d, x.size, Reason.SELF_TRADE))
            return
        if mode is not StpMode.CANCEL_NEWEST:  # CANCEL_OLDEST, CANCEL_BOTH
            self._unrest(older)
            out.append(Canceled(older.id, older.owner, older.size, Reason.SELF_TRADE))
        if mode is not StpMode.CANCEL_OLDEST:  # CANCEL_NEWEST, CANCEL_BOTH
            self._unrest(newer)
            out.append(Canceled(newer.id, newer.owner, newer.size, Reason.SELF_TRADE))


def _view(o: _Order) -> OrderView:
    return OrderView(
        o.id, o.owner, o.side, o.order_type, o.price, o.trigger, o.size, o.seq, o.tif, o.post_only, o.stp, o.held
    )
