"""Compiled (numba) L3 replay: the data's book and our resting orders' queue positions in arrays.

A port of :class:`~.book.ReplayBook` and of the L3 part of :meth:`~.venue.BookReplayVenue.on_flow`
that needs no Python: :func:`advance` applies a run of order-flow messages and stops *before* the
first one whose effect Python must see -- a fill of one of our orders (a trade reaching or passing
it, a data order crossing it), a stop trigger, an action it does not know -- or when a clock timer
is due, a buffer is full or the arrays must grow. Python then handles that message with the
reference code (:meth:`BookReplayVenue.on_flow` over a :class:`~.kbook.KernelBook`, whose accessors
are the ``k_*`` functions here) and calls :func:`advance` again.

State (int64 arrays, all owned by :class:`~.kbook.KernelBook`):

- ``ords[field, slot]``: the data's orders (``O_*`` fields; ``O_SEQ`` -1 marks a free slot, free slots
  are chained through ``O_NEXT``), each level's FIFO through ``O_PREV``/``O_NEXT``;
- ``h``: open-addressing hash order id -> slot (the :mod:`tradeforge.data.book.l3` table);
- ``lv[s, field, j]``: the levels of side index ``s`` (0 bid, 1 ask) sorted by ``price * side``
  ascending (the touch last), with size, unattributed size, FIFO head/tail, order count and the
  number of our orders hanging there (a level lives while any of size, orders or ours is left);
- ``aux[row, k]``, one array for everything else (fewer arguments make a cheaper call): ``meta``
  counters and settings (``X_*``, row ``A_META``); ``credit`` (rows ``A_CREDIT``: data order id,
  size an MBO fill already took off the queue); ``out`` (rows ``A_OUT``: equity-sample times, then
  recorded executions); ``mine`` (rows ``A_MINE``: our resting orders' side, price, size ahead,
  arrival number).
"""

from __future__ import annotations

import numba as nb

from tradeforge.data.book.l3 import _h_delete, _h_find, _lvl_find

O_ID, O_SIDE, O_PRICE, O_SIZE, O_SEQ, O_PREV, O_NEXT = range(7)
N_O = 7
L_KEY, L_SIZE, L_UNATT, L_HEAD, L_TAIL, L_COUNT, L_MINE = range(7)
N_L = 7
M_LIVE, M_SIDE, M_PRICE, M_AHEAD, M_SEQ = range(5)
N_M = 5
(X_FREE, X_NFREE, X_NLEV, X_NLEV1, X_SEQ, X_UNEXPL, X_NCREDIT, X_NTRADES, X_MINE, X_MINE1, X_MHI, X_NEQ, X_LIVE,
 X_RECORD, X_STOP_BUY, X_STOP_SELL) = range(16)
N_X = 16
# rows of the auxiliary array: counters, MBO fill credit, output buffer, our orders
A_META, A_CREDIT, A_OUT, A_MINE = 0, 1, 3, 8
N_A = A_MINE + N_M
F_TS, F_ACTION, F_SIDE, F_PRICE, F_SIZE, F_OID, F_NEW = range(7)

# why advance() stopped
DONE, PYTHON, TIMER, GROW, FULL = range(5)

_ADD, _CANCEL, _DELETE, _EXECUTE, _REPLACE, _MODIFY, _FILL, _TRADE, _LEVEL, _REVEAL, _CLEAR, _TOP, _PRINT = range(1, 14)
BEHIND = 1 << 62  # the arrival number of a trade against nobody we know (hidden): behind us all


@nb.njit(cache=True, inline="always")
def _sx(side):
    return 0 if side == 1 else 1


# ---------------------------------------------------------------------------------------- levels
@nb.njit(cache=True)
def _level(lv, meta, side, price):
    """Index of level (``side``, ``price``) or -1."""
    if side != 1 and side != -1:
        return -1
    s = _sx(side)
    li = _lvl_find(lv[s, L_KEY], meta[X_NLEV + s], price * side)
    return li if li >= 0 else -1


