"""Book updates of the compiled path: the same arithmetic as :class:`~tradeforge.risk.state.RiskState`
(``release``/``sync``, ``fill``, ``mark``, ``roll``) on the arena's cells and aggregates.

``RiskState`` calls these (through :class:`~tradeforge.risk.compiled_books.CompiledBooks`) right after
its own update, so both books always hold the same numbers; the equivalence tests compare decisions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeforge.risk.compiled_layout import (
    C_AGG0,
    C_NEXT,
    C_OPEN_BUY,
    C_OPEN_SELL,
    C_QTY,
    G_CASH_FLOW,
    G_DAY_PEAK,
    G_DAY_START,
    G_GROSS,
    G_NET,
    G_OPEN_BUY,
    G_OPEN_COUNT,
    G_OPEN_SELL,
    I_FACTOR,
    I_FIRST_CELL,
    I_FIRST_ORD,
    I_LAST,
    I_LAST_TS,
    I_MARK,
    I_MARK_TS,
    I_MID,
    I_MID_TS,
    I_TOTAL_CELL,
    NONE,
    O_ACELL,
    O_INST,
    O_LIMIT,
    O_NEXT,
    O_PREV,
    O_PRICE,
    O_PX,
    O_REDUCE,
    O_SCELL,
    O_SIDE,
    O_STRAT,
    T_AGG,
    T_CELL,
    T_INST,
    T_ORD,
    view,
)

MARK_ONLY, MARK_LAST, MARK_MID = 0, 1, 2


@njit(cache=True, inline="always")
def _order_cells(a: np.ndarray, o: np.ndarray) -> tuple[int, int, int]:
    return view(a, T_INST)[o[O_INST], I_TOTAL_CELL], o[O_SCELL], o[O_ACELL]


@njit(cache=True)
def release(a: np.ndarray, row: int, inst: int, strat: int, side: int, is_limit: bool, price: int, px: int,
            reduce_only: bool, scell: int, acell: int, count: int) -> None:
    """Start counting an order (``RiskState.release`` before its ``sync``): ``count`` (1; 0 when loading
    books that already count it) open orders more per agg."""
    orders = view(a, T_ORD)
    ir = view(a, T_INST)[inst]
    o = orders[row]
    o[O_INST] = inst
    o[O_STRAT] = strat
    o[O_SIDE] = side
    o[O_LIMIT] = is_limit
    o[O_PRICE] = price
    o[O_PX] = px
    o[O_REDUCE] = reduce_only
    o[O_SCELL] = scell
    o[O_ACELL] = acell
    first = ir[I_FIRST_ORD]
    o[O_NEXT] = first
    o[O_PREV] = -1
    if first >= 0:
        orders[first, O_PREV] = row
    ir[I_FIRST_ORD] = row
    cells = view(a, T_CELL)
    agg = view(a, T_AGG)
    for c in _order_cells(a, o):
        for j in range(4):
            g = cells[c, C_AGG0 + j]
            if g >= 0:
                agg[g, G_OPEN_COUNT] += count


@njit(cache=True)
def sync(a: np.ndarray, row: int, d: int, closed: bool, price: int) -> None:
    """``RiskState.sync``: open quantity changed by ``d`` (open notional at the release price), the
    current limit price (for self-trade); ``closed`` stops counting the order."""
    orders = view(a, T_ORD)
    o = orders[row]
    o[O_PRICE] = price
    cells = view(a, T_CELL)
    agg = view(a, T_AGG)
    buy = o[O_SIDE] > 0
    if d != 0:
        dn = d * o[O_PX] * view(a, T_INST)[o[O_INST], I_FACTOR]
        for c in _order_cells(a, o):
            cells[c, C_OPEN_BUY if buy else C_OPEN_SELL] += d
            if o[O_REDUCE] == 0:
                for j in range(4):
                    g = cells[c, C_AGG0 + j]
                    if g >= 0:
                        agg[g, G_OPEN_BUY if buy else G_OPEN_SELL] += dn
    if closed:
        for c in _order_cells(a, o):
            for j in range(4):
                g = cells[c, C_AGG0 + j]
                if g >= 0:
                    agg[g, G_OPEN_COUNT] -= 1
        prev, nxt = o[O_PREV], o[O_NEXT]
        if prev >= 0:
            orders[prev, O_NEXT] = nxt
        else:
            view(a, T_INST)[o[O_INST], I_FIRST_ORD] = nxt
        if nxt >= 0:
            orders[nxt, O_PREV] = prev


@njit(cache=True, inline="always")
def _book(agg: np.ndarray, g: int, dn: int, dg: int, flow: int) -> None:
    agg[g, G_NET] += dn
    agg[g, G_GROSS] += dg
    agg[g, G_CASH_FLOW] += flow
    pnl = agg[g, G_CASH_FLOW] + agg[g, G_NET]
    if pnl > agg[g, G_DAY_PEAK]:
        agg[g, G_DAY_PEAK] = pnl


@njit(cache=True)
def fill(a: np.ndarray, inst: int, scell: int, acell: int, signed: int, last_px: int, commission: int) -> None:
    """``RiskState.fill``: positions of the instrument's, the strategy's and the account's cells."""
    ir = view(a, T_INST)[inst]
    cells = view(a, T_CELL)
    agg = view(a, T_AGG)
    if ir[I_MARK] == NONE:
        ir[I_MARK] = last_px
    f = ir[I_FACTOR]
    unit = ir[I_MARK] * f
    flow = -signed * last_px * f - commission
    for c in (ir[I_TOTAL_CELL], scell, acell):
        old = cells[c, C_QTY]
        new = old + signed
        cells[c, C_QTY] = new
        dg = (abs(new) - abs(old)) * unit
        for j in range(4):
            g = cells[c, C_AGG0 + j]
            if g >= 0:
                _book(agg, g, signed * unit, dg, flow)


@njit(cache=True)
def mark(a: np.ndarray, inst: int, px: int, ts: int, which: int) -> None:
    """``RiskState.mark``: revalue the cells holding the instrument; ``which`` also sets last or mid."""
    ir = view(a, T_INST)[inst]
    old = ir[I_MARK]
    ir[I_MARK] = px
    ir[I_MARK_TS] = ts
    if which == MARK_LAST:
        ir[I_LAST] = px
        ir[I_LAST_TS] = ts
    elif which == MARK_MID:
        ir[I_MID] = px
        ir[I_MID_TS] = ts
    if old in (NONE, px):
        return
    unit = (px - old) * ir[I_FACTOR]
    cells = view(a, T_CELL)
    agg = view(a, T_AGG)
    c = ir[I_FIRST_CELL]
    while c >= 0:
        q = cells[c, C_QTY]
        if q != 0:
            dg = (q if q > 0 else -q) * unit
            for j in range(4):
                g = cells[c, C_AGG0 + j]
                if g >= 0:
                    _book(agg, g, q * unit, dg, 0)
        c = cells[c, C_NEXT]


@njit(cache=True)
def roll(a: np.ndarray, n_aggs: int) -> None:
    """``RiskState.roll``: every aggregate's day starts at its current P&L."""
    agg = view(a, T_AGG)
    for g in range(n_aggs):
        pnl = agg[g, G_CASH_FLOW] + agg[g, G_NET]
        agg[g, G_DAY_START] = pnl
        agg[g, G_DAY_PEAK] = pnl
