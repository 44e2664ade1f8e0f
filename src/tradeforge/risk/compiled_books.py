"""The compiled path's books: :class:`~tradeforge.risk.state.RiskState` mirrored into the arena.

``RiskState`` stays the books every other part of the engine reads (monitors, VaR, unwinds); once
:class:`CompiledBooks` is attached (``state.books``) it is told of every change right after it is made:
new scope keys, instruments and cells get rows (small ints), and releases, syncs, fills, marks, volumes,
day rolls and rolling samples are applied to the arena by the kernels of
:mod:`tradeforge.risk.compiled_events`. Attaching copies whatever the books already hold, and the
state of the plug-in throttles and duplicate check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import types

from tradeforge.core.jit import entry_point as jit_entry_point
from tradeforge.model.enums import OrderType
from tradeforge.risk import compiled_events as ev
from tradeforge.risk.compiled_layout import (
    C_AGG0,
    C_NEXT,
    C_OPEN_BUY,
    C_OPEN_SELL,
    C_QTY,
    D_TS,
    D_USED,
    E_KIND,
    E_LIM,
    E_RING,
    G_ROLL_START,
    H_DUP_COUNT,
    H_DUP_PER_STRATEGY,
    H_DUP_WINDOW,
    H_NEED_RING,
    H_NEED_RING_KEY,
    H_POOL_USED,
    I_ADV,
    I_CASH,
    I_FACTOR,
    I_FIRST_CELL,
    I_FIRST_ORD,
    I_LAST,
    I_LAST_TS,
    I_LOT,
    I_MARGIN_BPS,
    I_MARGIN_INIT,
    I_MARK,
    I_MARK_TS,
    I_MID,
    I_MID_TS,
    I_MINQ,
    I_SCALE,
    I_TICK,
    I_TOTAL_CELL,
    K_ACELL,
    K_KEY0,
    K_SCELL,
    NC,
    ND,
    NE,
    NG,
    NI,
    NK,
    NO,
    NONE,
    NP,
    R_CAP,
    R_COUNT,
    R_HEAD,
    R_OFF,
    Arena,
)
from tradeforge.risk.compiled_plan import Plan
from tradeforge.risk.compiled_tables import DUP_FULL, RING_FULL, dup_put, dup_rehash, record
from tradeforge.risk.scope import DEFAULT_ACCOUNT, KEY_INDEX, SCOPE_KINDS, ScopeKeys

if TYPE_CHECKING:
    from tradeforge.risk.state import Agg, Cell, InstRisk, RiskState, Tracked

_LIMIT = OrderType.LIMIT
INST, STRAT, ACCT, VENUE, SECTOR, PORT = (KEY_INDEX[k] for k in SCOPE_KINDS)


def entry_point(fn: Any, n_ints: int) -> Any:
    """``fn`` compiled for (arena, ``n_ints`` int64s), called past numba's type dispatch."""
    return jit_entry_point(fn, (types.int64[::1], *([types.int64] * n_ints)))