@nb.njit(cache=True)
def _get_level(lv, meta, side, price):
    """Index of level (``side``, ``price``), created empty when absent (capacity checked by the caller)."""
    s = _sx(side)
    n = meta[X_NLEV + s]
    key = price * side
    li = _lvl_find(lv[s, L_KEY], n, key)
    if li >= 0:
        return li
    li = -li - 1
    for j in range(n, li, -1):
        for f in range(N_L):
            lv[s, f, j] = lv[s, f, j - 1]
    for f in range(N_L):
        lv[s, f, li] = 0
    lv[s, L_KEY, li] = key
    lv[s, L_HEAD, li] = -1
    lv[s, L_TAIL, li] = -1
    meta[X_NLEV + s] = n + 1
    return li


@nb.njit(cache=True)
def _drop_if_empty(lv, meta, s, li):
    if lv[s, L_SIZE, li] <= 0 and lv[s, L_MINE, li] == 0 and lv[s, L_COUNT, li] == 0:
        n = meta[X_NLEV + s]
        for j in range(li, n - 1):
            for f in range(N_L):
                lv[s, f, j] = lv[s, f, j + 1]
        meta[X_NLEV + s] = n - 1


# ---------------------------------------------------------------------------------------- orders
@nb.njit(cache=True)
def _unlink(ords, lv, s, li, slot):
    p = ords[O_PREV, slot]
    q = ords[O_NEXT, slot]
    if p >= 0:
        ords[O_NEXT, p] = q
    else:
        lv[s, L_HEAD, li] = q
    if q >= 0:
        ords[O_PREV, q] = p
    else:
        lv[s, L_TAIL, li] = p
    lv[s, L_COUNT, li] -= 1


@nb.njit(cache=True)
def _free(ords, h, meta, slot):
    """Forget an (unlinked) order: out of the id table, slot back on the free chain."""
    _, pos = _h_find(h, ords[O_ID], ords[O_ID, slot])
    _h_delete(h, ords[O_ID], pos)
    ords[O_SEQ, slot] = -1
    ords[O_NEXT, slot] = meta[X_FREE]
    meta[X_FREE] = slot
    meta[X_NFREE] += 1
    meta[X_LIVE] -= 1


@nb.njit(cache=True)
def _forget_level_orders(ords, h, lv, meta, s, li):
    slot = lv[s, L_HEAD, li]
    while slot >= 0:
        nxt = ords[O_NEXT, slot]
        _free(ords, h, meta, slot)
        slot = nxt
    lv[s, L_HEAD, li] = -1
    lv[s, L_TAIL, li] = -1
    lv[s, L_COUNT, li] = 0


@nb.njit(cache=True)
def _find(ords, h, oid):
    slot, _ = _h_find(h, ords[O_ID], oid)
    return slot


@nb.njit(cache=True)
def _add(ords, h, lv, meta, oid, side, price, size):
    """ReplayBook.add (capacity checked by the caller)."""
    old = _find(ords, h, oid)
    if old >= 0:  # a duplicate id: the source re-used it; the old one leaves
        _reduce(ords, h, lv, meta, oid, ords[O_SIZE, old], ords[O_SIDE, old], ords[O_PRICE, old])
    li = _get_level(lv, meta, side, price)
    s = _sx(side)
    meta[X_SEQ] += 1
    slot = meta[X_FREE]
    meta[X_FREE] = ords[O_NEXT, slot]
    meta[X_NFREE] -= 1
    meta[X_LIVE] += 1
    _, pos = _h_find(h, ords[O_ID], oid)
    h[pos] = slot
    ords[O_ID, slot] = oid
    ords[O_SIDE, slot] = side
    ords[O_PRICE, slot] = price
    ords[O_SIZE, slot] = size
    ords[O_SEQ, slot] = meta[X_SEQ]
    t = lv[s, L_TAIL, li]
    ords[O_PREV, slot] = t
    ords[O_NEXT, slot] = -1
    if t >= 0:
        ords[O_NEXT, t] = slot
    else:
        lv[s, L_HEAD, li] = slot
    lv[s, L_TAIL, li] = slot
    lv[s, L_COUNT, li] += 1
    lv[s, L_SIZE, li] += size


