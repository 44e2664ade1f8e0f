"""The replayed exchange book: the data's orders (L3), level sizes (L2) or the touch (L1).

Pure Python dicts, one object per level: an L3 level keeps its orders in arrival order (a dict
``order_id -> [size, seq]``; ``seq`` is a book-wide arrival number, a new one when an order loses
priority) plus its *unattributed* size: orders older than anything the source showed (LOBSTER's
revealed levels), at the front of the queue. Our simulated orders never enter this book -- the data
never saw them -- they hang on the level they rest at (``Level.mine``) and the venue moves them
through the queue as the data's orders ahead of them leave.

Best prices are kept in sorted lists (bisect), so the touch is O(1) and a new level O(log n).
Messages naming an order the book does not hold act on their level's unattributed size (the orders
resting since before the data began); where that is short, the level's oldest known orders are
presumed to have left unseen and are folded into it first, and a REVEAL smaller than the known
orders forgets them (both as :class:`~tradeforge.data.book.l3.L3Book` does for LOBSTER files, which
hide messages below level N). What even that cannot explain is counted in ``unexplained``, never
raised: the replay goes on.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any


class Level:
    """One price level of one side."""

    __slots__ = ("mine", "orders", "price", "side", "size", "unatt")

    def __init__(self, side: int, price: int) -> None:
        self.side = side
        self.price = price
        self.size = 0  # displayed total, unattributed included
        self.unatt = 0
        self.orders: dict[int, list[int]] = {}  # order_id -> [size, seq], FIFO
        self.mine: list[Any] = []  # our resting orders here, in priority order


class ReplayBook:
    """The data's book, one instrument."""

    def __init__(self) -> None:
        self.levels: tuple[dict[int, Level], dict[int, Level], dict[int, Level]] = ({}, {}, {})  # index side: 1, -1
        self._prices: tuple[list[int], list[int], list[int]] = ([], [], [])  # sorted ascending per side
        self.orders: dict[int, Level] = {}
        self.seq = 0
        self.unexplained = 0  # size of messages the book could not attribute (data inconsistencies)
        self._credit: dict[int, int] = {}  # data order id -> filled size its book update will repeat (MBO)

    # -- reading --
    def best(self, side: int) -> Level | None:
        """The best level of ``side`` that the data shows (size > 0)."""
        px = self._prices[side]
        if not px:
            return None
        lvl = self.levels[side][px[-1] if side == 1 else px[0]]
        if lvl.size > 0:
            return lvl
        return next((lv for lv in self.walk(side) if lv.size > 0), None)  # only our orders hang there

    def best_price(self, side: int) -> int | None:
        lvl = self.best(side)
        return None if lvl is None else lvl.price

    def level(self, side: int, price: int) -> Level | None:
        return self.levels[side].get(price)

    def walk(self, side: int):
        """Levels of ``side`` best first."""
        px = self._prices[side]
        lv = self.levels[side]
        for p in (reversed(px) if side == 1 else px):
            yield lv[p]

    def order(self, order_id: int) -> tuple[Level, int, int] | None:
        """``(level, size, seq)`` of a data order, None when unknown."""
        lvl = self.orders.get(order_id)
        if lvl is None:
            return None
        size, seq = lvl.orders[order_id]
        return lvl, size, seq

    def order_size(self, order_id: int) -> int | None:
        lvl = self.orders.get(order_id)
        return None if lvl is None else lvl.orders[order_id][0]

    def depth(self, side: int, n: int = 10) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for lvl in self.walk(side):
            if len(out) == n:
                break
            if lvl.size > 0:
                out.append((lvl.price, lvl.size))
        return out

    # -- levels --
    def get_level(self, side: int, price: int) -> Level:
        lv = self.levels[side]
        lvl = lv.get(price)
        if lvl is None:
            lvl = lv[price] = Level(side, price)
            insort(self._prices[side], price)
        return lvl

    def drop_if_empty(self, lvl: Level) -> None:
        if lvl.size <= 0 and not lvl.mine and not lvl.orders:
            del self.levels[lvl.side][lvl.price]
            px = self._prices[lvl.side]
            del px[bisect_left(px, lvl.price)]

    # -- our orders (the venue's), hanging on a level --
    def join(self, lvl: Level, r: Any) -> None:
        """Our order ``r`` joins the back of ``lvl``: every data order there now (and the
        unattributed front) is ahead of it (``ahead``), later arrivals behind (``book_seq``)."""
        lvl.mine.append(r)
        r.ahead = lvl.size
        r.book_seq = self.seq + 1

    def leave(self, lvl: Level, r: Any) -> None:
        """Our order ``r`` leaves ``lvl`` (which goes when nothing is left on it)."""
        lvl.mine.remove(r)
        self.drop_if_empty(lvl)

    # -- MBO fill credit: a FILL took size off the queue that the order's own update repeats --
    def has_credit(self) -> bool:
        return bool(self._credit)

    def credit_add(self, order_id: int, size: int) -> None:
        self._credit[order_id] = self._credit.get(order_id, 0) + size

    def credit_take(self, order_id: int, removed: int) -> int:
        """How much of ``removed`` an earlier FILL of this data order already took off the queue."""
        credit = self._credit.pop(order_id, 0)
        used = min(credit, removed)
        if credit > used:
            self._credit[order_id] = credit - used
        return used

    # -- L3 --
    def add(self, order_id: int, side: int, price: int, size: int) -> Level:
        if order_id in self.orders:  # a duplicate id: the source re-used it; the old one leaves
            self.remove(order_id)
        lvl = self.get_level(side, price)
        self.seq += 1
        lvl.orders[order_id] = [size, self.seq]
        lvl.size += size
        self.orders[order_id] = lvl
        return lvl

    def reduce(self, order_id: int, size: int, side: int, price: int) -> tuple[Level | None, int, int]:
        """Take ``size`` off an order (cancel or execution); returns ``(level, removed, seq)`` with
        ``seq`` -1 for unattributed size, ``level`` None when nothing could be attributed."""
        lvl = self.orders.get(order_id)
        if lvl is None:
            return self._reduce_unattributed(side, price, size)
        entry = lvl.orders[order_id]
        removed = min(size, entry[0])
        if removed < size:
            self.unexplained += size - removed
        entry[0] -= removed
        lvl.size -= removed
        seq = entry[1]
        if entry[0] <= 0:
            del lvl.orders[order_id]
            del self.orders[order_id]
            self.drop_if_empty(lvl)
        return lvl, removed, seq

    def remove(self, order_id: int, side: int = 0, price: int = 0, size: int = 0) -> tuple[Level | None, int, int]:
        """Delete an order; an unknown one takes ``size`` off its level's unattributed size."""
        lvl = self.orders.get(order_id)
        if lvl is None:
            return self._reduce_unattributed(side, price, size)
        return self.reduce(order_id, lvl.orders[order_id][0], lvl.side, lvl.price)

    def _reduce_unattributed(self, side: int, price: int, size: int) -> tuple[Level | None, int, int]:
        lvl = self.levels[side].get(price) if side in (1, -1) else None
        if lvl is None:
            self.unexplained += size
            return None, 0, -1
        # short of unattributed size: the level's oldest known orders must have left unseen
        # (their size stands for the unknown orders) -> fold them in
        while lvl.unatt < size and lvl.orders:
            oid = next(iter(lvl.orders))
            lvl.unatt += lvl.orders.pop(oid)[0]
            del self.orders[oid]
        removed = min(size, lvl.unatt)
        self.unexplained += size - removed
        lvl.unatt -= removed
        lvl.size -= removed
        self.drop_if_empty(lvl)
        return lvl, removed, -1

    def modify(self, order_id: int, side: int, price: int, size: int) -> tuple[Level | None, Level, bool]:
        """Change an order in place (Databento ``M``); returns ``(old level, new level, kept
        priority)``. An unknown id is added."""
        old = self.orders.get(order_id)
        if old is None:
            return None, self.add(order_id, side, price, size), False
        entry = old.orders[order_id]
        if old.price == price and old.side == side and size <= entry[0]:
            old.size += size - entry[0]
            entry[0] = size
            if size <= 0:
                del old.orders[order_id]
                del self.orders[order_id]
                self.drop_if_empty(old)
            return old, old, True
        self.reduce(order_id, entry[0], old.side, old.price)
        return old, self.add(order_id, side, price, size), False

    def reveal(self, side: int, price: int, size: int) -> tuple[Level, int]:
        """The source shows this level as the touch at ``size``: levels better than it are gone
        (emptied by messages the source did not show), and its unattributed size becomes what the
        known orders do not explain; returns the level and the change of its unattributed size."""
        gone = []
        for lv in self.walk(side):
            if (lv.price - price) * side <= 0:
                break
            gone.append(lv)
        for better in gone:
            for oid in better.orders:
                del self.orders[oid]
            better.orders.clear()
            better.size = better.unatt = 0
            self.drop_if_empty(better)
        lvl = self.get_level(side, price)
        known = lvl.size - lvl.unatt
        if known > size:  # orders shown earlier left this level unseen: forget them
            for oid in lvl.orders:
                del self.orders[oid]
            lvl.orders.clear()
            lvl.size -= known
            known = 0
        new_unatt = max(size - known, 0)
        delta = new_unatt - lvl.unatt
        lvl.unatt = new_unatt
        lvl.size = known + new_unatt
        self.drop_if_empty(lvl)
        return lvl, delta

    # -- L2 / L1 --
    def set_level(self, side: int, price: int, size: int) -> tuple[Level, int]:
        """Market by price: the level now holds ``size``; returns the level and its old size."""
        lvl = self.get_level(side, price)
        old = lvl.size
        lvl.size = lvl.unatt = size
        self.drop_if_empty(lvl)
        return lvl, old

    def set_top(self, side: int, price: int, size: int) -> tuple[Level | None, int]:
        """Top of book: levels better than ``price`` are gone (the touch moved back), and levels
        worse than it are unknown (kept only where our orders hang, at size 0)."""
        lv = self.levels[side]
        for p in list(self._prices[side]):
            if p != price:
                lvl = lv[p]
                lvl.size = lvl.unatt = 0
                lvl.orders.clear()
                self.drop_if_empty(lvl)
        if size <= 0:
            return None, 0
        return self.set_level(side, price, size)

    def clear(self) -> None:
        for side in (1, -1):
            for lvl in list(self.levels[side].values()):
                lvl.size = lvl.unatt = 0
                lvl.orders.clear()
                self.drop_if_empty(lvl)
        self.orders.clear()
