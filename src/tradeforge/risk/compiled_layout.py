"""Array layout of the compiled decision path: one growable ``int64`` arena of 2-D tables.

Every table the compiled kernels read lives in a single 1-D ``int64`` array (the arena), so each
kernel call passes one array (numba's per-array dispatch costs ~70 ns). The arena starts with a
header: per table its offset, rows and width, then a few scalars. Kernels get a table as a 2-D
view with :func:`view`; Python holds the same views (``Arena.t[name]``). Growing a table lays the
arena out again (capacities double, so this is rare) and copies every table over.

Field numbers below name the columns of each table. ``NONE`` stands for Python's ``None``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NONE = -(2**63)  # None (a price, a limit) in int64 columns and arguments
INT64_MAX = 2**63 - 1

# -- tables (their order in the header) --
T_INST, T_AGG, T_CELL, T_COMBO, T_AGGIDX, T_ORD, T_LIM, T_ENT, T_PLAN, T_RMETA, T_POOL, T_DUP = range(12)
TABLES = ("inst", "agg", "cell", "combo", "aggidx", "ord", "lim", "ent", "plan", "rmeta", "pool", "dup")
N_TABLES = len(TABLES)
# header scalars after the table descriptors
H_POOL_USED = 3 * N_TABLES  # next free slot of the throttle ring pool
H_DUP_COUNT = H_POOL_USED + 1  # live entries of the duplicate table
H_ORD_FREE = H_POOL_USED + 2  # head of the free list of order rows (-1: none)
H_OUT0 = H_POOL_USED + 3  # denial details a kernel leaves for Python (throttle entry, count, limit / dup ts)
H_OUT1 = H_POOL_USED + 4
H_OUT2 = H_POOL_USED + 5
H_DUP_WINDOW = H_POOL_USED + 6
H_DUP_PER_STRATEGY = H_POOL_USED + 7
H_COST_ON = H_POOL_USED + 8  # buying-power cost of open orders kept (``RiskState.cost_of``)
H_COST_BUFFER = H_POOL_USED + 9  # its market_buffer_bps
H_NEED_RING = H_POOL_USED + 10  # (entry, key) of a throttle ring that must grow, for Python
H_NEED_RING_KEY = H_POOL_USED + 11
HEADER = H_POOL_USED + 12

# -- inst: one row per instrument --
(I_MARK, I_MARK_TS, I_LAST, I_LAST_TS, I_MID, I_MID_TS, I_ADV, I_FACTOR, I_SCALE, I_LOT, I_MINQ, I_TICK, I_CASH,
 I_MARGIN_BPS, I_MARGIN_INIT, I_TOTAL_CELL, I_FIRST_CELL, I_FIRST_ORD, NI) = range(19)
# -- agg: one row per scope key (positions at mark, open orders, P&L) --
(G_NET, G_GROSS, G_OPEN_BUY, G_OPEN_SELL, G_OPEN_COUNT, G_CASH_FLOW, G_DAY_START, G_DAY_PEAK, G_ROLL_START,
 NG) = range(10)
# -- cell: a position quantity held in up to 4 aggs; cells of one instrument are chained --
C_QTY, C_OPEN_BUY, C_OPEN_SELL, C_AGG0, C_AGG1, C_AGG2, C_AGG3, C_NEXT, NC = range(9)
# -- combo: one (instrument, strategy) pair: its key index per scope kind, its strategy and account cells --
K_KEY0, K_SCELL, K_ACELL, NK = 0, 6, 7, 8  # keys 0..5 in KEY_INDEX order (instrument .. portfolio)
# -- ord: an open order the engine released (for self-trade and its open quantities) --
(O_INST, O_STRAT, O_SIDE, O_LIMIT, O_PRICE, O_PX, O_REDUCE, O_SCELL, O_ACELL, O_NEXT, O_PREV, NO) = range(12)
# -- ent: one scoped-limit entry: its kind (key index), the lim row holding its values by key --
E_KIND, E_LIM, E_RING, NE = range(4)
# -- plan: one row per configured check, in order --
P_CODE, P_G0, P_G1, P_G2, P_G3, P_A, P_B, P_C, P_D, NP = range(10)  # groups: entry ranges [G0, G1), [G1, G2), [G2, G3)
# -- lim: by key (a row per key index), one column per key-indexed limit table; aggidx: agg row by key, kind
# -- rmeta: by key, per throttle entry 4 columns (offset, capacity, head, count) --
R_OFF, R_CAP, R_HEAD, R_COUNT = range(4)
# -- dup: open-addressing table of recently sent orders --
D_USED, D_INST, D_SIDE, D_PRICE, D_TRIGGER, D_QTY, D_STRAT, D_TS, ND = range(9)


@njit(cache=True, inline="always")
def view(a: np.ndarray, t: int) -> np.ndarray:
    """Table ``t`` of arena ``a`` as a 2-D view."""
    off = a[3 * t]
    rows = a[3 * t + 1]
    width = a[3 * t + 2]
    return a[off:off + rows * width].reshape((rows, width))


class Arena:
    """The arena and its tables' shapes; ``t[name]`` are the Python-side views (replaced on growth)."""

    def __init__(self, shapes: dict[str, tuple[int, int]], fill: dict[str, int]) -> None:
        self.shapes = {name: shapes[name] for name in TABLES}
        self.fill = fill  # the value new rows of a table start with (default 0)
        self.a = np.zeros(0, np.int64)
        self.t: dict[str, np.ndarray] = {}
        self._layout({})

    def _layout(self, old: dict[str, np.ndarray]) -> None:
        size = HEADER
        offsets = {}
        for name in TABLES:
            rows, width = self.shapes[name]
            offsets[name] = size
            size += rows * width
        a = np.zeros(size, np.int64)
        a[:HEADER] = self.a[:HEADER] if len(self.a) else 0
        views = {}
        for i, name in enumerate(TABLES):
            rows, width = self.shapes[name]
            a[3 * i], a[3 * i + 1], a[3 * i + 2] = offsets[name], rows, width
            v = a[offsets[name]:offsets[name] + rows * width].reshape(rows, width)
            v[:] = self.fill.get(name, 0)
            prev = old.get(name)
            if prev is not None:
                v[:prev.shape[0], :prev.shape[1]] = prev
            views[name] = v
        self.a = a
        self.t = views

    def ensure(self, name: str, rows: int = 0, width: int = 0) -> None:
        """At least ``rows`` x ``width`` for one table (doubling): lays the arena out again if needed."""
        r, w = self.shapes[name]
        if rows <= r and width <= w:
            return
        while r < rows:
            r = max(2 * r, 8)
        while w < width:
            w = max(2 * w, 8)
        self.shapes[name] = (r, w)
        self._layout(self.t)

    def replace(self, name: str, rows: int) -> None:
        """A fresh (zeroed) ``rows``-row table ``name`` (its old content dropped)."""
        self.shapes[name] = (rows, self.shapes[name][1])
        self._layout({k: v for k, v in self.t.items() if k != name})

    def __getitem__(self, i: int) -> int:
        return int(self.a[i])

    def __setitem__(self, i: int, v: int) -> None:
        self.a[i] = v