@nb.njit(cache=True)
def _reduce_unattributed(ords, h, lv, meta, side, price, size):
    li = _level(lv, meta, side, price)
    if li < 0:
        meta[X_UNEXPL] += size
        return False, side, price, 0, -1
    s = _sx(side)
    # short of unattributed size: the level's oldest known orders must have left unseen -> fold them in
    while lv[s, L_UNATT, li] < size and lv[s, L_COUNT, li] > 0:
        head = lv[s, L_HEAD, li]
        lv[s, L_UNATT, li] += ords[O_SIZE, head]
        _unlink(ords, lv, s, li, head)
        _free(ords, h, meta, head)
    removed = min(size, lv[s, L_UNATT, li])
    meta[X_UNEXPL] += size - removed
    lv[s, L_UNATT, li] -= removed
    lv[s, L_SIZE, li] -= removed
    _drop_if_empty(lv, meta, s, li)
    return True, side, price, removed, -1


@nb.njit(cache=True)
def _reduce(ords, h, lv, meta, oid, size, side, price):
    """ReplayBook.reduce: ``(found level, its side, its price, removed, seq)``."""
    slot = _find(ords, h, oid)
    if slot < 0:
        return _reduce_unattributed(ords, h, lv, meta, side, price, size)
    osz = ords[O_SIZE, slot]
    removed = min(size, osz)
    if removed < size:
        meta[X_UNEXPL] += size - removed
    osd = ords[O_SIDE, slot]
    opx = ords[O_PRICE, slot]
    seq = ords[O_SEQ, slot]
    s = _sx(osd)
    li = _lvl_find(lv[s, L_KEY], meta[X_NLEV + s], opx * osd)
    ords[O_SIZE, slot] = osz - removed
    lv[s, L_SIZE, li] -= removed
    if osz - removed <= 0:
        _unlink(ords, lv, s, li, slot)
        _free(ords, h, meta, slot)
        _drop_if_empty(lv, meta, s, li)
    return True, osd, opx, removed, seq


@nb.njit(cache=True)
def _remove(ords, h, lv, meta, oid, side, price, size):
    slot = _find(ords, h, oid)
    if slot < 0:
        return _reduce_unattributed(ords, h, lv, meta, side, price, size)
    return _reduce(ords, h, lv, meta, oid, ords[O_SIZE, slot], ords[O_SIDE, slot], ords[O_PRICE, slot])


@nb.njit(cache=True)
def _modify(ords, h, lv, meta, oid, side, price, size):
    """ReplayBook.modify: ``(had old, old side, old price, old size, old seq, kept priority)``."""
    slot = _find(ords, h, oid)
    if slot < 0:
        _add(ords, h, lv, meta, oid, side, price, size)
        return False, 0, 0, 0, 0, False
    osd = ords[O_SIDE, slot]
    opx = ords[O_PRICE, slot]
    osz = ords[O_SIZE, slot]
    oseq = ords[O_SEQ, slot]
    if opx == price and osd == side and size <= osz:
        s = _sx(osd)
        li = _lvl_find(lv[s, L_KEY], meta[X_NLEV + s], opx * osd)
        lv[s, L_SIZE, li] += size - osz
        ords[O_SIZE, slot] = size
        if size <= 0:
            _unlink(ords, lv, s, li, slot)
            _free(ords, h, meta, slot)
            _drop_if_empty(lv, meta, s, li)
        return True, osd, opx, osz, oseq, True
    _reduce(ords, h, lv, meta, oid, osz, osd, opx)
    _add(ords, h, lv, meta, oid, side, price, size)
    return True, osd, opx, osz, oseq, False


@nb.njit(cache=True)
def _reveal(ords, h, lv, meta, side, price, size):
    """ReplayBook.reveal: returns the change of the level's unattributed size."""
    s = _sx(side)
    key = price * side
    j = meta[X_NLEV + s] - 1
    while j >= 0 and lv[s, L_KEY, j] > key:  # better levels are gone
        _forget_level_orders(ords, h, lv, meta, s, j)
        lv[s, L_SIZE, j] = 0
        lv[s, L_UNATT, j] = 0
        _drop_if_empty(lv, meta, s, j)
        j -= 1
    li = _get_level(lv, meta, side, price)
    known = lv[s, L_SIZE, li] - lv[s, L_UNATT, li]
    if known > size:  # orders shown earlier left this level unseen: forget them
        _forget_level_orders(ords, h, lv, meta, s, li)
        lv[s, L_SIZE, li] -= known
        known = 0
    new_unatt = max(size - known, 0)
    delta = new_unatt - lv[s, L_UNATT, li]
    lv[s, L_UNATT, li] = new_unatt
    lv[s, L_SIZE, li] = known + new_unatt
    _drop_if_empty(lv, meta, s, li)
    return delta


