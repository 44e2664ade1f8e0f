"""The compiled replay book: :class:`KernelBook` keeps the data's L3 book and our orders' queue
positions in the arrays of :mod:`.kernel`, and offers the :class:`~.book.ReplayBook` interface the
venue's reference code uses (levels as :class:`KLevel` handles), so that a message the kernel hands
back to Python is handled by exactly the same code. :class:`FlowFeed` is one order flow replayed
through it in runs (:meth:`FlowFeed.advance`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numba as nb
import numpy as np

from tradeforge.core.jit import entry_point
from tradeforge.venues.replay import kernel as k
from tradeforge.venues.replay.flow import FlowAction, FlowMessage, OrderFlow

_OUT = 4096  # equity samples / executions per kernel call before Python empties the buffer
NO_STOP_BUY = 1 << 62
NO_STOP_SELL = -(1 << 62)
_NEVER = (1 << 63) - 1  # no timer pending (the clock says 2**63)


class KLevel:
    """A handle on one level of a :class:`KernelBook` (what the venue's code reads of a level)."""

    __slots__ = ("book", "mine", "price", "side")

    def __init__(self, book: KernelBook, side: int, price: int) -> None:
        self.book = book
        self.side = side
        self.price = price
        self.mine: list[Any] = []  # our resting orders here, in priority order

    @property
    def size(self) -> int:
        return int(k.k_level(self.book.lv, self.book.aux, self.side, self.price)[1])

    @property
    def unatt(self) -> int:
        return int(k.k_level(self.book.lv, self.book.aux, self.side, self.price)[2])


class KernelBook:
    """The data's book of one instrument plus our L3 resting orders, in kernel arrays."""

    def __init__(self, capacity: int = 1024, levels: int = 256) -> None:
        self.ords = np.zeros((k.N_O, 0), np.int64)
        self.h = np.full(1, -1, np.int64)
        self.lv = np.zeros((2, k.N_L, levels), np.int64)
        self.aux = np.zeros((k.N_A, _OUT), np.int64)
        self.meta = self.aux[k.A_META]
        self.mine = self.aux[k.A_MINE:]
        self.meta[k.X_FREE] = -1
        self.meta[k.X_STOP_BUY] = NO_STOP_BUY
        self.meta[k.X_STOP_SELL] = NO_STOP_SELL
        self._grow_orders(capacity)
        self._handles: dict[tuple[int, int], KLevel] = {}  # levels where our orders hang
        self._free_mine: list[int] = list(range(_OUT - 1, -1, -1))

    # -- capacity --
    def _grow_orders(self, cap: int) -> None:
        old = self.ords.shape[1]
        ords = np.zeros((k.N_O, cap), np.int64)
        ords[:, :old] = self.ords
        ords[k.O_SEQ, old:] = -1
        ords[k.O_NEXT, old:cap - 1] = np.arange(old + 1, cap)
        ords[k.O_NEXT, cap - 1] = self.meta[k.X_FREE]
        self.meta[k.X_FREE] = old
        self.meta[k.X_NFREE] += cap - old
        self.ords = ords
        hcap = 1
        while hcap < 2 * cap:
            hcap <<= 1
        self.h = np.full(hcap, -1, np.int64)
        k.k_rehash(self.ords, self.h)

    def ensure(self) -> None:
        """Room for a few more orders, levels and credits (checked before every change)."""
        meta = self.meta
        if meta[k.X_NFREE] < 2 or 2 * (meta[k.X_LIVE] + 2) > len(self.h):
            self._grow_orders(2 * self.ords.shape[1])
        cap = self.lv.shape[2]
        if max(meta[k.X_NLEV], meta[k.X_NLEV1]) + 2 > cap:
            lv = np.zeros((2, k.N_L, 2 * cap), np.int64)
            lv[:, :, :cap] = self.lv
            self.lv = lv
        if meta[k.X_NCREDIT] + 2 > self.aux.shape[1]:
            self._grow_aux()

    def _grow_aux(self) -> None:
        cap = self.aux.shape[1]
        self.aux = np.concatenate([self.aux, np.zeros_like(self.aux)], axis=1)
        self.meta = self.aux[k.A_META]
        self.mine = self.aux[k.A_MINE:]
        self._free_mine[:0] = range(2 * cap - 1, cap - 1, -1)

    # -- levels --
    def _handle(self, side: int, price: int) -> KLevel:
        return self._handles.get((side, price)) or KLevel(self, side, price)

    def level(self, side: int, price: int) -> KLevel | None:
        return self._handle(side, price) if k.k_level(self.lv, self.aux, side, price)[0] else None

    def get_level(self, side: int, price: int) -> KLevel:
        """A handle on level (side, price); the level itself is made when our order :meth:`join` s it."""
        return self._handle(side, price)

    def drop_if_empty(self, lvl: KLevel) -> None:
        k.k_drop_if_empty(self.lv, self.aux, lvl.side, lvl.price)

    def walk(self, side: int) -> Iterator[KLevel]:
        """Levels of ``side`` best first (the book must not change meanwhile)."""
        i = 0
        while True:
            found, price, _ = k.k_level_at(self.lv, self.aux, side, i)
            if not found:
                return
            yield self._handle(side, int(price))
            i += 1

    def best(self, side: int) -> KLevel | None:
        price, size = k.k_best(self.lv, self.aux, side)
        return self._handle(side, int(price)) if size > 0 else None

    def best_price(self, side: int) -> int | None:
        price, size = k.k_best(self.lv, self.aux, side)
        return int(price) if size > 0 else None

    def depth(self, side: int, n: int = 10) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for lvl in self.walk(side):
            if len(out) == n:
                break
            size = lvl.size
            if size > 0:
                out.append((lvl.price, size))
        return out

    @property
    def seq(self) -> int:
        return int(self.meta[k.X_SEQ])

    @property
    def unexplained(self) -> int:
        return int(self.meta[k.X_UNEXPL])

    # -- the data's orders --
    def order(self, order_id: int) -> tuple[KLevel, int, int] | None:
        slot, side, price, size, seq = k.k_order(self.ords, self.h, order_id)
        return None if slot < 0 else (self._handle(int(side), int(price)), int(size), int(seq))

    def order_size(self, order_id: int) -> int | None:
        found = self.order(order_id)
        return None if found is None else found[1]

    def add(self, order_id: int, side: int, price: int, size: int) -> KLevel:
        self.ensure()
        k.k_add(self.ords, self.h, self.lv, self.aux, order_id, side, price, size)
        return self._handle(side, price)

    def _result(self, r: tuple[bool, int, int, int, int]) -> tuple[KLevel | None, int, int]:
        found, side, price, removed, seq = r
        return (self._handle(int(side), int(price)) if found else None), int(removed), int(seq)

    def reduce(self, order_id: int, size: int, side: int, price: int) -> tuple[KLevel | None, int, int]:
        return self._result(k.k_reduce(self.ords, self.h, self.lv, self.aux, order_id, size, side, price))

    def remove(self, order_id: int, side: int = 0, price: int = 0, size: int = 0) -> tuple[KLevel | None, int, int]:
        return self._result(k.k_remove(self.ords, self.h, self.lv, self.aux, order_id, side, price, size))

    def modify(self, order_id: int, side: int, price: int, size: int) -> tuple[KLevel | None, KLevel, bool]:
        self.ensure()
        had, osd, opx, _osz, _oseq, kept = k.k_modify(self.ords, self.h, self.lv, self.aux, order_id, side, price, size)
        old = self._handle(int(osd), int(opx)) if had else None
        return old, (old if kept else self._handle(side, price)), bool(kept)  # type: ignore[return-value]

    def reveal(self, side: int, price: int, size: int) -> tuple[KLevel, int]:
        self.ensure()
        delta = k.k_reveal(self.ords, self.h, self.lv, self.aux, side, price, size)
        return self._handle(side, price), int(delta)

    def clear(self) -> None:
        k.k_clear(self.ords, self.h, self.lv, self.meta)

    # -- MBO fill credit --
    def has_credit(self) -> bool:
        return bool(self.meta[k.X_NCREDIT])

    def credit_take(self, order_id: int, removed: int) -> int:
        return int(k.k_credit_take(self.aux, order_id, removed))

    def credit_add(self, order_id: int, size: int) -> None:
        self.ensure()
        k.k_credit_add(self.aux, order_id, size)

    # -- our orders --
    def join(self, lvl: KLevel, r: Any) -> None:
        """Our order ``r`` (a :class:`~.venue._KernelResting`) joins the back of ``lvl`` (from
        :meth:`get_level`), as :meth:`ReplayBook.join <.book.ReplayBook.join>`."""
        if not self._free_mine:
            self._grow_aux()
        slot = self._free_mine.pop()
        handle = self._handles.get((lvl.side, lvl.price))
        if handle is None:
            handle = self._handles[(lvl.side, lvl.price)] = lvl
        handle.mine.append(r)
        if not k.k_join(self.lv, self.aux, slot, lvl.side, lvl.price):  # ahead: the level's size, behind later arrivals
            self.ensure()
            k.k_join(self.lv, self.aux, slot, lvl.side, lvl.price)
        r.attach(self, slot)

    def leave(self, lvl: KLevel, r: Any) -> None:
        handle = self._handles[(lvl.side, lvl.price)]
        handle.mine.remove(r)
        if not handle.mine:
            del self._handles[(lvl.side, lvl.price)]
        slot = r.detach()
        k.k_leave(self.lv, self.aux, slot)  # and the level goes when nothing is left on it
        self._free_mine.append(slot)


def flow_columns(flow: OrderFlow) -> np.ndarray:
    """The flow as one ``(7, n)`` int64 array (rows :data:`~.kernel.F_TS` ... ``F_NEW``)."""
    return np.stack([flow.ts_event, flow.action, flow.side, flow.price, flow.size, flow.order_id,
                     flow.new_id]).astype(np.int64, copy=False)


_SIDED = np.array([FlowAction.ADD, FlowAction.REPLACE, FlowAction.MODIFY, FlowAction.REVEAL], np.int8)


def compilable(flow: OrderFlow) -> bool:
    """Can the kernel replay this flow? L3 actions only, and every order or level a message creates
    on a side (1 or -1)."""
    if flow.level != "l3":
        return False
    a = flow.action
    if np.isin(a, (FlowAction.LEVEL, FlowAction.TOP)).any() or ((a < 1) | (a > 13)).any():
        return False
    sided = np.isin(a, _SIDED)
    return bool(np.isin(flow.side[sided], (1, -1)).all())


_I64 = nb.types.int64
_ADVANCE_SIGNATURE = (_I64[:, ::1], _I64[::1], _I64[:, :, ::1], _I64[:, ::1], _I64[:, ::1], _I64, _I64, _I64, _I64)


class FlowFeed:
    """One order flow replayed through a venue's :class:`KernelBook`, a run at a time."""

    def __init__(self, venue: Any, flow: OrderFlow, book: KernelBook) -> None:
        self.venue = venue
        self.flow = flow
        self.book = book
        self.instrument_id = flow.instrument_id
        self.fl = flow_columns(flow)
        self.ts = np.ascontiguousarray(flow.ts_event, dtype=np.int64)
        self.pos = 0
        self._stops: list[Any] = venue._stops.setdefault(flow.instrument_id, [])
        self._had_stops = False
        self._advance = entry_point(k.advance, _ADVANCE_SIGNATURE)

    def __len__(self) -> int:
        return self.fl.shape[1]

    def advance(self, end: int, timer_ns: int, last_ts: int) -> tuple[int, int, int, int, int]:
        """Kernel run from :attr:`pos` towards ``end``; returns ``(k, why, last_ts, samples, first
        sample)`` as :func:`~.kernel.advance` (``samples``: how many equity-sample times, in
        :meth:`samples` until the next call), having moved recorded executions to ``venue.trades``."""
        b = self.book
        if self._stops or self._had_stops:  # held stops: their triggers as of now
            self._had_stops = bool(self._stops)
            b.meta[k.X_STOP_BUY], b.meta[k.X_STOP_SELL] = _stop_bounds(self._stops)
        x, why, last, n_samples, first, n_trades = self._advance(
            b.ords, b.h, b.lv, b.aux, self.fl, self.pos, end, timer_ns if timer_ns < _NEVER else _NEVER, last_ts)
        self.pos = x
        if n_trades:
            out = b.aux[k.A_OUT + 1:k.A_OUT + 5, :n_trades]
            self.venue.trades.extend(zip(*out.tolist(), strict=True))
        if why == k.GROW:
            b.ensure()
        return x, why, last, n_samples, first

    def set_recording(self, on: bool) -> None:
        self.book.meta[k.X_RECORD] = int(on)

    def samples(self, n: int) -> list[int]:
        """The equity-sample times of the last run."""
        return self.book.aux[k.A_OUT, :n].tolist()

    def message(self, i: int) -> FlowMessage:
        ts, a, side, price, size, oid, nid = self.fl[:, i].tolist()
        return FlowMessage(self.instrument_id, a, side, price, size, oid, nid, ts, ts)


def _stop_bounds(stops: list[Any]) -> tuple[int, int]:
    """The lowest buy-stop and highest sell-stop trigger of held stops."""
    buy, sell = NO_STOP_BUY, NO_STOP_SELL
    for r in stops:
        trig = r.order.trigger_price
        if trig is None:
            continue
        if r.side == 1:
            buy = min(buy, trig)
        else:
            sell = max(sell, trig)
    return buy, sell
