"""``cep``: events per second through a two-stream keyed join with a window, on the message bus.

``n`` synthetic quotes of 20 instruments (10 pairs, two legs each) arrive in time order (about
1 ms apart); the CEP graph joins the legs of each pair as-of within 1 s (key: the pair), maps the
joined legs to the mid spread and keeps a sliding 100-event window per pair (mean, sd, min, max),
publishing each result on ``data.custom.spread_stats`` to one subscriber. Baseline: the same
computation hand-written (dicts of latest quotes, deques) in one plain loop without the bus.
Cross-check: the number of outputs and the last window of every pair agree."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import numpy as np

from benchmarks._common import peak_rss_mb

NAME = "cep"
DEFAULT_N = 1_000_000
PAIRS, WINDOW, WITHIN = 10, 100, 1_000_000_000


def _quotes(n: int, seed: int) -> list[Any]:
    from tradeforge.model.data import QuoteTick

    rng = np.random.default_rng(seed)
    inst = rng.integers(0, 2 * PAIRS, n)
    ts = np.cumsum(rng.integers(1, 2_000_000, n)).tolist()
    mid = (100_000 + np.cumsum(rng.integers(-3, 4, n))).tolist()
    ids = [f"P{i // 2}{'AB'[i % 2]}.SIM" for i in range(2 * PAIRS)]
    return [QuoteTick(ids[i], m - 1, m + 1, 10, 10, t, t) for i, m, t in zip(inst.tolist(), mid, ts, strict=True)]


def _engine(quotes: list[Any]) -> tuple[Any, list[str], dict[str, Any], list[int]]:
    from tradeforge.core.bus import MessageBus
    from tradeforge.strategy.cep import CepEngine, Sliding

    bus = MessageBus()
    cep = CepEngine(bus)
    pair_of = lambda q: q.instrument_id[:-5]  # noqa: E731 - "P3A.SIM" -> "P3"
    legs_a = cep.source("data.quotes.P?A.SIM")
    legs_b = cep.source("data.quotes.P?B.SIM")
    (legs_a.join(legs_b, WITHIN, key=pair_of, mode="latest", name="legs")
        .map(lambda j: {"spread": (j.payload["left"].bid + j.payload["left"].ask
                                   - j.payload["right"].bid - j.payload["right"].ask) / 2}, name="spread")
        .window(Sliding(count=WINDOW), key="instrument_id", name="spread_stats", mean=("mean", "spread"),
                sd=("std", "spread"),
                lo=("min", "spread"), hi=("max", "spread"))
        .publish())
    last: dict[str, Any] = {}
    count = [0]

    def on_stats(ev: Any) -> None:
        count[0] += 1
        last[ev.instrument_id] = ev.payload

    bus.subscribe("data.custom.spread_stats", on_stats)
    topics = [f"data.quotes.{q.instrument_id}" for q in quotes]
    return bus, topics, last, count


def _bare(quotes: list[Any]) -> tuple[int, dict[str, Any]]:
    latest: dict[str, list[Any]] = {}
    wins: dict[str, deque[float]] = {}
    last: dict[str, Any] = {}
    count = 0
    for q in quotes:
        iid = q.instrument_id
        pair, leg = iid[:-5], 0 if iid[-5] == "A" else 1
        lat = latest.setdefault(pair, [None, None])
        lat[leg] = q
        o = lat[1 - leg]
        if o is None or q.ts_init - o.ts_init > WITHIN:
            continue
        a, b = (q, o) if leg == 0 else (o, q)
        w = wins.setdefault(pair, deque(maxlen=WINDOW))
        w.append((a.bid + a.ask - b.bid - b.ask) / 2)
        m = sum(w) / len(w)
        sd = math.sqrt(sum((v - m) ** 2 for v in w) / (len(w) - 1)) if len(w) > 1 else math.nan
        last[pair] = {"mean": m, "sd": sd, "lo": min(w), "hi": max(w)}
        count += 1
    return count, last


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    quotes = _quotes(n, seed)
    setup = time.perf_counter() - t0
    runs, out = [], None
    for _ in range(repeats):
        bus, topics, last, count = _engine(quotes)
        publish = bus.publish
        t = time.perf_counter()
        for topic, q in zip(topics, quotes, strict=True):
            publish(topic, q)
        runs.append(time.perf_counter() - t)
        out = (count[0], last)
    rss = peak_rss_mb()
    t = time.perf_counter()
    bare_count, bare_last = _bare(quotes)
    bare_s = time.perf_counter() - t
    assert out is not None
    sec = min(runs)
    rec: dict[str, Any] = {
        "name": NAME, "n_events": n, "seconds": round(sec, 4), "events_per_s": round(n / sec, 1), "peak_rss_mb": rss,
        "derived_events": out[0], "pairs": PAIRS, "window": WINDOW, "join_within_ns": WITHIN,
        "bare_loop_seconds": round(bare_s, 4), "bare_loop_events_per_s": round(n / bare_s, 1),
        "ratio_to_bare_loop": round(bare_s / sec, 4), "setup_seconds": round(setup, 4),
        "runs_seconds": [round(r, 4) for r in runs], "repeats": repeats, "seed": seed,
        "cross_check": _cross_check(out, (bare_count, bare_last)),
    }
    return rec


def _cross_check(a: tuple[int, dict[str, Any]], b: tuple[int, dict[str, Any]]) -> str:
    if a[0] != b[0] or sorted(a[1]) != sorted(b[1]):
        return f"MISMATCH: {a[0]} vs {b[0]} derived events"
    for k, p in a[1].items():
        q = b[1][k]
        if any(not math.isclose(p[f], q[f], rel_tol=1e-9, abs_tol=1e-9) for f in ("mean", "sd", "lo", "hi")):
            return f"MISMATCH: last window of {k}: {p} vs {q}"
    return "ok"