@nb.njit(cache=True)
def _clear(ords, h, lv, meta):
    for s in range(2):
        for j in range(meta[X_NLEV + s] - 1, -1, -1):
            _forget_level_orders(ords, h, lv, meta, s, j)
            lv[s, L_SIZE, j] = 0
            lv[s, L_UNATT, j] = 0
            _drop_if_empty(lv, meta, s, j)


# ---------------------------------------------------------------------------------------- credit
@nb.njit(cache=True)
def _credit_take(credit, meta, oid, removed):
    n = meta[X_NCREDIT]
    for k in range(n):
        if credit[0, k] == oid:
            c = credit[1, k]
            used = min(c, removed)
            if c > used:
                credit[1, k] = c - used
            else:
                credit[0, k] = credit[0, n - 1]
                credit[1, k] = credit[1, n - 1]
                meta[X_NCREDIT] = n - 1
            return used
    return min(0, removed)


@nb.njit(cache=True)
def _credit_add(credit, meta, oid, size):
    n = meta[X_NCREDIT]
    for k in range(n):
        if credit[0, k] == oid:
            credit[1, k] += size
            return
    credit[0, n] = oid
    credit[1, n] = size
    meta[X_NCREDIT] = n + 1


# ---------------------------------------------------------------------------------------- ours
@nb.njit(cache=True)
def _left(mine, meta, side, price, removed, seq):
    """``removed`` size of a data order with arrival number ``seq`` left level (side, price)."""
    for k in range(meta[X_MHI]):
        if mine[M_LIVE, k] and mine[M_SIDE, k] == side and mine[M_PRICE, k] == price and seq < mine[M_SEQ, k]:
            mine[M_AHEAD, k] = max(0, mine[M_AHEAD, k] - removed)


@nb.njit(cache=True)
def _crosses(mine, meta, side, price):
    """Would a data order arriving against our ``side`` orders at ``price`` meet one of them?"""
    if (side != 1 and side != -1) or meta[X_MINE + _sx(side)] == 0:
        return False
    for k in range(meta[X_MHI]):
        if mine[M_LIVE, k] and mine[M_SIDE, k] == side and (mine[M_PRICE, k] - price) * side >= 0:
            return True
    return False


@nb.njit(cache=True, inline="always")
def _record_trade(out, meta, t, side, price, size):
    """Append one execution (time, side, price, size) to ``out[1:5]`` (``record_trades``)."""
    n = meta[X_NTRADES]
    out[1, n] = t
    out[2, n] = side
    out[3, n] = price
    out[4, n] = size
    meta[X_NTRADES] = n + 1


@nb.njit(cache=True)
def _reaches(mine, meta, side, price, seq):
    """Would a trade against resting ``side`` at ``price`` (resting arrival ``seq``) fill one of ours?"""
    if (side != 1 and side != -1) or meta[X_MINE + _sx(side)] == 0:
        return False
    for k in range(meta[X_MHI]):
        if mine[M_LIVE, k] and mine[M_SIDE, k] == side:
            gap = (mine[M_PRICE, k] - price) * side
            if gap > 0 or (gap == 0 and seq >= mine[M_SEQ, k] and mine[M_AHEAD, k] <= 0):
                return True
    return False


# ---------------------------------------------------------------------------------------- the run
@nb.njit(cache=True, inline="always")
def _views(aux):
    return aux[A_META], aux[A_CREDIT:A_CREDIT + 2], aux[A_OUT:A_OUT + 5], aux[A_MINE:A_MINE + N_M]


