"""A market-by-order (L3) order book of one instrument, keyed by order id.

The state is a handful of numpy arrays and the work is done by numba-jitted kernels that apply a
whole batch of messages at once (``1-2 M`` messages/s and more), so feeds are replayed as columns
``(action, order_id, side, price, size, new_id)`` without a Python call per message:

- **orders** live in slots (``id, side, price, size`` plus ``prev``/``next`` links giving each
  level's time priority as a FIFO list); an open-addressing hash table (linear probing, backward-shift
  deletion) maps order id -> slot;
- **price levels** of each side are kept in one array sorted by ``key = price * side`` (side 1 bid,
  -1 ask), so the best level is always the last one and the common changes near the touch move only
  a few entries; a level holds its aggregated size, order count, the head/tail of its FIFO and an
  ``unattributed`` size (see below).

Actions (:class:`Action`): ``ADD`` a new order; ``CANCEL`` reduce an order by ``size`` (partial
cancel; reaching zero removes it); ``DELETE`` remove it; ``EXECUTE`` fill ``size`` of it (partial or
full; more than it has is an error); ``REPLACE`` remove it and add ``new_id`` on the same side with a
new price and size (time priority is lost); ``NONE`` changes nothing (trade prints, halts).

Orders the book never saw (a feed joined mid-session) follow :class:`UnknownOrderPolicy`: ``RAISE``
(the default) stops at the first such message with a :class:`BookError` naming the message index;
``IGNORE`` skips it; ``LEVEL`` applies the message to the *unattributed* size of the level at the message's side and
price -- size known to rest there whose order ids are unknown, e.g. seeded from a snapshot with
:meth:`L3Book.set_level`; where that is short, the level's oldest known orders are presumed to have
left unseen and are folded into it first (a feed that hides some messages, like LOBSTER's). A level's size is always the sum of its orders plus its unattributed size
(:meth:`L3Book.check_invariant` recomputes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

import numba as nb
import numpy as np

__all__ = [
    "Action",
    "BookError",
    "BookUpdates",
    "L3Book",
    "UnknownOrderPolicy",
]


class Action(IntEnum):
    """Book action codes of the batch columns."""

    NONE = 0
    ADD = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    REPLACE = 5


class UnknownOrderPolicy(Enum):
    """What a message naming an order id the book does not hold does."""

    RAISE = "raise"
    LEVEL = "level"  # apply to the unattributed size of the level at the message's side and price
    IGNORE = "ignore"  # change nothing (the message's ``order_size`` output is -1)


_MODES = {UnknownOrderPolicy.RAISE: 0, UnknownOrderPolicy.LEVEL: 1, UnknownOrderPolicy.IGNORE: 2}

# error codes of the kernels
_OK = 0
_E_UNKNOWN = 1
_E_DUPLICATE = 2
_E_OVER_EXEC = 3
_E_OVER_CANCEL = 4
_E_BAD_SIDE = 5
_E_BAD_SIZE = 6
_E_BAD_ACTION = 7
_E_UNATTRIBUTED = 8

_REASONS = {
    _E_UNKNOWN: "unknown order id",
    _E_DUPLICATE: "order id already in the book",
    _E_OVER_EXEC: "execution larger than the order's remaining size",
    _E_OVER_CANCEL: "cancel larger than the order's remaining size",
    _E_BAD_SIDE: "side must be 1 (bid) or -1 (ask)",
    _E_BAD_SIZE: "size must be positive",
    _E_BAD_ACTION: "unknown action code",
    _E_UNATTRIBUTED: "unknown order id and not enough unattributed size at its level",
}

# flags of the level-one check (``expect`` in :meth:`L3Book.apply`)
REVEAL_BID = 1
REVEAL_ASK = 2
MISMATCH_BID = 4
MISMATCH_ASK = 8

# messages per kernel call: capacity (order slots, id table, levels) is reserved for a whole call,
# so a smaller batch keeps the id table small enough to stay in cache (1 << 16 was ~20% slower)
_CHUNK = 1 << 13
_EMPTY_BID = -9_999_999_999  # LOBSTER's dummy prices of an empty side
_EMPTY_ASK = 9_999_999_999


class BookError(ValueError):
    """A message cannot be applied; names the message index (0-based within the replayed stream)."""

    def __init__(self, index: int, order_id: int, code: int, detail: str = "") -> None:
        self.index = index
        self.order_id = order_id
        self.code = code
        self.reason = _REASONS.get(code, f"error {code}")
        text = f"message {index} (order id {order_id}): {self.reason}"
        super().__init__(text + (f" ({detail})" if detail else ""))


@dataclass(frozen=True, eq=False)
class BookUpdates:
    """What each message of a batch changed, one entry per message.

    ``level_*``: the level the message changed (``level_side`` 0 when none), with its size and order
    count after the message and ``level_action`` (1 added, 2 updated, 3 deleted, as
    :class:`~tradeforge.model.enums.BookAction`); ``new_level_*`` the same for the level a REPLACE
    moved the order to; ``order_size`` the changed order's remaining size (0 once gone, -1 when the
    message named no known order); ``bid_*``/``ask_*`` the best level after the message (price 0
    and size 0 when that side is empty); ``flags`` the level-one check's reveal/mismatch bits.
    """

    level_side: np.ndarray
    level_price: np.ndarray
    level_size: np.ndarray
    level_count: np.ndarray
    level_action: np.ndarray
    new_level_side: np.ndarray
    new_level_price: np.ndarray
    new_level_size: np.ndarray
    new_level_count: np.ndarray
    new_level_action: np.ndarray
    order_size: np.ndarray
    bid_price: np.ndarray
    bid_size: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray
    flags: np.ndarray

    @classmethod
    def empty(cls, n: int) -> BookUpdates:
        z = [np.zeros(n, np.int64) for _ in range(16)]
        return cls(*z)

    def __len__(self) -> int:
        return len(self.level_side)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (
            self.level_side, self.level_price, self.level_size, self.level_count, self.level_action,
            self.new_level_side, self.new_level_price, self.new_level_size, self.new_level_count,
            self.new_level_action, self.order_size, self.bid_price, self.bid_size, self.ask_price,
            self.ask_size, self.flags,
        )

    def slice(self, start: int, stop: int) -> BookUpdates:
        return BookUpdates(*(a[start:stop] for a in self.arrays()))

    @classmethod
    def concat(cls, parts: list[BookUpdates]) -> BookUpdates:
        if not parts:
            return cls.empty(0)
        return cls(*(np.concatenate(cols) for cols in zip(*(p.arrays() for p in parts), strict=True)))


# --------------------------------------------------------------------------------------------
# Kernels. State layout:
#   o_id, o_side, o_price, o_size, o_prev, o_next : order slots
#   free : stack of free slot indices; meta[0] = free stack top (number of free slots),
#   meta[1] = live orders, meta[2] = levels of side 0 (bids), meta[3] = levels of side 1 (asks)
#   h : hash table of slots (-1 empty), size a power of two
#   l_key, l_size, l_count, l_unatt, l_head, l_tail : (2, cap) levels, sorted by key ascending
# --------------------------------------------------------------------------------------------

_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


@nb.njit(cache=True, inline="always")
def _home(key, mask):
    return np.int64((np.uint64(key) * _HASH_MUL) >> np.uint64(20)) & mask


@nb.njit(cache=True)
def _h_find(h, o_id, key):
    mask = len(h) - 1
    i = _home(key, mask)
    while True:
        s = h[i]
        if s < 0:
            return -1, i
        if o_id[s] == key:
            return s, i
        i = (i + 1) & mask


@nb.njit(cache=True)
def _h_delete(h, o_id, pos):
    mask = len(h) - 1
    i = pos
    j = pos
    while True:
        j = (j + 1) & mask
        s = h[j]
        if s < 0:
            break
        k = _home(o_id[s], mask)
        # move s back to i unless its home lies cyclically in (i, j]
        move = (k <= i or k > j) if i <= j else (k <= i and k > j)
        if move:
            h[i] = s
            i = j
    h[i] = -1


@nb.njit(cache=True)
def _lvl_find(l_key, n, key):
    """Index of ``key`` in the sorted ``l_key[:n]`` or, when absent, ``-(insertion point) - 1``."""
    lo = 0
    hi = n
    # fast path: the touch and the level below it
    if n > 0 and l_key[n - 1] == key:
        return n - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if l_key[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and l_key[lo] == key:
        return lo
    return -lo - 1


@nb.njit(cache=True)
def _lvl_insert(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, n, pos, key):
    for j in range(n, pos, -1):
        l_key[s, j] = l_key[s, j - 1]
        l_size[s, j] = l_size[s, j - 1]
        l_count[s, j] = l_count[s, j - 1]
        l_unatt[s, j] = l_unatt[s, j - 1]
        l_head[s, j] = l_head[s, j - 1]
        l_tail[s, j] = l_tail[s, j - 1]
    l_key[s, pos] = key
    l_size[s, pos] = 0
    l_count[s, pos] = 0
    l_unatt[s, pos] = 0
    l_head[s, pos] = -1
    l_tail[s, pos] = -1


@nb.njit(cache=True)
def _lvl_remove(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, n, pos):
    for j in range(pos, n - 1):
        l_key[s, j] = l_key[s, j + 1]
        l_size[s, j] = l_size[s, j + 1]
        l_count[s, j] = l_count[s, j + 1]
        l_unatt[s, j] = l_unatt[s, j + 1]
        l_head[s, j] = l_head[s, j + 1]
        l_tail[s, j] = l_tail[s, j + 1]


@nb.njit(cache=True)
def _unlink(o_prev, o_next, l_head, l_tail, s, li, slot):
    p = o_prev[slot]
    q = o_next[slot]
    if p >= 0:
        o_next[p] = q
    else:
        l_head[s, li] = q
    if q >= 0:
        o_prev[q] = p
    else:
        l_tail[s, li] = p


@nb.njit(cache=True)
def _kernel(
    o_id, o_side, o_price, o_size, o_prev, o_next, free, meta, h,
    l_key, l_size, l_count, l_unatt, l_head, l_tail,
    act, oid, side, price, size, new_id, unknown_mode,
    out, record, exp_ap, exp_as, exp_bp, exp_bs, check,
):
    """Apply messages ``0..n-1``; returns ``(n_applied, error_code)``.

    ``out`` is a (16, n) int64 array filled when ``record`` (see :class:`BookUpdates`);
    with ``check`` the book is compared to the expected level one after each message and re-synced
    where it differs (LOBSTER replay; see :func:`tradeforge.data.lobster.rebuild_book`).
    """
    n = len(act)
    for i in range(n):
        a = act[i]
        # previous touch of both sides, for the level-one check
        pk0 = np.int64(0)
        pk1 = np.int64(0)
        had0 = meta[2] > 0
        had1 = meta[3] > 0
        if check:
            if had0:
                pk0 = l_key[0, meta[2] - 1]
            if had1:
                pk1 = l_key[1, meta[3] - 1]
        ls = 0
        lp = 0
        lsz = 0
        lc = 0
        la = 0
        ns_ = 0
        np_ = 0
        nsz = 0
        nc = 0
        na = 0
        osz = -1
        if a == 5 and unknown_mode == 2:
            s_chk, _ = _h_find(h, o_id, oid[i])
            if s_chk < 0:
                a = 0  # replace of an unknown order under IGNORE: its side is unknown, skip it
        if a == 0:
            pass
        elif a == 1 or a == 5:
            if a == 1:
                sd = side[i]
                if sd != 1 and sd != -1:
                    return i, _E_BAD_SIDE
                key_id = oid[i]
            else:
                # replace: remove the old order first
                slot, pos = _h_find(h, o_id, oid[i])
                if slot < 0:
                    return i, _E_UNKNOWN
                key_id = new_id[i]
                if key_id != oid[i]:
                    s2, _ = _h_find(h, o_id, key_id)
                    if s2 >= 0:
                        return i, _E_DUPLICATE
                if size[i] <= 0:
                    return i, _E_BAD_SIZE
                sd = o_side[slot]
                s = 0 if sd == 1 else 1
                li = _lvl_find(l_key[s], meta[2 + s], o_price[slot] * sd)
                _unlink(o_prev, o_next, l_head, l_tail, s, li, slot)
                l_size[s, li] -= o_size[slot]
                l_count[s, li] -= 1
                ls = sd
                lp = o_price[slot]
                lsz = l_size[s, li]
                lc = l_count[s, li]
                la = 2
                if lsz == 0 and lc == 0:
                    _lvl_remove(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, meta[2 + s], li)
                    meta[2 + s] -= 1
                    la = 3
                _, pos = _h_find(h, o_id, oid[i])
                _h_delete(h, o_id, pos)
                free[meta[0]] = slot
                meta[0] += 1
                meta[1] -= 1
            if size[i] <= 0:
                return i, _E_BAD_SIZE
            slot2, pos = _h_find(h, o_id, key_id)
            if slot2 >= 0:
                return i, _E_DUPLICATE
            meta[0] -= 1
            slot = free[meta[0]]
            meta[1] += 1
            h[pos] = slot
            o_id[slot] = key_id
            o_side[slot] = sd
            o_price[slot] = price[i]
            o_size[slot] = size[i]
            s = 0 if sd == 1 else 1
            key = price[i] * sd
            nlev = meta[2 + s]
            li = _lvl_find(l_key[s], nlev, key)
            act_code = 2
            if li < 0:
                li = -li - 1
                _lvl_insert(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, nlev, li, key)
                meta[2 + s] = nlev + 1
                act_code = 1
            t = l_tail[s, li]
            o_prev[slot] = t
            o_next[slot] = -1
            if t >= 0:
                o_next[t] = slot
            else:
                l_head[s, li] = slot
            l_tail[s, li] = slot
            l_size[s, li] += size[i]
            l_count[s, li] += 1
            osz = size[i]
            if a == 1:
                ls = sd
                lp = price[i]
                lsz = l_size[s, li]
                lc = l_count[s, li]
                la = act_code
            else:
                ns_ = sd
                np_ = price[i]
                nsz = l_size[s, li]
                nc = l_count[s, li]
                na = act_code
        elif a == 2 or a == 3 or a == 4:
            slot, pos = _h_find(h, o_id, oid[i])
            if slot >= 0:
                sd = o_side[slot]
                s = 0 if sd == 1 else 1
                li = _lvl_find(l_key[s], meta[2 + s], o_price[slot] * sd)
                rem = o_size[slot]
                if a == 3:
                    q = rem
                else:
                    q = size[i]
                    if q <= 0:
                        return i, _E_BAD_SIZE
                    if q > rem:
                        return i, (_E_OVER_EXEC if a == 4 else _E_OVER_CANCEL)
                rem -= q
                l_size[s, li] -= q
                o_size[slot] = rem
                osz = rem
                if rem == 0:
                    _unlink(o_prev, o_next, l_head, l_tail, s, li, slot)
                    l_count[s, li] -= 1
                    _h_delete(h, o_id, pos)
                    free[meta[0]] = slot
                    meta[0] += 1
                    meta[1] -= 1
                ls = sd
                lp = o_price[slot]
                lsz = l_size[s, li]
                lc = l_count[s, li]
                la = 2
                if lsz == 0 and lc == 0:
                    _lvl_remove(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, meta[2 + s], li)
                    meta[2 + s] -= 1
                    la = 3
            elif unknown_mode == 2:
                pass
            else:
                if unknown_mode == 0:
                    return i, _E_UNKNOWN
                sd = side[i]
                if sd != 1 and sd != -1:
                    return i, _E_BAD_SIDE
                q = size[i]
                if q <= 0:
                    return i, _E_BAD_SIZE
                s = 0 if sd == 1 else 1
                li = _lvl_find(l_key[s], meta[2 + s], price[i] * sd)
                if li < 0:
                    return i, _E_UNATTRIBUTED
                # short of unattributed size: the level's oldest known orders must have left
                # unseen (their size stands for the unknown orders) -> fold them in
                while l_unatt[s, li] < q and l_head[s, li] >= 0:
                    o = l_head[s, li]
                    _unlink(o_prev, o_next, l_head, l_tail, s, li, o)
                    l_unatt[s, li] += o_size[o]
                    l_count[s, li] -= 1
                    _, pos = _h_find(h, o_id, o_id[o])
                    _h_delete(h, o_id, pos)
                    free[meta[0]] = o
                    meta[0] += 1
                    meta[1] -= 1
                if l_unatt[s, li] < q:
                    return i, _E_UNATTRIBUTED
                l_unatt[s, li] -= q
                l_size[s, li] -= q
                ls = sd
                lp = price[i]
                lsz = l_size[s, li]
                lc = l_count[s, li]
                la = 2
                if lsz == 0 and lc == 0:
                    _lvl_remove(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, meta[2 + s], li)
                    meta[2 + s] -= 1
                    la = 3
        else:
            return i, _E_BAD_ACTION

        flag = 0
        if check:
            for s in range(2):
                sd = 1 if s == 0 else -1
                if s == 0:
                    ep = exp_bp[i]
                    es = exp_bs[i]
                    empty = es == 0 or ep == _EMPTY_BID
                    had = had0
                    pk = pk0
                else:
                    ep = exp_ap[i]
                    es = exp_as[i]
                    empty = es == 0 or ep == _EMPTY_ASK
                    had = had1
                    pk = pk1
                nlev = meta[2 + s]
                same = False
                if empty:
                    same = nlev == 0
                elif nlev > 0:
                    same = l_key[s, nlev - 1] == ep * sd and l_size[s, nlev - 1] == es
                if same:
                    continue
                # the message emptied the previous touch, or the side was empty: the level now
                # at the touch was never shown by the messages -> take it from the snapshot
                revealed = (not had) or _lvl_find(l_key[s], nlev, pk) < 0
                flag |= (1 << s) if revealed else (4 << s)
                # re-sync: drop stale levels better than the expected touch, set the touch's size
                ekey = _EMPTY_BID if empty else ep * sd
                while meta[2 + s] > 0 and (empty or l_key[s, meta[2 + s] - 1] > ekey):
                    j = meta[2 + s] - 1
                    o = l_head[s, j]
                    while o >= 0:
                        nxt = o_next[o]
                        _, pos = _h_find(h, o_id, o_id[o])
                        _h_delete(h, o_id, pos)
                        free[meta[0]] = o
                        meta[0] += 1
                        meta[1] -= 1
                        o = nxt
                    meta[2 + s] = j
                if empty:
                    continue
                nlev = meta[2 + s]
                li = _lvl_find(l_key[s], nlev, ekey)
                if li < 0:
                    li = -li - 1
                    _lvl_insert(l_key, l_size, l_count, l_unatt, l_head, l_tail, s, nlev, li, ekey)
                    meta[2 + s] = nlev + 1
                known = l_size[s, li] - l_unatt[s, li]
                if known > es:
                    # orders shown earlier left this level unseen: forget them
                    o = l_head[s, li]
                    while o >= 0:
                        nxt = o_next[o]
                        _, pos = _h_find(h, o_id, o_id[o])
                        _h_delete(h, o_id, pos)
                        free[meta[0]] = o
                        meta[0] += 1
                        meta[1] -= 1
                        o = nxt
                    l_head[s, li] = -1
                    l_tail[s, li] = -1
                    l_count[s, li] = 0
                    known = 0
                l_unatt[s, li] = es - known
                l_size[s, li] = es

        if record:
            out[0, i] = ls
            out[1, i] = lp
            out[2, i] = lsz
            out[3, i] = lc
            out[4, i] = la
            out[5, i] = ns_
            out[6, i] = np_
            out[7, i] = nsz
            out[8, i] = nc
            out[9, i] = na
            out[10, i] = osz
            nb_ = meta[2]
            if nb_ > 0:
                out[11, i] = l_key[0, nb_ - 1]
                out[12, i] = l_size[0, nb_ - 1]
            else:
                out[11, i] = 0
                out[12, i] = 0
            na_ = meta[3]
            if na_ > 0:
                out[13, i] = -l_key[1, na_ - 1]
                out[14, i] = l_size[1, na_ - 1]
            else:
                out[13, i] = 0
                out[14, i] = 0
            out[15, i] = flag
    return n, _OK


@nb.njit(cache=True)
def _rehash(h, o_id, live_slots):
    mask = len(h) - 1
    for s in live_slots:
        i = _home(o_id[s], mask)
        while h[i] >= 0:
            i = (i + 1) & mask
        h[i] = s


def _grow(a: np.ndarray, cap: int, fill: int = 0) -> np.ndarray:
    out = np.full((*a.shape[:-1], cap), fill, dtype=a.dtype)
    out[..., : a.shape[-1]] = a
    return out


class L3Book:
    """The market-by-order book of one instrument.

    Use :meth:`apply` on columns for speed; the one-message methods (:meth:`add`, :meth:`execute`,
    ...) go through the same kernel and suit tests and small feeds.
    """

    def __init__(
        self,
        instrument_id: str = "",
        unknown: UnknownOrderPolicy = UnknownOrderPolicy.RAISE,
        capacity: int = 1024,
    ) -> None:
        self.instrument_id = instrument_id
        self.unknown = unknown
        self.sequence = 0  # messages applied so far (the index errors name)
        cap = max(16, int(capacity))
        self._o = np.zeros((6, cap), np.int64)  # id, side, price, size, prev, next
        self._free = np.arange(cap - 1, -1, -1, dtype=np.int64)
        self._meta = np.array([cap, 0, 0, 0], np.int64)
        self._h = np.full(_pow2(4 * cap), -1, np.int64)
        lcap = 256
        self._l = np.zeros((6, 2, lcap), np.int64)  # key, size, count, unattributed, head, tail

    # -- capacity ---------------------------------------------------------------------------
    def _reserve(self, n_msgs: int) -> None:
        meta = self._meta
        if meta[0] < n_msgs:  # every message adds at most one order
            old = self._o.shape[1]
            cap = max(2 * old, old + n_msgs + 16)
            self._o = _grow(self._o, cap)
            k = int(meta[0])
            free = np.empty(cap, np.int64)
            free[:k] = self._free[:k]
            free[k : k + cap - old] = np.arange(cap - 1, old - 1, -1, dtype=np.int64)
            self._free = free
            meta[0] = k + cap - old
        if 2 * (meta[1] + n_msgs) > len(self._h):
            size = _pow2(4 * (int(meta[1]) + n_msgs))
            live = np.flatnonzero(self._h >= 0)
            slots = self._h[live]
            self._h = np.full(size, -1, np.int64)
            _rehash(self._h, self._o[0], slots)
        need = int(max(meta[2], meta[3])) + n_msgs + 1
        if need > self._l.shape[2]:
            self._l = _grow(self._l, max(need, 2 * self._l.shape[2]))

    # -- batch application ------------------------------------------------------------------
    def apply(
        self,
        action: np.ndarray,
        order_id: np.ndarray,
        side: np.ndarray,
        price: np.ndarray,
        size: np.ndarray,
        new_id: np.ndarray | None = None,
        *,
        record: bool = True,
        expect: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> BookUpdates | None:
        """Apply a batch of messages (int64-convertible columns of equal length).

        Returns the per-message :class:`BookUpdates` when ``record`` (else ``None``). ``expect``
        (``ask_price, ask_size, bid_price, bid_size`` after each message) turns on the level-one
        check: where the book's touch differs it is re-synced to the expectation and
        ``flags`` records whether that was a *reveal* (the message emptied the touch, or the side
        was empty, so the new touch comes from depth the messages never showed) or a *mismatch*.
        On an error the messages before the bad one stay applied and :class:`BookError` names it.
        """
        cols = [np.ascontiguousarray(c, dtype=np.int64) for c in (action, order_id, side, price, size)]
        n = len(cols[0])
        nid = cols[1] if new_id is None else np.ascontiguousarray(new_id, dtype=np.int64)
        if any(len(c) != n for c in cols) or len(nid) != n:
            raise ValueError("book columns must have equal lengths")
        if expect is not None:
            exp = [np.ascontiguousarray(c, dtype=np.int64) for c in expect]
            if any(len(c) != n for c in exp):
                raise ValueError("expected level-one columns must match the messages")
        else:
            exp = [np.zeros(0, np.int64)] * 4
        out_all = np.empty((16, n if record else 0), np.int64)
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            self._reserve(stop - start)
            out = out_all[:, start:stop] if record else out_all
            o, lv = self._o, self._l
            done, err = _kernel(
                o[0], o[1], o[2], o[3], o[4], o[5], self._free, self._meta, self._h,
                lv[0], lv[1], lv[2], lv[3], lv[4], lv[5],
                cols[0][start:stop], cols[1][start:stop], cols[2][start:stop], cols[3][start:stop],
                cols[4][start:stop], nid[start:stop], _MODES[self.unknown],
                out, record,
                *(e[start:stop] for e in exp), expect is not None,
            )
            self.sequence += done
            if err:
                i = start + done
                raise BookError(self.sequence, int(cols[1][i]), err, f"action {int(cols[0][i])}")
        return BookUpdates(*out_all) if record else None

    def _one(self, action: int, order_id: int, side: int, price: int, size: int, new_id: int = 0) -> BookUpdates:
        res = self.apply(
            np.array([action]), np.array([order_id]), np.array([side]), np.array([price]), np.array([size]),
            np.array([new_id]),
        )
        assert res is not None
        return res

    def add(self, order_id: int, side: int, price: int, size: int) -> None:
        """Add a new order at the back of its level's queue."""
        self._one(Action.ADD, order_id, side, price, size)

    def cancel(self, order_id: int, size: int, side: int = 0, price: int = 0) -> None:
        """Reduce an order by ``size`` (partial cancel; removing all of it deletes it)."""
        self._one(Action.CANCEL, order_id, side, price, size)

    def delete(self, order_id: int, side: int = 0, price: int = 0, size: int = 0) -> None:
        """Remove an order (``side/price/size`` only matter for unknown ids under ``LEVEL``)."""
        self._one(Action.DELETE, order_id, side, price, size)

    def execute(self, order_id: int, size: int, side: int = 0, price: int = 0) -> None:
        """Fill ``size`` of an order; a full fill removes it, more than it has is a :class:`BookError`."""
        self._one(Action.EXECUTE, order_id, side, price, size)

    def replace(self, order_id: int, new_id: int, price: int, size: int) -> None:
        """Replace an order by ``new_id`` at a new price and size on the same side (loses priority)."""
        self._one(Action.REPLACE, order_id, 0, price, size, new_id)

    def set_level(self, side: int, price: int, size: int) -> None:
        """Set a level's total size through its unattributed part (snapshot seeding).

        ``size`` must be at least the size of the orders the book holds there.
        """
        if side not in (1, -1):
            raise ValueError("side must be 1 (bid) or -1 (ask)")
        s = 0 if side == 1 else 1
        self._reserve(1)
        lv = self._l
        n = int(self._meta[2 + s])
        li = int(_lvl_find(lv[0, s], n, price * side))
        if li < 0:
            if size == 0:
                return
            li = -li - 1
            _lvl_insert(lv[0], lv[1], lv[2], lv[3], lv[4], lv[5], s, n, li, price * side)
            self._meta[2 + s] = n + 1
        known = int(lv[1, s, li] - lv[3, s, li])
        if size < known:
            raise ValueError(f"level {price} holds {known} in known orders, more than {size}")
        lv[3, s, li] = size - known
        lv[1, s, li] = size
        if size == 0 and lv[2, s, li] == 0:
            _lvl_remove(lv[0], lv[1], lv[2], lv[3], lv[4], lv[5], s, int(self._meta[2 + s]), li)
            self._meta[2 + s] -= 1

    # -- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._meta[1])

    @property
    def n_orders(self) -> int:
        return int(self._meta[1])

    def n_levels(self, side: int) -> int:
        return int(self._meta[2 if side == 1 else 3])

    def _top(self, s: int) -> tuple[int, int] | None:
        n = int(self._meta[2 + s])
        if n == 0:
            return None
        key = int(self._l[0, s, n - 1])
        return (key if s == 0 else -key), int(self._l[1, s, n - 1])

    def best_bid(self) -> tuple[int, int] | None:
        """``(price, size)`` of the best bid, or ``None``."""
        return self._top(0)

    def best_ask(self) -> tuple[int, int] | None:
        """``(price, size)`` of the best ask, or ``None``."""
        return self._top(1)

    def levels(self, side: int, n: int | None = None) -> np.ndarray:
        """``(k, 4)`` array of ``price, size, order_count, unattributed`` of one side, best first."""
        s = 0 if side == 1 else 1
        m = int(self._meta[2 + s])
        k = m if n is None else min(n, m)
        idx = np.arange(m - 1, m - 1 - k, -1)
        lv = self._l
        return np.stack([lv[0, s, idx] * side, lv[1, s, idx], lv[2, s, idx], lv[3, s, idx]], axis=1)

    def depth(self, n: int = 10) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """Top ``n`` levels as ``(bids, asks)`` of ``(price, size)`` tuples, best first."""
        b = self.levels(1, n)
        a = self.levels(-1, n)
        return (
            tuple(zip(b[:, 0].tolist(), b[:, 1].tolist(), strict=True)),
            tuple(zip(a[:, 0].tolist(), a[:, 1].tolist(), strict=True)),
        )

    def order(self, order_id: int) -> tuple[int, int, int] | None:
        """``(side, price, size)`` of a resting order, or ``None``."""
        slot, _ = _h_find(self._h, self._o[0], np.int64(order_id))
        if slot < 0:
            return None
        o = self._o
        return int(o[1, slot]), int(o[2, slot]), int(o[3, slot])

    def orders_at(self, side: int, price: int) -> list[tuple[int, int]]:
        """``(order_id, size)`` of the orders at one level in time priority."""
        s = 0 if side == 1 else 1
        lv = self._l
        li = int(_lvl_find(lv[0, s], int(self._meta[2 + s]), price * side))
        if li < 0:
            return []
        out = []
        slot = int(lv[4, s, li])
        while slot >= 0:
            out.append((int(self._o[0, slot]), int(self._o[3, slot])))
            slot = int(self._o[5, slot])
        return out

    def check_invariant(self) -> None:
        """Recompute every level from its orders; raise ``AssertionError`` on any inconsistency.

        Checks: each level's size = its orders' sizes + unattributed size and its count = its
        orders; no non-positive order sizes or negative level sizes; levels strictly sorted; every
        order reachable from the hash table, in exactly one level queue, with links consistent.
        """
        o, lv, meta = self._o, self._l, self._meta
        seen = 0
        for s, sd in ((0, 1), (1, -1)):
            n = int(meta[2 + s])
            keys = lv[0, s, :n]
            assert np.all(np.diff(keys) > 0), "levels not strictly sorted"
            for li in range(n):
                total, count, prev = 0, 0, -1
                slot = int(lv[4, s, li])
                while slot >= 0:
                    assert int(o[4, slot]) == prev, "broken prev link"
                    assert int(o[1, slot]) == sd, "order on the wrong side"
                    assert int(o[2, slot]) * sd == int(keys[li]), "order at the wrong level"
                    assert int(o[3, slot]) > 0, "order with non-positive size"
                    found, _ = _h_find(self._h, o[0], o[0, slot])
                    assert found == slot, "order not in the id table"
                    total += int(o[3, slot])
                    count += 1
                    prev = slot
                    slot = int(o[5, slot])
                assert int(lv[5, s, li]) == prev, "broken tail"
                un = int(lv[3, s, li])
                assert un >= 0, "negative unattributed size"
                assert int(lv[1, s, li]) == total + un, f"level {int(keys[li]) * sd}: size != sum of orders"
                assert int(lv[2, s, li]) == count, f"level {int(keys[li]) * sd}: order count mismatch"
                assert total + un > 0 or count > 0, "empty level kept"
                seen += count
        assert seen == int(meta[1]), "orders outside any level"
        assert int(np.count_nonzero(self._h >= 0)) == seen, "id table size mismatch"


def _pow2(n: int) -> int:
    return 1 << max(4, int(n - 1).bit_length())
