"""``sim_matching``: the simulated exchange's matching engine under a seeded random order flow.

Data: ``n`` operations from a seeded numpy RNG, made once (not timed), on one instrument whose mid
price follows a random walk: 65 % limit orders (GTC, 8 owners; price a geometric number of ticks on
the passive side of the mid, a fifth of them marketable by up to 3 ticks), 5 % market orders, 30 %
cancels (of one of the ~200 most recent order ids, which may be filled or canceled already: then the
engine answers ``Rejected``). Timed: :class:`MatchingEngine` handling every operation and returning
its records. Then, in the same process, a bare pure-Python price-time book (plain dicts, a
bisect-sorted price list per side, no records, no STP/stops/halts) handles the same operations; both
must agree on the number of fills, the traded volume and the final depth (``cross_check``).
``events_per_s`` counts operations.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from benchmarks._common import base_record, peak_rss_mb, profiled, timed
from tradeforge.model.enums import OrderSide

NAME = "sim_matching"
DEFAULT_N = 1_000_000


def order_flow(n: int, seed: int) -> list[list[int]]:
    """Columns ``kind (0 limit, 1 market, 2 cancel), side, price, size, owner, target`` as Python lists
    (sides as :class:`OrderSide`)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.65, 0.05, 0.30])
    side = rng.choice(np.array([1, -1]), size=n)
    mid = 10_000 + np.cumsum(rng.choice(np.array([-1, 0, 1]), size=n, p=[0.05, 0.9, 0.05]))
    offset = rng.geometric(0.25, size=n)  # ticks away from the mid, passive side
    marketable = rng.random(n) < 0.2
    offset = np.where(marketable, -rng.integers(0, 4, size=n), offset)
    price = mid - side * offset
    size = rng.integers(1, 101, size=n)
    owner = rng.integers(0, 8, size=n)
    # a cancel names one of the ~200 most recent submissions (ids are operation indexes)
    target = np.maximum(np.arange(n) - rng.integers(1, 200, size=n), 0)
    cols = [c.tolist() for c in (kind, side, price, size, owner, target)]
    cols[1] = [OrderSide.BUY if x == 1 else OrderSide.SELL for x in cols[1]]  # what a venue passes
    return cols


def run_engine(cols: list[list[int]]) -> tuple[Any, int, int]:
    from tradeforge.model.enums import OrderType
    from tradeforge.venues.matching import Fill, MatchingEngine

    e = MatchingEngine("SIM")
    submit, cancel = e.submit, e.cancel
    limit, market = OrderType.LIMIT, OrderType.MARKET
    n_fills = volume = 0
    for i, (k, sd, px, sz, ow, tg) in enumerate(zip(*cols, strict=True)):
        if k == 0:
            out = submit(i, ow, sd, limit, sz, px)
        elif k == 1:
            out = submit(i, ow, sd, market, sz)
        else:
            out = cancel(tg)
        for r in out:
            if type(r) is Fill:
                n_fills += 1
                volume += r.size
    return e, n_fills, volume


def run_bare(cols: list[list[int]]) -> tuple[dict[int, dict[int, int]], int, int]:
    """Plain price-time matching; returns (side -> price -> level size, fills, volume)."""
    orders: dict[int, list[int]] = {}  # id -> [side, price, size]
    levels: dict[int, dict[int, dict[int, list[int]]]] = {1: {}, -1: {}}  # side -> price -> id -> order (FIFO)
    keys: dict[int, list[int]] = {1: [], -1: []}  # side -> sorted price * side, best last
    n_fills = volume = 0
    for i, (k, sd, px, sz, _ow, tg) in enumerate(zip(*cols, strict=True)):
        if k == 2:
            o = orders.pop(tg, None)
            if o is not None:
                s, p = o[0], o[1]
                lv = levels[s][p]
                del lv[tg]
                if not lv:
                    del levels[s][p]
                    ks = keys[s]
                    del ks[bisect.bisect_left(ks, p * s)]
            continue
        opp = -sd
        oks, olv = keys[opp], levels[opp]
        rem = sz
        while rem and oks:
            p = oks[-1] * opp
            if k == 0 and (p > px if sd == 1 else p < px):
                break
            lv = olv[p]
            for oid in list(lv):
                m = lv[oid]
                n = rem if rem < m[2] else m[2]
                rem -= n
                m[2] -= n
                n_fills += 1
                volume += n
                if not m[2]:
                    del lv[oid]
                    del orders[oid]
                if not rem:
                    break
            if not lv:
                del olv[p]
                oks.pop()
        if rem and k == 0:
            o = [sd, px, rem]
            orders[i] = o
            lv = levels[sd].get(px)
            if lv is None:
                lv = levels[sd][px] = {}
                bisect.insort(keys[sd], px * sd)
            lv[i] = o
    depth = {s: {p: sum(o[2] for o in lv.values()) for p, lv in levels[s].items()} for s in (1, -1)}
    return depth, n_fills, volume


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record (best of ``repeats``)."""
    cols, setup_s = timed(lambda: order_flow(n, seed))
    runs = []
    result = None
    for _ in range(1 if profile_top else repeats):
        if profile_top:
            result, s = profiled(lambda: run_engine(cols), profile_top)
        else:
            result, s = timed(lambda: run_engine(cols))
        runs.append(s)
    rss = peak_rss_mb()
    assert result is not None
    engine, n_fills, volume = result
    engine.check_invariant()
    bare_runs = []
    bare = None
    for _ in range(repeats):
        bare, s = timed(lambda: run_bare(cols))
        bare_runs.append(s)
    assert bare is not None
    depth, bare_fills, bare_volume = bare
    bids, asks = engine.depth(10**9)
    got = {1: {lv.price: lv.size for lv in bids}, -1: {lv.price: lv.size for lv in asks}}
    problems = []
    if (n_fills, volume) != (bare_fills, bare_volume):
        problems.append(f"fills/volume {n_fills}/{volume} != bare {bare_fills}/{bare_volume}")
    if got != depth:
        problems.append("final depth differs")
    rec = base_record(NAME, n, min(runs), min(bare_runs), setup_s, rss)
    rec.update(
        {
            "fills": n_fills,
            "volume": volume,
            "bare_loop_fills": bare_fills,
            "bare_loop_volume": bare_volume,
            "resting_orders": len(engine),
            "bid_levels": len(bids),
            "ask_levels": len(asks),
            "runs_seconds": [round(x, 4) for x in runs],
            "bare_loop_runs_seconds": [round(x, 4) for x in bare_runs],
            "repeats": repeats,
            "seed": seed,
            "profiled": bool(profile_top),
            "cross_check": "ok" if not problems else "MISMATCH: " + "; ".join(problems),
        }
    )
    return rec


if __name__ == "__main__":  # python -m benchmarks.sim_matching [n]
    import sys

    from benchmarks._common import finish

    sys.exit(finish(run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_N)))
