"""Patterns over a keyed stream, on event time.

- ``SequenceOp(steps, within_ns)``: "A then B (then C ...) within T". Every event matching step 0
  starts a run; a run takes the next event of its key that matches its next step (skip till next
  match: other events in between are ignored); a run completes when its last step matches no later
  than ``within_ns`` after its first event, and expires otherwise. One event may advance several
  runs (A, A, B gives two matches). Runs advance before a new one starts, so one event never plays
  two steps of the same run. Payload: ``events`` (tuple), ``start_ns``, ``duration_ns``.
- ``ConsecutiveOp(pred, n)``: ``n`` consecutive events of a key satisfying ``pred``; the count
  restarts after each match (6 in a row give 2 matches) and on any event that fails ``pred``.
  Payload: ``events``, ``start_ns``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from tradeforge.strategy.cep.fields import FieldSpec, derived, getter
from tradeforge.strategy.cep.node import Operator

Pred = Callable[[Any], bool]


class _Run:
    __slots__ = ("events", "i", "start")

    def __init__(self, ev: Any) -> None:
        self.events, self.i, self.start = [ev], 1, ev.ts_init


class SequenceOp(Operator):
    __slots__ = ("_runs", "dropped", "key", "max_runs", "name", "steps", "within")

    def __init__(self, steps: Sequence[Pred], within_ns: int, key: FieldSpec, name: str, max_runs: int = 10_000) -> None:
        super().__init__()
        if len(steps) < 2:
            raise ValueError("sequence: give at least two steps")
        self.steps, self.within, self.key, self.name = tuple(steps), within_ns, getter(key), name
        self.max_runs = max_runs
        self.dropped = 0  # runs dropped at the max_runs bound (oldest first)
        self._runs: dict[Any, deque[_Run]] = {}

    def on_event(self, ev: Any) -> None:
        ts, k, steps = ev.ts_init, self.key(ev), self.steps
        runs = self._runs.get(k)
        if runs is None:
            runs = self._runs[k] = deque()
        while runs and ts - runs[0].start > self.within:
            runs.popleft()
        done = False
        for run in runs:
            if steps[run.i](ev):
                run.events.append(ev)
                run.i += 1
                if run.i == len(steps):
                    done = True
                    self.emit(derived(self.name, k, {"events": tuple(run.events), "start_ns": run.start,
                                                     "duration_ns": ts - run.start}, ev.ts_event, ts))
        if done:
            self._runs[k] = runs = deque(r for r in runs if r.i < len(steps))
        if steps[0](ev):
            runs.append(_Run(ev))
            if len(runs) > self.max_runs:
                runs.popleft()
                self.dropped += 1


class ConsecutiveOp(Operator):
    __slots__ = ("_runs", "key", "n", "name", "pred")

    def __init__(self, pred: Pred, n: int, key: FieldSpec, name: str) -> None:
        super().__init__()
        if n < 1:
            raise ValueError("consecutive: n must be >= 1")
        self.pred, self.n, self.key, self.name = pred, n, getter(key), name
        self._runs: dict[Any, list[Any]] = {}

    def on_event(self, ev: Any) -> None:
        k = self.key(ev)
        if not self.pred(ev):
            self._runs.pop(k, None)
            return
        run = self._runs.setdefault(k, [])
        run.append(ev)
        if len(run) == self.n:
            del self._runs[k]
            self.emit(derived(self.name, k, {"events": tuple(run), "start_ns": run[0].ts_init}, ev.ts_event, ev.ts_init))
