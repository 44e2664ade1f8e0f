"""CEP semantics: windows, joins and patterns against brute-force references (hypothesis)."""

from __future__ import annotations

import math
from collections import defaultdict

import msgspec
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.core.bus import MessageBus
from tradeforge.strategy.cep import CepEngine, Sliding, Tumbling


class Ev(msgspec.Struct, frozen=True):
    key: str
    v: int
    ts_event: int
    ts_init: int


KEYS = st.sampled_from(["a", "b", "c"])
events_st = st.lists(st.tuples(KEYS, st.integers(-1000, 1000), st.integers(0, 50)), max_size=120).map(
    lambda rows: _events(rows)
)


def _events(rows: list[tuple[str, int, int]]) -> list[Ev]:
    ts, out = 0, []
    for k, v, dt in rows:
        ts += dt
        out.append(Ev(k, v, ts, ts))
    return out


def _collect(stream) -> list:
    out: list = []
    stream.sink(out.append)
    return out


@settings(max_examples=60, deadline=None)
@given(events_st, st.integers(1, 200))
def test_tumbling_time_equals_groupby(events: list[Ev], size: int) -> None:
    cep = CepEngine()
    src = cep.source()
    out = _collect(src.window(Tumbling(ns=size), key="key", name="t", s=("sum", "v"), n=("count", None),
                              lo=("min", "v"), hi=("max", "v"), last=("last", "v")))
    for e in events:
        src.push(e)
    cep.flush(10**12)
    got = {(e.instrument_id, e.payload["start_ns"]): (e.payload["s"], e.payload["n"], e.payload["lo"],
                                                      e.payload["hi"], e.payload["last"]) for e in out}
    assert len(got) == len(out)
    if not events:
        assert not out
        return
    df = pd.DataFrame({"k": [e.key for e in events], "v": [e.v for e in events],
                       "b": np.array([e.ts_init for e in events]) // size * size})
    ref = df.groupby(["k", "b"])["v"].agg(["sum", "count", "min", "max", "last"])
    assert got == {(k, b): tuple(int(x) for x in row) for (k, b), row in zip(ref.index, ref.to_numpy(), strict=True)}
    # emitted in time order of bucket ends, never before the bucket ended
    assert all(e.ts_init >= e.payload["end_ns"] or e.ts_init == 10**12 for e in out)
    assert [e.payload["end_ns"] for e in out] == sorted(e.payload["end_ns"] for e in out)


@settings(max_examples=60, deadline=None)
@given(events_st, st.integers(1, 7))
def test_tumbling_count_and_sliding_count(events: list[Ev], n: int) -> None:
    cep = CepEngine()
    src = cep.source()
    tum = _collect(src.window(Tumbling(count=n), key="key", s=("sum", "v")))
    sld = _collect(src.window(Sliding(count=n), key="key", m=("mean", "v"), sd=("std", "v"), hi=("max", "v"),
                              lo=("min", "v"), first=("first", "v")))
    for e in events:
        src.push(e)
    by_key: dict[str, list[int]] = defaultdict(list)
    ref_tum, ref_sld = [], []
    for e in events:
        vals = by_key[e.key]
        vals.append(e.v)
        if len(vals) % n == 0:
            ref_tum.append((e.key, sum(vals[-n:])))
        w = vals[-n:]
        ref_sld.append((e.key, np.mean(w), np.std(w, ddof=1) if len(w) > 1 else math.nan, max(w), min(w), w[0]))
    assert [(e.instrument_id, e.payload["s"]) for e in tum] == ref_tum
    assert len(sld) == len(ref_sld)
    for e, (k, m, sd, hi, lo, first) in zip(sld, ref_sld, strict=True):
        p = e.payload
        assert e.instrument_id == k and (p["hi"], p["lo"], p["first"]) == (hi, lo, first)
        assert p["m"] == pytest.approx(m, rel=1e-12, abs=1e-12)
        assert (math.isnan(p["sd"]) and math.isnan(sd)) or p["sd"] == pytest.approx(sd, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(events_st, st.integers(1, 120))
def test_sliding_time(events: list[Ev], size: int) -> None:
    cep = CepEngine()
    src = cep.source()
    out = _collect(src.window(Sliding(ns=size), key="key", s=("sum", "v"), hi=("max", "v"), n=("count", None)))
    for e in events:
        src.push(e)
    for i, (e, o) in enumerate(zip(events, out, strict=True)):
        w = [x.v for x in events[: i + 1] if x.key == e.key and x.ts_init > e.ts_init - size]
        assert (o.payload["s"], o.payload["hi"], o.payload["n"]) == (sum(w), max(w), len(w))


two_streams = st.lists(st.tuples(st.booleans(), KEYS, st.integers(0, 30)), max_size=80)


@settings(max_examples=80, deadline=None)
@given(two_streams, st.integers(0, 60))
def test_interval_join_all_and_latest(rows, within: int) -> None:
    cep = CepEngine()
    left, right = cep.source(), cep.source()
    all_out = _collect(left.join(right, within, key="key", name="j"))
    latest = _collect(left.join(right, within, key="key", mode="latest", name="jl"))
    ts, seq = 0, []
    for i, (is_left, k, dt) in enumerate(rows):
        ts += dt
        e = Ev(k, i, ts, ts)
        seq.append((is_left, e))
        (left if is_left else right).push(e)
    got = sorted((o.payload["left"].v, o.payload["right"].v) for o in all_out)
    ref = sorted((a.v, b.v) for la, a in seq if la for lb, b in seq
                 if not lb and a.key == b.key and abs(a.ts_init - b.ts_init) <= within)
    assert got == ref
    ref_latest = []
    for i, (side, e) in enumerate(seq):
        prev = [o for s, o in seq[:i] if s != side and o.key == e.key]
        if prev and e.ts_init - prev[-1].ts_init <= within:
            ref_latest.append((e.v, prev[-1].v) if side else (prev[-1].v, e.v))
    assert [(o.payload["left"].v, o.payload["right"].v) for o in latest] == ref_latest
    assert all(o.payload["lag_ns"] == o.payload["right"].ts_init - o.payload["left"].ts_init for o in latest)


@settings(max_examples=80, deadline=None)
@given(events_st, st.integers(0, 100))
def test_sequence_a_then_b_within(events: list[Ev], within: int) -> None:
    cep = CepEngine()
    src = cep.source()
    is_a, is_b = (lambda e: e.v > 300), (lambda e: e.v < -300)
    out = _collect(src.sequence(is_a, is_b, within_ns=within, key="key", name="ab"))
    for e in events:
        src.push(e)
    ref = []
    for i, a in enumerate(events):
        if not is_a(a):
            continue
        nxt = next((b for b in events[i + 1:] if b.key == a.key and is_b(b)), None)
        if nxt is not None and nxt.ts_init - a.ts_init <= within:
            ref.append((id(a), id(nxt)))
    got = [tuple(id(x) for x in o.payload["events"]) for o in out]
    assert sorted(got) == sorted(ref)
    assert all(o.payload["duration_ns"] <= within for o in out)


@settings(max_examples=80, deadline=None)
@given(events_st, st.integers(1, 4))
def test_consecutive(events: list[Ev], n: int) -> None:
    cep = CepEngine()
    src = cep.source()
    out = _collect(src.consecutive(lambda e: e.v > 0, n, key="key"))
    for e in events:
        src.push(e)
    ref, run = [], defaultdict(list)
    for e in events:
        if e.v > 0:
            run[e.key].append(e)
            if len(run[e.key]) == n:
                ref.append(tuple(run.pop(e.key)))
        else:
            run.pop(e.key, None)
    assert [o.payload["events"] for o in out] == ref


def test_three_step_sequence_filter_map_and_bus_publish() -> None:
    bus = MessageBus()
    cep = CepEngine(bus)
    seen: list = []
    bus.subscribe("data.custom.abc", seen.append)
    src = cep.source("data.test.*")
    (src.filter(lambda e: e.key == "x")
        .map(lambda e: {"v": e.v, "sym": e.key}, name="mapped")
        .sequence(lambda e: e.payload["v"] == 1, lambda e: e.payload["v"] == 2, lambda e: e.payload["v"] == 3,
                  within_ns=10, key="sym", name="abc")
        .publish())
    for i, (k, v) in enumerate([("x", 1), ("y", 2), ("x", 9), ("x", 2), ("x", 3), ("x", 1), ("x", 2), ("x", 3)]):
        bus.publish(f"data.test.{k}", Ev(k, v, i * 3, i * 3))
    # the run starting at ts 0 completes at 12 > 10: expired; the one from 15 completes at 21
    assert [tuple(e.payload["v"] for e in m.payload["events"]) for m in seen] == [(1, 2, 3)]
    assert seen[0].data_type == "abc" and seen[0].instrument_id == "x" and seen[0].ts_init == 21
    assert seen[0].payload["start_ns"] == 15 and seen[0].payload["duration_ns"] == 6


def test_publish_renames_and_late_events_are_counted() -> None:
    bus = MessageBus()
    cep = CepEngine(bus)
    got: list = []
    bus.subscribe("data.custom.sums", got.append)
    src = cep.source("data.t")
    w = src.window(Tumbling(ns=10), s=("sum", "v"), name="raw")
    w.publish("sums")
    for ts, v in [(1, 1), (5, 2), (12, 3), (7, 100), (25, 4)]:  # ts 7 arrives after bucket 0 closed
        bus.publish("data.t", Ev("k", v, ts, ts))
    cep.flush(29)  # bucket [20, 30) not over yet
    assert [(e.data_type, e.payload["s"]) for e in got] == [("sums", 3), ("sums", 3)]
    cep.flush(30)
    assert [e.payload["s"] for e in got] == [3, 3, 4]
    assert w.op.late == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [
    lambda: Tumbling(), lambda: Sliding(ns=1, count=2), lambda: Sliding(count=0),
    lambda: CepEngine().source().window(Tumbling(count=2)),
    lambda: CepEngine().source().window(Tumbling(count=2), x=("median", "v")),
    lambda: CepEngine().source().sequence(lambda e: True, within_ns=1),
    lambda: CepEngine().source().consecutive(lambda e: True, 0),
    lambda: CepEngine().source().join(CepEngine().source(), -1),
    lambda: CepEngine().source().join(CepEngine().source(), 1, mode="inner"),
])
def test_bad_specs(bad) -> None:
    with pytest.raises(ValueError):
        bad()
