"""A seeded synthetic L3 order flow that behaves like a real book: never crossed, FIFO executions.

For benchmarks and tests that need more flow than the samples hold. Per message: with probability
``p_add`` a limit order joins one side a geometric number of ticks behind the touch (at most
``max_depth``); ``p_cancel`` deletes a random resting order (partially, a fifth of the time); the rest
are market orders that execute against the best level front to back (one EXECUTE per resting order
touched). The touch moves when a level empties or an order improves it; a side never empties (a new
order re-seeds it). Times advance by exponential gaps (``mean_gap_ns``).
"""

from __future__ import annotations

import numpy as np

from tradeforge.venues.replay.book import ReplayBook
from tradeforge.venues.replay.flow import FlowAction, OrderFlow, _flow

__all__ = ["synthetic_flow"]


def synthetic_flow(
    n: int,
    seed: int = 7,
    instrument_id: str = "SYN.SIM",
    *,
    start_ns: int = 0,
    mid: int = 1_000_000,
    tick: int = 100,
    p_add: float = 0.55,
    p_cancel: float = 0.35,
    max_depth: int = 20,
    mean_gap_ns: int = 50_000,
) -> OrderFlow:
    """``n`` consistent L3 messages (see the module docstring) from ``seed``."""
    rng = np.random.default_rng(seed)
    kind = rng.random(n)
    u = rng.random(n).tolist()
    depth = np.minimum(rng.geometric(0.35, n) - 1, max_depth).tolist()
    sizes = (rng.integers(1, 10, n) * 100).tolist()
    sides = rng.choice(np.array([1, -1]), n).tolist()
    ts = (start_ns + np.cumsum(rng.exponential(mean_gap_ns, n)).astype(np.int64)).tolist()
    kinds = np.where(kind < p_add, 0, np.where(kind < p_add + p_cancel, 1, 2)).tolist()
    book = ReplayBook()
    live: list[int] = []
    where: dict[int, int] = {}
    out_ts: list[int] = []
    act: list[int] = []
    out_side: list[int] = []
    px: list[int] = []
    qty: list[int] = []
    oids: list[int] = []
    next_id = 1

    def emit(t: int, a: int, s: int, p: int, q: int, o: int) -> None:
        out_ts.append(t)
        act.append(a)
        out_side.append(s)
        px.append(p)
        qty.append(q)
        oids.append(o)

    def forget(o: int) -> None:
        i = where.pop(o)
        last = live.pop()
        if last != o:
            live[i] = last
            where[last] = i

    while len(out_ts) < n:
        i = len(out_ts)
        t, k, s = ts[i], kinds[i], sides[i]
        best = book.best_price(s)
        opp = book.best_price(-s)
        if k == 0 or not live or best is None or opp is None:
            if best is None:
                ref = (opp - s * tick) if opp is not None else mid - s * tick
                p = ref - s * depth[i] * tick
            else:
                p = best - s * (depth[i] - 1) * tick  # depth 0 improves the touch by a tick
                if opp is not None and (p - opp) * s >= 0:
                    p = opp - s * tick
            book.add(next_id, s, p, sizes[i])
            live.append(next_id)
            where[next_id] = len(live) - 1
            emit(t, FlowAction.ADD, s, p, sizes[i], next_id)
            next_id += 1
        elif k == 1:
            o = live[int(u[i] * len(live))]
            lvl = book.orders[o]
            size = lvl.orders[o][0]
            if u[i] * 10 % 1 < 0.2 and size > 100:
                book.reduce(o, 100, lvl.side, lvl.price)
                emit(t, FlowAction.CANCEL, lvl.side, lvl.price, 100, o)
            else:
                side, price = lvl.side, lvl.price
                book.remove(o)
                forget(o)
                emit(t, FlowAction.DELETE, side, price, size, o)
        else:
            lvl = book.best(s)  # a market order of the other side hits this side
            want = sizes[i]
            while want > 0 and lvl is not None and len(out_ts) < n:
                o = next(iter(lvl.orders))
                q = min(want, lvl.orders[o][0])
                side, price = lvl.side, lvl.price
                gone = q == lvl.orders[o][0]
                book.reduce(o, q, side, price)
                if gone:
                    forget(o)
                emit(t, FlowAction.EXECUTE, side, price, q, o)
                want -= q
                if book.level(side, price) is None or not lvl.orders:
                    break  # one level per market order: the touch moves
    return _flow(instrument_id, "l3", out_ts, act, out_side, px, qty, oids)