@nb.njit(cache=True)
def advance(ords, h, lv, aux, fl, i, end, timer_ns, last_ts):
    """Apply messages ``[i, end)`` of the flow columns ``fl`` (``F_*`` rows); returns ``(k, why,
    last_ts, samples, first sample, executions)``: messages before ``k`` are applied, ``why`` says what message ``k`` needs (``DONE``
    at ``end``; ``PYTHON``: the venue's reference code; ``TIMER``: a clock timer is due before it;
    ``GROW``: more capacity; ``FULL``: ``out`` emptied). On each new time stamp the previous one
    (``last_ts``) is written to ``out[0]`` (an equity sample; ``samples`` of them). A trade at or above
    ``meta[X_STOP_BUY]`` / at or below ``meta[X_STOP_SELL]`` triggers a held stop. With
    ``meta[X_RECORD]`` executions go to ``out[1:5]`` (``executions`` of them). Both counts start
    from 0 at every call."""
    meta, credit, out, mine = _views(aux)
    record = meta[X_RECORD] != 0
    stop_buy = meta[X_STOP_BUY]
    stop_sell = meta[X_STOP_SELL]
    meta[X_NEQ] = 0
    meta[X_NTRADES] = 0
    cap_out = out.shape[1]
    cap_lv = lv.shape[2]
    hcap = len(h)
    cap_credit = credit.shape[1]
    for x in range(i, end):
        t = fl[F_TS, x]
        if t != last_ts:
            if t >= timer_ns:
                return x, TIMER, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            if last_ts >= 0:
                if meta[X_NEQ] == cap_out:
                    return x, FULL, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
                out[0, meta[X_NEQ]] = last_ts
                meta[X_NEQ] += 1
            last_ts = t
        a = fl[F_ACTION, x]
        sd = fl[F_SIDE, x]
        px = fl[F_PRICE, x]
        sz = fl[F_SIZE, x]
        oid = fl[F_OID, x]
        if a in (_ADD, _REPLACE, _MODIFY, _REVEAL) and (
                meta[X_NFREE] < 2 or 2 * (meta[X_LIVE] + 2) > hcap or max(meta[X_NLEV], meta[X_NLEV1]) + 2 > cap_lv):
            return x, GROW, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
        if record and (a in (_EXECUTE, _FILL, _TRADE)) and meta[X_NTRADES] == cap_out:
            return x, FULL, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
        if a == _ADD:
            if _crosses(mine, meta, -sd, px):
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            _add(ords, h, lv, meta, oid, sd, px, sz)
        elif a in (_CANCEL, _DELETE):
            if a == _CANCEL:
                found, ls, lp, removed, seq = _reduce(ords, h, lv, meta, oid, sz, sd, px)
            else:
                found, ls, lp, removed, seq = _remove(ords, h, lv, meta, oid, sd, px, sz)
            if meta[X_NCREDIT] > 0:
                removed -= _credit_take(credit, meta, oid, removed)
            if found and removed != 0 and (ls == 1 or ls == -1) and meta[X_MINE + _sx(ls)] > 0:
                _left(mine, meta, ls, lp, removed, seq)
        elif a in (_EXECUTE, _FILL):
            slot = _find(ords, h, oid)
            if slot >= 0:
                side = ords[O_SIDE, slot]
                price = ords[O_PRICE, slot]
                seq = ords[O_SEQ, slot]
                if a == _FILL and (sd == 0 or (px != 0 and px != price)):
                    if stop_buy <= px or px <= stop_sell:
                        return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
                    continue  # an auction or aggressor fill: not a trade against this level
            else:
                side = sd
                price = px
                seq = -1
            if _reaches(mine, meta, side, price, seq) or stop_buy <= price or price <= stop_sell:
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            if a == _FILL and slot >= 0 and meta[X_NCREDIT] == cap_credit:
                return x, GROW, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            if record:
                _record_trade(out, meta, t, side, price, sz)
            if a == _EXECUTE:
                found, ls, lp, removed, seq = _reduce(ords, h, lv, meta, oid, sz, side, price)
                if found and removed != 0 and (ls == 1 or ls == -1) and meta[X_MINE + _sx(ls)] > 0:
                    _left(mine, meta, ls, lp, removed, seq)
            elif slot >= 0:
                li = _level(lv, meta, side, price)
                if li >= 0 and lv[_sx(side), L_MINE, li] > 0:
                    # MBO: the aggressor's fills come first, the book updates (C) after them
                    _left(mine, meta, side, price, sz, seq)
                    _credit_add(credit, meta, oid, sz)
        elif a == _TRADE:
            if _reaches(mine, meta, sd, px, BEHIND) or stop_buy <= px or px <= stop_sell:
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            if record:
                _record_trade(out, meta, t, sd, px, sz)
        elif a == _REPLACE:
            slot = _find(ords, h, oid)
            side = ords[O_SIDE, slot] if slot >= 0 else sd
            if side != 1 and side != -1:
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            if _crosses(mine, meta, -side, px):
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            found, ls, lp, removed, seq = _remove(ords, h, lv, meta, oid, sd, px, sz)
            if found and removed != 0 and (ls == 1 or ls == -1) and meta[X_MINE + _sx(ls)] > 0:
                _left(mine, meta, ls, lp, removed, seq)
            _add(ords, h, lv, meta, fl[F_NEW, x], side, px, sz)
        elif a == _MODIFY:
            slot = _find(ords, h, oid)
            kept = slot >= 0 and ords[O_PRICE, slot] == px and ords[O_SIDE, slot] == sd and sz <= ords[O_SIZE, slot]
            if not kept and _crosses(mine, meta, -sd, px):
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
            had, osd, opx, osz, oseq, kept = _modify(ords, h, lv, meta, oid, sd, px, sz)
            if had:
                removed = osz - sz if kept else osz
                if meta[X_NCREDIT] > 0:
                    removed -= _credit_take(credit, meta, oid, max(removed, 0))
                if removed > 0 and meta[X_MINE + _sx(osd)] > 0:
                    _left(mine, meta, osd, opx, removed, oseq)
        elif a == _REVEAL:
            ours = meta[X_MINE + _sx(sd)] > 0
            if ours:
                for k in range(meta[X_MHI]):
                    if mine[M_LIVE, k] and mine[M_SIDE, k] == sd and (mine[M_PRICE, k] - px) * sd > 0:
                        mine[M_AHEAD, k] = 0  # the data's orders at our better level are gone
            delta = _reveal(ords, h, lv, meta, sd, px, sz)
            if ours:
                for k in range(meta[X_MHI]):
                    if mine[M_LIVE, k] and mine[M_SIDE, k] == sd and mine[M_PRICE, k] == px:
                        mine[M_AHEAD, k] = max(0, mine[M_AHEAD, k] + delta)
        elif a == _CLEAR:
            _clear(ords, h, lv, meta)
            for k in range(meta[X_MHI]):
                if mine[M_LIVE, k]:
                    mine[M_AHEAD, k] = 0
        elif a == _PRINT:
            if stop_buy <= px or px <= stop_sell:
                return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]
        else:
            return x, PYTHON, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]  # LEVEL / TOP / unknown: the reference code decides
    return end, DONE, last_ts, meta[X_NEQ], out[0, 0], meta[X_NTRADES]


