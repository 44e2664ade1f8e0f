"""The compiled pre-trade decision: every standard check over the arena, in one numba call.

:func:`decide` reproduces the plug-in checks of ``checks*.py`` (same order, same arithmetic, same
first denial) over the tables of :mod:`tradeforge.risk.compiled_layout`. It returns 0 (pass) or the
denying check's position in the plan + 1; Python turns that into the check's reason text. Throttle
and duplicate denials leave their numbers in the header (``H_OUT*``) since their state lives here
only. Products are compared exactly (:func:`~tradeforge.risk.compiled_math.prod_gt`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeforge.risk.compiled_layout import (
    C_OPEN_BUY,
    C_OPEN_SELL,
    C_QTY,
    E_KIND,
    E_LIM,
    E_RING,
    G_CASH_FLOW,
    G_DAY_PEAK,
    G_DAY_START,
    G_GROSS,
    G_NET,
    G_OPEN_BUY,
    G_OPEN_COUNT,
    G_OPEN_SELL,
    G_ROLL_START,
    H_OUT0,
    H_OUT1,
    H_OUT2,
    I_ADV,
    I_CASH,
    I_FACTOR,
    I_FIRST_ORD,
    I_LAST,
    I_LAST_TS,
    I_LOT,
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
    NONE,
    O_LIMIT,
    O_NEXT,
    O_PRICE,
    O_SIDE,
    O_STRAT,
    P_A,
    P_B,
    P_C,
    P_CODE,
    P_D,
    P_G0,
    P_G1,
    P_G2,
    P_G3,
    R_CAP,
    R_COUNT,
    R_HEAD,
    R_OFF,
    T_AGG,
    T_AGGIDX,
    T_CELL,
    T_COMBO,
    T_ENT,
    T_INST,
    T_LIM,
    T_ORD,
    T_PLAN,
    T_POOL,
    T_RMETA,
    view,
)
from tradeforge.risk.compiled_math import prod_gt
from tradeforge.risk.compiled_plan import (
    BUYING_POWER,
    CONCENTRATION,
    DUPLICATE,
    EXPOSURE,
    LOSS,
    LOT_TICK,
    MAX_ADV,
    MAX_NOTIONAL,
    MAX_OPEN,
    MAX_QTY,
    MIN_SIZE,
    POSITION,
    PRICE_COLLAR,
    REDUCE_ONLY,
    REF_COLLAR,
    RESTRICTED,
    SELF_TRADE,
    THROTTLE,
    TRADING_STATE,
)
from tradeforge.risk.compiled_tables import dup_find

# trading states and order types as the kernel's arguments
ACTIVE, REDUCING, HALTED = 0, 1, 2
OTHER_TYPE, LIMIT_TYPE, MARKET_TYPE = 0, 1, 2  # MARKET_TYPE: market, stop-market, trailing-stop-market
WHERE_OTHER, WHERE_STRATEGY, WHERE_ACCOUNT = 0, 1, 2


@njit(cache=True, inline="always")
def _entry(ent: np.ndarray, lim: np.ndarray, k: np.ndarray, e: int) -> tuple[int, int, int]:
    """Scoped-limit entry ``e`` for the order's combo row ``k``: its scope kind, the order's key of that
    kind and the limit value for that key (``NONE``: no limit)."""
    kind = ent[e, E_KIND]
    key = k[K_KEY0 + kind]
    return kind, key, lim[key, ent[e, E_LIM]]


@njit(cache=True, inline="always")
def _abs(x: int) -> int:
    return x if x >= 0 else -x


@njit(cache=True, inline="always")
def _increasing(pos: int, leaves: int, buy: bool) -> int:
    signed = leaves if buy else -leaves
    if pos == 0 or (pos > 0) == (signed > 0):
        return leaves
    return max(0, leaves - _abs(pos))


@njit(cache=True, inline="always")
def _worst_gross(agg: np.ndarray, g: int, n: int) -> int:
    if g < 0:
        return n
    ob = agg[g, G_OPEN_BUY]
    os_ = agg[g, G_OPEN_SELL]
    return agg[g, G_GROSS] + (ob if ob >= os_ else os_) + n


@njit(cache=True)
def decide(a: np.ndarray, combo: int, now: int, quantity: int, filled: int, side: int, price: int, trigger: int,
           otype: int, reduce_only: bool, t_leaves: int, t_row: int, plast: int, cash: int, equity: int,
           margin: int, reserved: int, state: int, where: int, net_ext: int) -> int:
    """0 if the order passes every planned check, else the first denying check's plan index + 1.

    ``price``/``trigger``/``plast`` (the portfolio's last price) are ``NONE`` when absent; ``t_leaves``
    and ``t_row`` describe the order if the engine already counts it (a modify), else 0 and -1;
    ``net_ext`` is the net position when the engine follows no fills (``NONE``: from the books).
    """
    inst = view(a, T_INST)
    cells = view(a, T_CELL)
    k = view(a, T_COMBO)[combo]
    plan = view(a, T_PLAN)
    ent = view(a, T_ENT)
    lim = view(a, T_LIM)
    agg = view(a, T_AGG)
    aggidx = view(a, T_AGGIDX)
    i = k[K_KEY0]
    ir = inst[i]
    buy = side > 0
    leaves = quantity - filled
    qty = leaves - t_leaves
    total = ir[I_TOTAL_CELL]
    net = cells[total, C_QTY] if net_ext == NONE else net_ext
    inc = _increasing(net, leaves, buy)
    px = price
    if px == NONE:
        px = trigger
        if px == NONE:
            px = ir[I_MARK]
            if px == NONE:
                px = plast
    factor = ir[I_FACTOR]
    notional = 0 if px == NONE or qty <= 0 else qty * _abs(px) * factor
    for s in range(plan.shape[0]):
        row = plan[s]
        code = row[P_CODE]
        g0 = row[P_G0]
        g1 = row[P_G1]
        g2 = row[P_G2]
        g3 = row[P_G3]
        if code == TRADING_STATE:
            if state == HALTED:
                return s + 1
            if state == REDUCING:
                sinc = inc
                if where == WHERE_STRATEGY:
                    sinc = _increasing(cells[k[K_SCELL], C_QTY], leaves, buy)
                elif where == WHERE_ACCOUNT:
                    sinc = _increasing(cells[k[K_ACELL], C_QTY], leaves, buy)
                if sinc > 0:
                    return s + 1
        elif code == REDUCE_ONLY:
            if reduce_only and inc > 0:
                return s + 1
        elif code == LOT_TICK:
            tick = ir[I_TICK]
            if quantity <= 0 or quantity % ir[I_LOT] != 0 or quantity < ir[I_MINQ]:
                return s + 1
            if (price != NONE and price % tick != 0) or (trigger != NONE and trigger % tick != 0):
                return s + 1
        elif code == MIN_SIZE:
            for e in range(g0, g1):
                v = lim[k[K_KEY0 + ent[e, E_KIND]], ent[e, E_LIM]]
                if v != NONE and prod_gt(v, 1, quantity, ir[I_SCALE]):
                    return s + 1
            if g2 > g1 and px != NONE:
                mn = _abs(px) * quantity * factor
                for e in range(g1, g2):
                    v = lim[k[K_KEY0 + ent[e, E_KIND]], ent[e, E_LIM]]
                    if v != NONE and mn < v:
                        return s + 1
        elif code == MAX_QTY:
            v = lim[i, row[P_A]]
            if v != NONE and prod_gt(quantity, ir[I_SCALE], v, 1):
                return s + 1
        elif code == MAX_NOTIONAL:
            v = lim[i, row[P_A]]
            if v != NONE:
                rp = price if price != NONE else (trigger if trigger != NONE else plast)
                if rp == NONE or _abs(rp) * quantity * factor > v:
                    return s + 1
        elif code == PRICE_COLLAR:
            if plast == NONE:
                return s + 1
            bps = row[P_A]
            if price != NONE and prod_gt(_abs(price - plast), 10_000, bps, _abs(plast)):
                return s + 1
            if trigger != NONE and prod_gt(_abs(trigger - plast), 10_000, bps, _abs(plast)):
                return s + 1
        elif code == BUYING_POWER:
            if inc == 0:
                continue
            cash_settled = ir[I_CASH] != 0
            if cash_settled and not buy and row[P_B] == 0:
                return s + 1
            rp = price if price != NONE else (trigger if trigger != NONE else plast)
            if rp == NONE:
                return s + 1
            if otype == MARKET_TYPE:
                rp = rp + _abs(rp) * row[P_A] // 10_000
            bn = _abs(rp) * inc * factor
            need = (bn if buy else 0) if cash_settled else bn * ir[I_MARGIN_INIT] // 10_000
            if need > min(cash, equity) - margin - reserved:
                return s + 1
        elif code == REF_COLLAR:
            if price == NONE and trigger == NONE:
                continue
            band = row[P_D]
            if band >= 0:
                lo = lim[i, band]
                hi = lim[i, band + 1]
                if lo != NONE:
                    if price != NONE and not lo <= price <= hi:
                        return s + 1
                    if trigger != NONE and not lo <= trigger <= hi:
                        return s + 1
            ref_kind = row[P_A]
            if ref_kind == 1:
                ref, ts = ir[I_LAST], ir[I_LAST_TS]
            elif ref_kind == 2:
                ref, ts = ir[I_MID], ir[I_MID_TS]
            else:
                ref, ts = ir[I_MARK], ir[I_MARK_TS]
            allow = row[P_C] != 0
            if ref == NONE:
                if allow:
                    continue
                return s + 1
            max_age = row[P_B]
            if max_age != NONE and now - ts > max_age:
                if allow:
                    continue
                return s + 1
            aref = _abs(ref)
            for e in range(g0, g1):
                bps = lim[k[K_KEY0 + ent[e, E_KIND]], ent[e, E_LIM]]
                if bps == NONE:
                    continue
                if price != NONE and prod_gt(_abs(price - ref), 10_000, bps, aref):
                    return s + 1
                if trigger != NONE and prod_gt(_abs(trigger - ref), 10_000, bps, aref):
                    return s + 1
        elif code == DUPLICATE:
            strat = k[K_KEY0 + 1] if row[P_B] != 0 else -1
            ts = dup_find(a, i, side, price, trigger, quantity, strat)
            if ts != NONE and now - ts < row[P_A] and t_leaves == 0:
                a[H_OUT0] = ts
                return s + 1
        elif code == RESTRICTED:
            if lim[i, row[P_A]] != 0:
                return s + 1
        elif code == SELF_TRADE:
            orders = view(a, T_ORD)
            strat = k[K_KEY0 + 1]
            o = ir[I_FIRST_ORD]
            while o >= 0:
                r = orders[o]
                if r[O_SIDE] != side and r[O_STRAT] != strat and r[O_LIMIT] != 0 and o != t_row:
                    rest = r[O_PRICE]
                    if otype != LIMIT_TYPE or price == NONE or (price >= rest if buy else price <= rest):
                        return s + 1
                o = r[O_NEXT]
        elif code == THROTTLE:
            cut = now - row[P_A]
            meta = view(a, T_RMETA)
            pool = view(a, T_POOL)
            for e in range(g0, g1):
                key = k[K_KEY0 + ent[e, E_KIND]]
                v = lim[key, ent[e, E_LIM]]
                if v == NONE:
                    continue
                base = 4 * ent[e, E_RING]
                cap = meta[key, base + R_CAP]
                if cap == 0:
                    continue
                off = meta[key, base + R_OFF]
                head = meta[key, base + R_HEAD]
                n = meta[key, base + R_COUNT]
                while n > 0 and pool[off + head, 0] <= cut:
                    head = head + 1 if head + 1 < cap else 0
                    n -= 1
                meta[key, base + R_HEAD] = head
                meta[key, base + R_COUNT] = n
                if n >= v:
                    a[H_OUT0] = e
                    a[H_OUT1] = n
                    a[H_OUT2] = v
                    return s + 1
        elif code == MAX_OPEN:
            if t_leaves != 0:
                continue
            for e in range(g0, g1):
                kind, key, v = _entry(ent, lim, k, e)
                if v == NONE:
                    continue
                g = aggidx[key, kind]
                if (0 if g < 0 else agg[g, G_OPEN_COUNT]) >= v:
                    return s + 1
        elif code == MAX_ADV:
            if inc == 0:
                continue
            adv = NONE
            if row[P_B] >= 0:
                adv = lim[i, row[P_B]]
            if adv == NONE:
                adv = ir[I_ADV]
            if adv == NONE or adv == 0:
                if row[P_A] != 0:
                    continue
                return s + 1
            for e in range(g0, g1):
                bps = lim[k[K_KEY0 + ent[e, E_KIND]], ent[e, E_LIM]]
                if bps != NONE and prod_gt(quantity, 10_000, bps, adv):
                    return s + 1
        elif code == POSITION:
            # buy: long then absolute entries; sell: short then absolute
            for part in range(2):
                if part == 0:
                    lo, hi = (g0, g1) if buy else (g1, g2)
                else:
                    lo, hi = g2, g3
                for e in range(lo, hi):
                    kind, _key, v = _entry(ent, lim, k, e)
                    if v == NONE:
                        continue
                    # as PositionLimit: instrument/portfolio -> the total, strategy -> its cell, else the account's
                    c = total if kind == 0 or kind == 5 else (k[K_SCELL] if kind == 1 else k[K_ACELL])
                    if buy:
                        worst = cells[c, C_QTY] + cells[c, C_OPEN_BUY] + qty
                    else:
                        worst = -(cells[c, C_QTY] - cells[c, C_OPEN_SELL] - qty)
                    if prod_gt(worst, ir[I_SCALE], v, 1):
                        return s + 1
        elif code == EXPOSURE:
            if inc == 0:
                continue
            if px == NONE:
                return s + 1
            for e in range(g0, g1):
                kind, key, v = _entry(ent, lim, k, e)
                if v != NONE and _worst_gross(agg, aggidx[key, kind], notional) > v:
                    return s + 1
            for e in range(g1, g2):
                kind, key, v = _entry(ent, lim, k, e)
                if v == NONE:
                    continue
                g = aggidx[key, kind]
                nt, ob, os_ = (agg[g, G_NET], agg[g, G_OPEN_BUY], agg[g, G_OPEN_SELL]) if g >= 0 else (0, 0, 0)
                worst = nt + ob + notional if buy else -(nt - os_ - notional)
                if worst > v:
                    return s + 1
        elif code == CONCENTRATION:
            if inc == 0:
                continue
            if px == NONE:
                return s + 1
            for e in range(g0, g1):
                kind, key, v = _entry(ent, lim, k, e)
                if v != NONE and prod_gt(_worst_gross(agg, aggidx[key, kind], notional), 10_000, v, equity):
                    return s + 1
        elif code == LOSS:
            if inc == 0:
                continue
            for e in range(g0, g3):
                kind, key, v = _entry(ent, lim, k, e)
                if v == NONE:
                    continue
                g = aggidx[key, kind]
                if g < 0:
                    continue
                pnl = agg[g, G_CASH_FLOW] + agg[g, G_NET]
                if e < g1:
                    loss = agg[g, G_DAY_START] - pnl
                elif e < g2:
                    loss = agg[g, G_DAY_PEAK] - pnl
                else:
                    start = agg[g, G_ROLL_START]
                    loss = 0 if start == NONE else start - pnl
                if loss > v:
                    return s + 1
    return 0