class CompiledBooks:
    """Arena tables kept equal to ``state``; row numbers are stored on the state's own objects."""

    def __init__(self, state: RiskState, plan: Plan) -> None:
        self.state = state
        self.plan = plan
        shapes = {
            "inst": (64, NI), "agg": (256, NG), "cell": (256, NC), "combo": (256, NK), "aggidx": (64, 6),
            "ord": (256, NO), "lim": (64, max(1, len(plan.lims))), "ent": (max(1, len(plan.entries)), NE),
            "plan": (len(plan.rows), NP), "rmeta": (64, max(1, 4 * len(plan.rings))), "pool": (1024, 1),
            "dup": (1024 if plan.duplicate is not None else 1, ND),
        }
        self.arena = Arena(shapes, {"aggidx": -1, "lim": NONE})
        t = self.arena.t
        if plan.rows:
            t["plan"][:] = np.array(plan.rows, np.int64)
        for j, (kind, lim, ring) in enumerate(plan.entries):
            t["ent"][j, E_KIND], t["ent"][j, E_LIM], t["ent"][j, E_RING] = kind, lim, ring
        dup = plan.duplicate
        self.arena[H_DUP_WINDOW] = NONE if dup is None else dup.window_ns
        self.arena[H_DUP_PER_STRATEGY] = int(dup is not None and dup.per_strategy)
        self.keys: list[dict[str, int]] = [{} for _ in SCOPE_KINDS]
        self._lims_by_kind: list[list[int]] = [[r for r, lt in enumerate(plan.lims) if lt.kind == k] for k in range(6)]
        self.n_aggs = self.n_cells = self.n_combos = self.n_orders = 0
        self._free_orders: list[int] = []
        self.a = self.arena.a
        self._release = entry_point(ev.release, 11)
        self._sync = entry_point(ev.sync, 4)
        self._fill = entry_point(ev.fill, 6)
        self._mark = entry_point(ev.mark, 4)
        self._record = entry_point(record, 7)
        self._load()

    # -- rows --
    def _ensure(self, name: str, rows: int = 0, width: int = 0) -> None:
        self.arena.ensure(name, rows, width)
        self.a = self.arena.a

    def key_index(self, kind: int, key: str) -> int:
        """The small int of one scope key (assigned on first sight; limit tables filled for it)."""
        d = self.keys[kind]
        idx = d.get(key)
        if idx is None:
            idx = d[key] = len(d)
            for table in ("lim", "aggidx", "rmeta"):  # key-major: a key's values share cache lines
                self._ensure(table, rows=idx + 1)
            lim = self.arena.t["lim"]
            for r in self._lims_by_kind[kind]:
                lim[idx, r] = self.plan.lims[r].value(key)
        return idx

    def add_agg(self, agg: Agg) -> None:
        kind = KEY_INDEX[agg.kind]
        idx = self.key_index(kind, agg.key)
        row = agg.row = self.n_aggs
        self.n_aggs += 1
        self._ensure("agg", rows=row + 1)
        t = self.arena.t
        t["aggidx"][idx, kind] = row
        t["agg"][row] = (agg.net, agg.gross, agg.open_buy, agg.open_sell, agg.open_count, agg.cash_flow,
                         agg.day_start, agg.day_peak, agg.samples[0][1] if agg.samples else NONE)

    def add_instrument(self, ir: InstRisk) -> None:
        inst = ir.inst
        row = ir.row = self.key_index(INST, inst.id)
        self.key_index(VENUE, ir.venue)
        self.key_index(SECTOR, ir.sector)
        self._ensure("inst", rows=row + 1)
        r = self.arena.t["inst"][row]
        r[:] = NONE
        r[I_FACTOR], r[I_SCALE] = ir.factor, 10 ** (9 - inst.size_precision)
        r[I_LOT], r[I_MINQ], r[I_TICK] = inst.lot_size_raw, inst.min_quantity_raw, inst.tick_size_raw
        r[I_CASH], r[I_MARGIN_BPS], r[I_MARGIN_INIT] = int(ir.cash_settled), ir.margin_bps, inst.margin_init_bps
        r[I_FIRST_CELL] = r[I_FIRST_ORD] = -1
        for f, v in ((I_MARK, ir.mark), (I_LAST, ir.last), (I_MID, ir.mid), (I_ADV, ir.adv)):
            if v is not None:
                r[f] = v
        r[I_MARK_TS], r[I_LAST_TS], r[I_MID_TS] = ir.mark_ts, ir.last_ts, ir.mid_ts
        self.add_cell(ir, ir.total)
        r = self.arena.t["inst"][row]
        r[I_TOTAL_CELL] = ir.total.row

    def add_cell(self, ir: InstRisk, cell: Cell) -> None:
        row = cell.row = self.n_cells
        self.n_cells += 1
        self._ensure("cell", rows=row + 1)
        t = self.arena.t
        c = t["cell"][row]
        c[:] = -1
        c[C_QTY], c[C_OPEN_BUY], c[C_OPEN_SELL] = cell.qty, cell.open_buy, cell.open_sell
        for j, agg in enumerate(cell.aggs):
            c[C_AGG0 + j] = agg.row
        c[C_NEXT] = t["inst"][ir.row, I_FIRST_CELL]
        t["inst"][ir.row, I_FIRST_CELL] = row

    def combo(self, ir: InstRisk, sid: str) -> ScopeKeys:
        """The order's scope keys with its combo row (created, with the strategy's cells, on first use)."""
        st = self.state
        iid = ir.inst.id
        cell = st.strategy_cell(sid, iid)
        account = st.accounts.get(sid, DEFAULT_ACCOUNT)
        acell = st._acct_cells[(account, iid)]
        sk = ir.scope_keys.get(sid)
        if sk is None or sk.account != account:
            sk = ir.scope_keys[sid] = ScopeKeys(iid, sid, account, ir.venue, ir.sector)
        row = sk.combo = self.n_combos
        self.n_combos += 1
        self._ensure("combo", rows=row + 1)
        k = self.arena.t["combo"][row]
        for kind, key in enumerate(sk.keys):
            k[K_KEY0 + kind] = self.key_index(kind, key)
        k[K_SCELL], k[K_ACELL] = cell.row, acell.row
        return sk

    # -- events (after RiskState's own update) --
    def release(self, t: Tracked, count: int = 1) -> None:
        if self._free_orders:
            row = self._free_orders.pop()
        else:
            row = self.n_orders
            self.n_orders += 1
            self._ensure("ord", rows=row + 1)
        t.row = row
        o = t.order
        price = o.price
        self._release(self.a, row, t.ir.row, self.key_index(STRAT, o.strategy_id), t.sign,
                      o.order_type is _LIMIT, NONE if price is None else price, t.px, o.reduce_only,
                      t.cells[1].row, t.cells[2].row, count)

    def sync(self, t: Tracked, d: int, closed: bool) -> None:
        price = t.order.price
        self._sync(self.a, t.row, d, closed, NONE if price is None else price)
        if closed:
            self._free_orders.append(t.row)

    def fill(self, ir: InstRisk, scell: Cell, acell: Cell, signed: int, last_px: int, commission: int) -> None:
        self._fill(self.a, ir.row, scell.row, acell.row, signed, last_px, commission)

    def mark(self, ir: InstRisk, px: int, ts: int, which: int) -> None:
        self._mark(self.a, ir.row, px, ts, which)

    def set_adv(self, ir: InstRisk) -> None:
        self.arena.t["inst"][ir.row, I_ADV] = NONE if ir.adv is None else ir.adv

    def roll(self) -> None:
        ev.roll(self.a, self.n_aggs)

    def sampled(self, st: RiskState) -> None:
        """Rolling-loss windows moved: each aggregate's oldest sample P&L."""
        agg = self.arena.t["agg"]
        for kind in st.rolling_kinds:
            for a in st.aggs[kind].values():
                agg[a.row, G_ROLL_START] = a.samples[0][1] if a.samples else NONE

    # -- order flow --
    def record(self, combo: int, now: int, is_new: bool, side: int, price: int, trigger: int, qty: int) -> None:
        """Count a sent order or message for the throttles and duplicates (growing storage as needed)."""
        while True:
            code = self._record(self.a, combo, now, is_new, side, price, trigger, qty)
            if code == 0:
                return
            if code == RING_FULL:
                self._grow_ring(self.arena[H_NEED_RING], self.arena[H_NEED_RING_KEY])
            elif code == DUP_FULL:
                self._grow_dup(now - self.arena[H_DUP_WINDOW])

    def _grow_ring(self, ring: int, key: int, min_cap: int = 0) -> None:
        meta = self.arena.t["rmeta"]
        base = 4 * ring
        off, cap, head, n = (int(meta[key, base + f]) for f in (R_OFF, R_CAP, R_HEAD, R_COUNT))
        new_cap = max(8, 2 * cap, min_cap)
        start = self.arena[H_POOL_USED]
        self._ensure("pool", rows=start + new_cap)
        pool = self.arena.t["pool"][:, 0]
        if n:
            times = np.concatenate([pool[off + head:off + cap], pool[off:off + head]])[:n]
            pool[start:start + n] = times
        meta = self.arena.t["rmeta"]
        meta[key, base + R_OFF], meta[key, base + R_CAP], meta[key, base + R_HEAD] = start, new_cap, 0
        self.arena[H_POOL_USED] = start + new_cap

    def _grow_dup(self, cut: int) -> None:
        """Drop entries sent at or before ``cut`` (they can deny nothing any more); double while a quarter is
        still live (a purge that frees enough is done in place by the kernel)."""
        old = self.arena.t["dup"].copy()
        live = int(((old[:, D_USED] != 0) & (old[:, D_TS] > cut)).sum())
        size = old.shape[0]
        while 4 * (live + 1) > size:
            size *= 2
        self.arena.replace("dup", size)
        self.a = self.arena.a
        self.arena[H_DUP_COUNT] = dup_rehash(old, self.arena.t["dup"], cut)

    # -- attaching to books that already hold data --
    def _load(self) -> None:
        st = self.state
        for table in st.aggs.values():
            for agg in table.values():
                self.add_agg(agg)
        for ir in st.inst.values():
            self.add_instrument(ir)
            for cell in ir.cells[1:]:
                self.add_cell(ir, cell)
            for sk in ir.scope_keys.values():
                sk.combo = -1
        for t in st.tracked.values():
            self.release(t, count=0)
        for i, kind, thr in self.plan.rings:
            for (k, key), times in thr._times.items():
                if k == kind and times:
                    idx = self.key_index(i, key)
                    self._grow_ring(self.plan.rings.index((i, kind, thr)), idx, len(times))
                    meta = self.arena.t["rmeta"]
                    base = 4 * self.plan.rings.index((i, kind, thr))
                    off = int(meta[idx, base + R_OFF])
                    self.arena.t["pool"][off:off + len(times), 0] = list(times)
                    meta[idx, base + R_COUNT] = len(times)
        dup = self.plan.duplicate
        if dup is not None:
            for key, ts in dup._seen.items():
                self._load_dup(key, ts, dup.per_strategy)
        st.books = self

    def _load_dup(self, key: tuple[Any, ...], ts: int, per_strategy: bool) -> None:
        iid, side, price, trigger, qty = key[:5]
        strat = self.key_index(STRAT, key[5]) if per_strategy else -1
        if 2 * (self.arena[H_DUP_COUNT] + 1) > self.arena.t["dup"].shape[0]:
            self._grow_dup(NONE)
        dup_put(self.a, self.key_index(INST, iid), int(side), NONE if price is None else price,
                NONE if trigger is None else trigger, qty, strat, ts)