# ---------------------------------------------------------------------------------------- accessors
@nb.njit(cache=True)
def k_add(ords, h, lv, aux, oid, side, price, size):
    meta = aux[A_META]
    _add(ords, h, lv, meta, oid, side, price, size)


@nb.njit(cache=True)
def k_reduce(ords, h, lv, aux, oid, size, side, price):
    meta = aux[A_META]
    return _reduce(ords, h, lv, meta, oid, size, side, price)


@nb.njit(cache=True)
def k_remove(ords, h, lv, aux, oid, side, price, size):
    meta = aux[A_META]
    return _remove(ords, h, lv, meta, oid, side, price, size)


@nb.njit(cache=True)
def k_modify(ords, h, lv, aux, oid, side, price, size):
    meta = aux[A_META]
    return _modify(ords, h, lv, meta, oid, side, price, size)


@nb.njit(cache=True)
def k_reveal(ords, h, lv, aux, side, price, size):
    meta = aux[A_META]
    return _reveal(ords, h, lv, meta, side, price, size)


@nb.njit(cache=True)
def k_clear(ords, h, lv, aux):
    meta = aux[A_META]
    _clear(ords, h, lv, meta)


@nb.njit(cache=True)
def k_order(ords, h, oid):
    """``(slot, side, price, size, seq)``; slot -1 when unknown."""
    slot = _find(ords, h, oid)
    if slot < 0:
        return -1, 0, 0, 0, 0
    return slot, ords[O_SIDE, slot], ords[O_PRICE, slot], ords[O_SIZE, slot], ords[O_SEQ, slot]


