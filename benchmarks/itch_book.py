"""``itch_book``: rebuild full-depth L3 books per stock from a decoded ITCH 5.0 stream.

Data: ``n`` messages from the seeded ITCH generator (8 stocks; adds, executions, cancels, deletes,
replaces, trades), decoded from bytes once (not timed). Timed: :func:`rebuild_books` -- gathering
the book messages into columns, grouping by stock, applying each stock's batch to its
:class:`L3Book` and emitting the L2 depth changes (changed level, its new size and count, and the
touch after every message) plus the trade columns. Then, in the same process, a pure-Python book
(dicts of orders and levels per stock) replays the same book messages; both must agree on every
stock's final depth. ``events_per_s`` counts all ITCH messages of the stream.
"""

from __future__ import annotations

import warnings
from typing import Any

from benchmarks._common import base_record, peak_rss_mb, profiled, timed

NAME = "itch_book"
DEFAULT_N = 2_000_000


def python_books(cols: list[list[int]]) -> dict[int, dict[int, list[int]]]:
    """Plain-Python books; returns locate -> side*price -> [size, count] (levels only)."""
    orders: dict[int, list[int]] = {}
    books: dict[int, dict[int, list[int]]] = {}
    for a, loc, oid, sd, p, q, nid in zip(*cols, strict=True):
        lv = books.get(loc)
        if lv is None:
            lv = books[loc] = {}
        if a == 1:
            orders[oid] = [sd, p, q, loc]
            key = p * sd
            x = lv.get(key)
            if x is None:
                lv[key] = [q, 1]
            else:
                x[0] += q
                x[1] += 1
            continue
        od = orders[oid]
        sd, pp, rem = od[0], od[1], od[2]
        key = pp * sd
        x = lv[key]
        take = rem if a in (3, 5) else q
        x[0] -= take
        od[2] = rem - take
        if od[2] == 0:
            del orders[oid]
            x[1] -= 1
            if x[1] == 0:
                del lv[key]
        if a == 5:
            orders[nid] = [sd, p, q, loc]
            key = p * sd
            x = lv.get(key)
            if x is None:
                lv[key] = [q, 1]
            else:
                x[0] += q
                x[1] += 1
    return books


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record (best of ``repeats``)."""
    from tradeforge.data.itch.book import book_columns, rebuild_books
    from tradeforge.data.itch.decode import decode
    from tradeforge.data.itch.generator import encode, generate_messages

    def setup() -> Any:
        gen = generate_messages(n, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return decode(encode(gen))

    msgs, setup_s = timed(setup)
    rebuild_books(msgs)  # warm-up: loads the jitted kernels
    runs = []
    replay = None
    for _ in range(repeats):
        replay, s = profiled(lambda: rebuild_books(msgs), profile_top) if profile_top else timed(lambda: rebuild_books(msgs))
        runs.append(s)
    rss = peak_rss_mb()
    assert replay is not None
    cols = book_columns(msgs)
    lists = [c.tolist() for c in (cols.action, cols.locate, cols.order_id, cols.side, cols.price, cols.size, cols.new_id)]
    py_runs = []
    py = None
    for _ in range(max(1, min(repeats, 2))):
        py, s = timed(lambda: python_books(lists))
        py_runs.append(s)
    assert py is not None
    bad = []
    for stock, book in replay.books.items():
        loc = int(replay.columns[stock].locate[0])
        want = dict(py.get(loc, {}))
        got = {}
        for side in (1, -1):
            for p, q, c, _ in book.levels(side).tolist():
                got[p * side] = [q, c]
        if got != want:
            bad.append(stock)
    seconds, py_seconds = min(runs), min(py_runs)
    n_book = len(cols)
    rec = base_record(NAME, len(msgs), seconds, py_seconds, setup_s, rss)
    eps, py_eps = len(msgs) / seconds, len(msgs) / py_seconds
    rec.update(
        {
            "python_loop_seconds": round(py_seconds, 4),
            "python_loop_events_per_s": round(py_eps, 1),
            "ratio_to_python_loop": round(eps / py_eps, 2),
            "book_messages": n_book,
            "book_messages_per_s": round(n_book / seconds, 1),
            "stocks": len(replay.books),
            "resting_orders": sum(b.n_orders for b in replay.books.values()),
            "trades": sum(len(t) for t in replay.trades.values()),
            "runs_seconds": [round(x, 4) for x in runs],
            "python_loop_runs_seconds": [round(x, 4) for x in py_runs],
            "repeats": repeats,
            "seed": seed,
            "profiled": bool(profile_top),
            "cross_check": "ok" if not bad else f"MISMATCH: final depth differs for {bad}",
        }
    )
    return rec
