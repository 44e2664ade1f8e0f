"""Windows with aggregations, per key, driven by event time (``ts_init``), never the wall clock.

- ``Tumbling(ns=T)``: buckets ``[k T + offset, (k+1) T + offset)``; all keys' open buckets close
  (and emit, keys in first-seen order) when an event at or after the bucket's end arrives, or on
  ``flush(ts)``. Empty buckets emit nothing. Payload: the aggregates, ``start_ns``, ``end_ns``.
- ``Tumbling(count=N)``: emits each key's aggregates after every N of its events, then restarts.
- ``Sliding(ns=T)``: on each event, the aggregates over that key's events in ``(ts - T, ts]``.
- ``Sliding(count=N)``: on each event, the aggregates over that key's last N events.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from tradeforge.strategy.cep.aggregates import AGGREGATES, Aggregate
from tradeforge.strategy.cep.fields import FieldSpec, Getter, derived, getter
from tradeforge.strategy.cep.node import Operator

AggSpec = tuple[str, FieldSpec]  # ("mean", "price"); ("count", None)


@dataclass(frozen=True, slots=True)
class Tumbling:
    ns: int | None = None
    count: int | None = None
    offset_ns: int = 0

    def __post_init__(self) -> None:
        _check(self.ns, self.count, "Tumbling")


@dataclass(frozen=True, slots=True)
class Sliding:
    ns: int | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        _check(self.ns, self.count, "Sliding")


def _check(ns: int | None, count: int | None, what: str) -> None:
    if (ns is None) == (count is None):
        raise ValueError(f"{what}: give exactly one of ns= or count=")
    if (ns or count or 0) <= 0:
        raise ValueError(f"{what}: size must be positive")


class _State:
    __slots__ = ("aggs", "buf", "n", "removed", "start")

    def __init__(self, kinds: list[type[Aggregate]]) -> None:
        self.aggs = [k() for k in kinds]
        self.buf: deque[tuple[int, int, tuple[Any, ...]]] = deque()  # (seq, ts, values): sliding only
        self.n = 0
        self.removed = 0
        self.start = 0


class WindowOp(Operator):
    """One window spec, a key and named aggregates; emits derived events named ``name``."""

    __slots__ = ("_exact", "_kinds", "_names", "_seq", "_states", "cur", "getters", "key", "late", "name", "spec")

    def __init__(self, spec: Tumbling | Sliding, aggs: dict[str, AggSpec], key: FieldSpec, name: str) -> None:
        super().__init__()
        if not aggs:
            raise ValueError("window: give at least one aggregate, e.g. n=('count', None)")
        for out, (kind, _) in aggs.items():
            if kind not in AGGREGATES:
                raise ValueError(f"window: unknown aggregate {kind!r} for {out!r} (one of {sorted(AGGREGATES)})")
        self.spec, self.name, self.key = spec, name, getter(key)
        self._names = list(aggs)
        self._kinds = [AGGREGATES[k] for k, _ in aggs.values()]
        self.getters: list[Getter] = [getter(f) if f is not None else _none for _, f in aggs.values()]
        self._exact = [i for i, k in enumerate(self._kinds) if k.exact_sums]
        self._states: dict[Any, _State] = {}
        self._seq = 0
        self.cur: int | None = None  # current bucket (tumbling by time)
        self.late = 0  # events older than the open bucket (dropped, counted)

    def _payload(self, st: _State) -> dict[str, Any]:
        return {n: a.value() for n, a in zip(self._names, st.aggs, strict=True)}

    def on_event(self, ev: Any) -> None:
        ts = ev.ts_init
        spec = self.spec
        k = self.key(ev)
        vals = tuple(g(ev) for g in self.getters)
        if isinstance(spec, Tumbling):
            if spec.ns is not None:
                b = (ts - spec.offset_ns) // spec.ns
                if self.cur is None:
                    self.cur = b
                elif b < self.cur:
                    self.late += 1
                    return
                elif b != self.cur:
                    self._close(ts)
                    self.cur = b
            st = self._states.get(k)
            if st is None:
                st = self._states[k] = _State(self._kinds)
            for a, v in zip(st.aggs, vals, strict=True):
                a.add(0, v)
            st.n += 1
            if spec.count is not None and st.n == spec.count:
                del self._states[k]
                self.emit(derived(self.name, k, self._payload(st), ev.ts_event, ts))
            return
        st = self._states.get(k)
        if st is None:
            st = self._states[k] = _State(self._kinds)
        self._seq += 1
        seq = self._seq
        st.buf.append((seq, ts, vals))
        for a, v in zip(st.aggs, vals, strict=True):
            a.add(seq, v)
        buf = st.buf
        if spec.count is not None:
            while len(buf) > spec.count:
                self._evict(st)
        else:
            horizon = ts - spec.ns  # type: ignore[operator]
            while buf[0][1] <= horizon:
                self._evict(st)
        self.emit(derived(self.name, k, self._payload(st), ev.ts_event, ts))

    def _evict(self, st: _State) -> None:
        seq, _, vals = st.buf.popleft()
        for a, v in zip(st.aggs, vals, strict=True):
            a.remove(seq, v)
        st.removed += 1
        if self._exact and st.removed >= max(len(st.buf), 32):  # re-sum: no drift, amortized O(1)
            st.removed = 0
            for i in self._exact:
                st.aggs[i].rebuild(e[2][i] for e in st.buf)

    def _close(self, ts: int) -> None:
        spec = self.spec
        assert isinstance(spec, Tumbling) and spec.ns is not None and self.cur is not None
        start = self.cur * spec.ns + spec.offset_ns
        states, self._states = self._states, {}
        for k, st in states.items():
            payload = self._payload(st)
            payload["start_ns"], payload["end_ns"] = start, start + spec.ns
            self.emit(derived(self.name, k, payload, start + spec.ns, ts))

    def flush(self, ts_ns: int) -> None:
        """Close the open tumbling-by-time buckets if ``ts_ns`` is at or past their end."""
        spec = self.spec
        if (isinstance(spec, Tumbling) and spec.ns is not None and self.cur is not None and self._states
                and (ts_ns - spec.offset_ns) // spec.ns > self.cur):
            self._close(ts_ns)
            self.cur = None


def _none(ev: Any) -> None:
    return None