@nb.njit(cache=True)
def k_level(lv, aux, side, price):
    """``(exists, size, unattributed)`` of level (side, price)."""
    meta = aux[A_META]
    li = _level(lv, meta, side, price)
    if li < 0:
        return False, 0, 0
    s = _sx(side)
    return True, lv[s, L_SIZE, li], lv[s, L_UNATT, li]


@nb.njit(cache=True)
def k_level_at(lv, aux, side, k):
    """``(exists, price, size)`` of the ``k``-th level of ``side``, best first."""
    meta = aux[A_META]
    s = _sx(side)
    j = meta[X_NLEV + s] - 1 - k
    if j < 0:
        return False, 0, 0
    return True, lv[s, L_KEY, j] * side, lv[s, L_SIZE, j]


@nb.njit(cache=True)
def k_drop_if_empty(lv, aux, side, price):
    meta = aux[A_META]
    li = _level(lv, meta, side, price)
    if li >= 0:
        _drop_if_empty(lv, meta, _sx(side), li)


@nb.njit(cache=True)
def k_join(lv, aux, slot, side, price):
    """Our order in ``slot`` joins the back of level (side, price), created when absent; False
    (nothing done) when there is no room for a new level."""
    meta, _, _, mine = _views(aux)
    s = _sx(side)
    li = _level(lv, meta, side, price)
    if li < 0:
        if meta[X_NLEV + s] + 2 > lv.shape[2]:
            return False
        li = _get_level(lv, meta, side, price)
    lv[s, L_MINE, li] += 1
    mine[M_LIVE, slot] = 1
    mine[M_SIDE, slot] = side
    mine[M_PRICE, slot] = price
    mine[M_AHEAD, slot] = lv[s, L_SIZE, li]  # every data order here now (and the unattributed front)
    mine[M_SEQ, slot] = meta[X_SEQ] + 1  # data orders arriving later are behind
    meta[X_MINE + s] += 1
    meta[X_MHI] = max(meta[X_MHI], slot + 1)
    return True


@nb.njit(cache=True)
def k_leave(lv, aux, slot):
    meta, _, _, mine = _views(aux)
    side = mine[M_SIDE, slot]
    s = _sx(side)
    li = _level(lv, meta, side, mine[M_PRICE, slot])
    lv[s, L_MINE, li] -= 1
    _drop_if_empty(lv, meta, s, li)
    mine[M_LIVE, slot] = 0
    meta[X_MINE + s] -= 1
    hi = meta[X_MHI]
    while hi > 0 and not mine[M_LIVE, hi - 1]:
        hi -= 1
    meta[X_MHI] = hi


@nb.njit(cache=True)
def k_best(lv, aux, side):
    """``(price, size)`` of the best level of ``side`` with size; size 0 when none."""
    meta = aux[A_META]
    s = _sx(side)
    for j in range(meta[X_NLEV + s] - 1, -1, -1):
        if lv[s, L_SIZE, j] > 0:
            return lv[s, L_KEY, j] * side, lv[s, L_SIZE, j]
    return 0, 0


@nb.njit(cache=True)
def k_credit_take(aux, oid, removed):
    meta, credit, _, _ = _views(aux)
    return _credit_take(credit, meta, oid, removed)


@nb.njit(cache=True)
def k_credit_add(aux, oid, size):
    meta, credit, _, _ = _views(aux)
    _credit_add(credit, meta, oid, size)


@nb.njit(cache=True)
def k_rehash(ords, h):
    """Fill the (empty) id table ``h`` with every live order."""
    for slot in range(ords.shape[1]):
        if ords[O_SEQ, slot] >= 0:
            _, pos = _h_find(h, ords[O_ID], ords[O_ID, slot])
            h[pos] = slot
