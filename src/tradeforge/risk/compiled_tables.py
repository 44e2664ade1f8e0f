"""Order-flow state of the compiled path: throttle rings and the duplicate-order hash table.

Each throttle entry (a scope kind of one throttle) has per key a ring of message times in the shared
``pool`` table (``rmeta``: offset, capacity, head, count). :func:`record` appends a sent order or
message to every ring of its keys and puts new orders into the duplicate table; when a ring is full
(after dropping times outside the window) or the duplicate table is still a quarter full after
dropping the entries outside its window (done in place once it is half full) it returns a code and Python
grows that storage (:class:`~tradeforge.risk.compiled_books.CompiledBooks`), then calls again.
Times leave a ring only once outside the window, so a ring holds exactly what the plug-in
:class:`~tradeforge.risk.checks_flow.Throttle` deque holds for the same key.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeforge.risk.compiled_layout import (
    D_INST,
    D_PRICE,
    D_QTY,
    D_SIDE,
    D_STRAT,
    D_TRIGGER,
    D_TS,
    D_USED,
    E_KIND,
    E_RING,
    H_DUP_COUNT,
    H_DUP_PER_STRATEGY,
    H_DUP_WINDOW,
    H_NEED_RING,
    H_NEED_RING_KEY,
    K_KEY0,
    NONE,
    P_A,
    P_B,
    P_CODE,
    P_G0,
    P_G1,
    R_CAP,
    R_COUNT,
    R_HEAD,
    R_OFF,
    T_COMBO,
    T_DUP,
    T_ENT,
    T_PLAN,
    T_POOL,
    T_RMETA,
    view,
)
from tradeforge.risk.compiled_plan import THROTTLE

RING_FULL, DUP_FULL = 1, 2
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, inline="always")
def _mix(h: np.uint64, v: int) -> np.uint64:
    return (h ^ np.uint64(v)) * _FNV_PRIME


@njit(cache=True, inline="always")
def _slot(i: int, side: int, price: int, trigger: int, qty: int, strat: int, cap: int) -> int:
    h = _mix(_mix(_mix(_mix(_mix(_mix(_FNV_OFFSET, i), side), price), trigger), qty), strat)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finalizer
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return np.int64(h & np.uint64(cap - 1))


@njit(cache=True, inline="always")
def _same(r: np.ndarray, i: int, side: int, price: int, trigger: int, qty: int, strat: int) -> bool:
    return (r[D_INST] == i and r[D_SIDE] == side and r[D_PRICE] == price and r[D_TRIGGER] == trigger
            and r[D_QTY] == qty and r[D_STRAT] == strat)


@njit(cache=True)
def dup_find(a: np.ndarray, i: int, side: int, price: int, trigger: int, qty: int, strat: int) -> int:
    """When an order with these fields was last sent (``NONE``: not in the table)."""
    t = view(a, T_DUP)
    cap = t.shape[0]
    j = _slot(i, side, price, trigger, qty, strat, cap)
    while t[j, D_USED] != 0:
        if _same(t[j], i, side, price, trigger, qty, strat):
            return t[j, D_TS]
        j = j + 1 if j + 1 < cap else 0
    return NONE


@njit(cache=True)
def _dup_put(t: np.ndarray, i: int, side: int, price: int, trigger: int, qty: int, strat: int, ts: int) -> int:
    """Insert or update; returns 1 if a new slot was used."""
    cap = t.shape[0]
    j = _slot(i, side, price, trigger, qty, strat, cap)
    while t[j, D_USED] != 0:
        if _same(t[j], i, side, price, trigger, qty, strat):
            t[j, D_TS] = ts
            return 0
        j = j + 1 if j + 1 < cap else 0
    r = t[j]
    r[D_USED] = 1
    r[D_INST] = i
    r[D_SIDE] = side
    r[D_PRICE] = price
    r[D_TRIGGER] = trigger
    r[D_QTY] = qty
    r[D_STRAT] = strat
    r[D_TS] = ts
    return 1


@njit(cache=True)
def dup_rehash(old: np.ndarray, new: np.ndarray, cut: int) -> int:
    """Copy the entries of ``old`` sent after ``cut`` into the empty table ``new``; returns how many."""
    n = 0
    for j in range(old.shape[0]):
        r = old[j]
        if r[D_USED] != 0 and r[D_TS] > cut:
            n += _dup_put(new, r[D_INST], r[D_SIDE], r[D_PRICE], r[D_TRIGGER], r[D_QTY], r[D_STRAT], r[D_TS])
    return n


@njit(cache=True)
def _dup_purge(a: np.ndarray, cut: int) -> None:
    """Drop the entries sent at or before ``cut`` (they can deny nothing any more), in place."""
    t = view(a, T_DUP)
    keep = np.empty((t.shape[0], t.shape[1]), np.int64)
    n = 0
    for j in range(t.shape[0]):
        if t[j, D_USED] != 0 and t[j, D_TS] > cut:
            keep[n] = t[j]
            n += 1
    t[:] = 0
    for j in range(n):
        r = keep[j]
        _dup_put(t, r[D_INST], r[D_SIDE], r[D_PRICE], r[D_TRIGGER], r[D_QTY], r[D_STRAT], r[D_TS])
    a[H_DUP_COUNT] = n


@njit(cache=True)
def dup_put(a: np.ndarray, i: int, side: int, price: int, trigger: int, qty: int, strat: int, ts: int) -> None:
    a[H_DUP_COUNT] += _dup_put(view(a, T_DUP), i, side, price, trigger, qty, strat, ts)


@njit(cache=True)
def record(a: np.ndarray, combo: int, now: int, is_new: bool, side: int, price: int, trigger: int,
           quantity: int) -> int:
    """Count one order (``is_new``) or message for the throttles and the duplicate table.

    Returns 0, or ``RING_FULL`` (ring in ``H_NEED_RING``/``H_NEED_RING_KEY``) / ``DUP_FULL`` before
    changing anything, for Python to grow the storage and call again.
    """
    plan = view(a, T_PLAN)
    ent = view(a, T_ENT)
    meta = view(a, T_RMETA)
    pool = view(a, T_POOL)
    k = view(a, T_COMBO)[combo]
    for step in range(2):  # 0: make room (drop times outside the window), 1: append
        for s in range(plan.shape[0]):
            row = plan[s]
            if row[P_CODE] != THROTTLE or not (is_new or row[P_B] != 0):
                continue
            cut = now - row[P_A]
            for e in range(row[P_G0], row[P_G1]):
                key = k[K_KEY0 + ent[e, E_KIND]]
                base = 4 * ent[e, E_RING]
                cap = meta[key, base + R_CAP]
                off = meta[key, base + R_OFF]
                head = meta[key, base + R_HEAD]
                n = meta[key, base + R_COUNT]
                if step == 0:
                    if n == cap:
                        while n > 0 and pool[off + head, 0] <= cut:
                            head = head + 1 if head + 1 < cap else 0
                            n -= 1
                        meta[key, base + R_HEAD] = head
                        meta[key, base + R_COUNT] = n
                    if n == cap:
                        a[H_NEED_RING] = ent[e, E_RING]
                        a[H_NEED_RING_KEY] = key
                        return RING_FULL
                else:
                    j = head + n
                    pool[off + (j if j < cap else j - cap), 0] = now
                    meta[key, base + R_COUNT] = n + 1
        if step == 0 and is_new and a[H_DUP_WINDOW] != NONE and 2 * (a[H_DUP_COUNT] + 1) > view(a, T_DUP).shape[0]:
            _dup_purge(a, now - a[H_DUP_WINDOW])  # in place: the table only grows if a quarter is still live
            if 4 * (a[H_DUP_COUNT] + 1) > view(a, T_DUP).shape[0]:
                return DUP_FULL
    if is_new and a[H_DUP_WINDOW] != NONE:
        strat = k[K_KEY0 + 1] if a[H_DUP_PER_STRATEGY] != 0 else -1
        dup_put(a, k[K_KEY0], side, price, trigger, quantity, strat, now)
    return 0
