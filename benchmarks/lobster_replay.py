"""``lobster_replay``: rebuild an L3 book from LOBSTER messages with :class:`L3Book`.

Data: the repository's AMZN 2012-06-21 level-1 message file (57,515 messages), tiled to ``n``
messages (each copy's order ids shifted, so copies never collide; orders left resting by one copy
stay in the book). Timed: ``L3Book.apply`` over all ``n`` messages (types mapped to book actions,
unknown ids ignored), recording per message the changed level and the best bid/ask. Then, in the
same process, a plain pure-Python book (dicts of orders and levels, a bisect-sorted price list per
side) replays the same messages and records the same touch; both must agree on every message's best
bid/ask. Also reported: the reader's time and the level-one-checked replay of the real file against
LOBSTER's orderbook file (its mismatch count must be 0).
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import base_record, peak_rss_mb, profiled, timed

NAME = "lobster_replay"
DEFAULT_N = 1_000_000
DATA = Path(__file__).resolve().parents[1] / "data" / "l3"
MESSAGES = DATA / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"
ORDERBOOK = DATA / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz"


def tiled(n: int) -> tuple[np.ndarray, ...]:
    """``(action, order_id, side, price, size)`` of ``n`` messages: the AMZN file repeated."""
    from tradeforge.data.lobster import book_actions, read_lobster_messages

    msgs, _ = read_lobster_messages(MESSAGES)
    reps = -(-n // len(msgs))
    shift = (np.arange(reps, dtype=np.int64) * 10**10).repeat(len(msgs))[:n]
    idx = np.tile(np.arange(len(msgs)), reps)[:n]
    oid = msgs.order_id[idx]
    oid = np.where(oid > 0, oid + shift, 0)
    return book_actions(msgs)[idx], oid, msgs.direction[idx], msgs.price[idx], msgs.size[idx]


def python_book(action: list[int], oid: list[int], side: list[int], price: list[int], size: list[int]) -> list[tuple[int, int, int, int]]:
    """The plain-Python book; returns ``(bid, bid_size, ask, ask_size)`` after each message."""
    orders: dict[int, list[int]] = {}
    levels = ({}, {})  # price -> [size, count], bids then asks
    prices: tuple[list[int], list[int]] = ([], [])  # ascending
    out = []
    rec = out.append
    for a, o, sd, p, q in zip(action, oid, side, price, size, strict=True):
        if a == 1:
            orders[o] = [sd, p, q]
            s = 0 if sd == 1 else 1
            lv = levels[s].get(p)
            if lv is None:
                levels[s][p] = [q, 1]
                bisect.insort(prices[s], p)
            else:
                lv[0] += q
                lv[1] += 1
        elif a in (2, 3, 4):
            od = orders.get(o)
            if od is not None:
                sd, p, rem = od
                q = rem if a == 3 else q
                s = 0 if sd == 1 else 1
                lv = levels[s][p]
                lv[0] -= q
                od[2] = rem - q
                if od[2] == 0:
                    del orders[o]
                    lv[1] -= 1
                if lv[1] == 0 and lv[0] == 0:
                    del levels[s][p]
                    ps = prices[s]
                    del ps[bisect.bisect_left(ps, p)]
        bp, ap = prices
        b = bp[-1] if bp else 0
        k = ap[0] if ap else 0
        rec((b, levels[0][b][0] if bp else 0, k, levels[1][k][0] if ap else 0))
    return out


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record (best of ``repeats``); ``seed`` is unused (real data)."""
    from tradeforge.data.book import L3Book, UnknownOrderPolicy
    from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook, rebuild_book

    (msgs, _), read_s = timed(lambda: read_lobster_messages(MESSAGES))
    ob, _ = read_lobster_orderbook(ORDERBOOK)
    rebuild_book(msgs, ob)  # warm-up: loads the jitted kernels
    check, check_s = timed(lambda: rebuild_book(msgs, ob))
    cols, setup_s = timed(lambda: tiled(n))

    def book_run() -> Any:
        book = L3Book(unknown=UnknownOrderPolicy.IGNORE, capacity=1 << 16)
        return book.apply(*cols)

    runs = []
    updates = None
    for _ in range(repeats):
        updates, s = profiled(book_run, profile_top) if profile_top else timed(book_run)
        runs.append(s)
    rss = peak_rss_mb()
    lists = [c.tolist() for c in cols]
    py_runs = []
    top = None
    for _ in range(max(1, min(repeats, 2))):
        top, s = timed(lambda: python_book(*lists))
        py_runs.append(s)
    assert updates is not None and top is not None
    want = np.array(top, dtype=np.int64).reshape(-1, 4)
    got = np.stack([updates.bid_price, updates.bid_size, updates.ask_price, updates.ask_size], axis=1)
    bad = np.flatnonzero(np.any(got != want, axis=1))
    seconds, py_seconds = min(runs), min(py_runs)
    rec = base_record(NAME, n, seconds, py_seconds, setup_s, rss)
    eps, py_eps = n / seconds, n / py_seconds
    rec.update(
        {
            "python_loop_seconds": round(py_seconds, 4),
            "python_loop_events_per_s": round(py_eps, 1),
            "ratio_to_python_loop": round(eps / py_eps, 2),
            "read_seconds": round(read_s, 4),
            "read_lines_per_s": round(len(msgs) / read_s, 1),
            "level1_check_messages": len(msgs),
            "level1_check_seconds": round(check_s, 4),
            "level1_reveals": len(check.reveals),
            "level1_mismatches": len(check.mismatches),
            "runs_seconds": [round(x, 4) for x in runs],
            "python_loop_runs_seconds": [round(x, 4) for x in py_runs],
            "repeats": repeats,
            "seed": seed,
            "profiled": bool(profile_top),
            "cross_check": "ok" if len(bad) == 0 and len(check.mismatches) == 0
            else f"MISMATCH: {len(bad)} messages differ from the Python book, {len(check.mismatches)} level-1 mismatches",
        }
    )
    return rec
