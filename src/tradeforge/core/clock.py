"""Clocks: the only source of time for engine code.

``SimulatedClock`` is driven by the data (backtests); ``LiveClock`` reads the system clock and
schedules timers on an asyncio loop (paper and live). Both offer the same timer API, so a strategy
cannot tell which it has. Timers fire in ``(time, creation order)`` order — deterministic.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from typing import Protocol

import msgspec

from tradeforge.model.timeutil import NANOS_PER_SECOND


class TimeEvent(msgspec.Struct, frozen=True, gc=False):
    """A timer or time alert firing: ``ts_event`` is the scheduled time."""

    name: str
    ts_event: int
    ts_init: int


TimerCallback = Callable[[TimeEvent], None]


class ClockError(RuntimeError):
    """A timer is misconfigured (duplicate name, non-positive interval, time going backwards)."""


class Clock(Protocol):
    def timestamp_ns(self) -> int: ...

    def set_timer(
        self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None: ...

    def set_time_alert(self, name: str, alert_ns: int, callback: TimerCallback) -> None: ...

    def cancel_timer(self, name: str) -> None: ...

    def timer_names(self) -> list[str]: ...


class _Timer:
    __slots__ = ("callback", "interval_ns", "name", "next_ns", "stop_ns")

    def __init__(self, name: str, next_ns: int, interval_ns: int, stop_ns: int | None, callback: TimerCallback):
        self.name = name
        self.next_ns = next_ns
        self.interval_ns = interval_ns  # 0 for a one-shot alert
        self.stop_ns = stop_ns
        self.callback = callback


class SimulatedClock:
    """A clock that only moves when told to (``advance_to``); timers fire on the way."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._timers: dict[str, _Timer] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._seq = 0
        #: earliest pending timer time (``2**63`` when none) — lets the runner skip ``advance_to``.
        self.next_timer_ns = 2**63

    def timestamp_ns(self) -> int:
        return self._now

    def set_time(self, ts_ns: int) -> None:
        """Set the time without firing timers (the runner calls ``advance_to`` when timers are due)."""
        self._now = ts_ns

    def _push(self, timer: _Timer) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (timer.next_ns, self._seq, timer.name))
        self.next_timer_ns = self._heap[0][0]

    def set_timer(
        self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Fire ``callback`` every ``interval_ns`` from ``start_ns`` (default now) + interval."""
        if name in self._timers:
            raise ClockError(f"timer {name!r} already exists")
        if interval_ns <= 0:
            raise ClockError(f"timer {name!r}: interval must be positive, got {interval_ns}")
        start = self._now if start_ns is None else start_ns
        timer = _Timer(name, start + interval_ns, interval_ns, stop_ns, callback)
        self._timers[name] = timer
        self._push(timer)

    def set_time_alert(self, name: str, alert_ns: int, callback: TimerCallback) -> None:
        """Fire ``callback`` once at ``alert_ns`` (immediately on the next advance if in the past)."""
        if name in self._timers:
            raise ClockError(f"timer {name!r} already exists")
        timer = _Timer(name, max(alert_ns, self._now), 0, None, callback)
        self._timers[name] = timer
        self._push(timer)

    def cancel_timer(self, name: str) -> None:
        self._timers.pop(name, None)

    def timer_names(self) -> list[str]:
        return sorted(self._timers)

    def advance_to(self, ts_ns: int) -> None:
        """Fire every timer due at or before ``ts_ns`` in time order, then set the time to ``ts_ns``."""
        if ts_ns < self._now:
            raise ClockError(f"time cannot go backwards: {ts_ns} < {self._now}")
        heap = self._heap
        while heap and heap[0][0] <= ts_ns:
            due_ns, _, name = heapq.heappop(heap)
            timer = self._timers.get(name)
            if timer is None or timer.next_ns != due_ns:
                continue  # canceled or rescheduled
            if timer.stop_ns is not None and due_ns > timer.stop_ns:
                del self._timers[name]  # first firing already past stop_ns (as LiveClock)
                continue
            self._now = due_ns
            if timer.interval_ns:
                timer.next_ns = due_ns + timer.interval_ns
                if timer.stop_ns is None or timer.next_ns <= timer.stop_ns:
                    self._seq += 1
                    heapq.heappush(heap, (timer.next_ns, self._seq, name))
                else:
                    del self._timers[name]
            else:
                del self._timers[name]
            timer.callback(TimeEvent(name, due_ns, due_ns))
        self.next_timer_ns = heap[0][0] if heap else 2**63
        self._now = ts_ns


class LiveClock:
    """Real time (UTC ns from the system clock); timers run on an asyncio event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def timestamp_ns(self) -> int:
        return time.time_ns()

    def _schedule(self, name: str, at_ns: int, fire: Callable[[], None]) -> None:
        loop = self._loop or asyncio.get_running_loop()
        delay = max(0.0, (at_ns - self.timestamp_ns()) / NANOS_PER_SECOND)
        self._handles[name] = loop.call_later(delay, fire)

    def set_timer(
        self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        if name in self._handles:
            raise ClockError(f"timer {name!r} already exists")
        if interval_ns <= 0:
            raise ClockError(f"timer {name!r}: interval must be positive, got {interval_ns}")
        first = (self.timestamp_ns() if start_ns is None else start_ns) + interval_ns

        def fire(due: int = first) -> None:
            if stop_ns is not None and due > stop_ns:
                self._handles.pop(name, None)
                return
            nxt = due + interval_ns
            self._schedule(name, nxt, lambda: fire(nxt))
            callback(TimeEvent(name, due, self.timestamp_ns()))

        self._schedule(name, first, fire)

    def set_time_alert(self, name: str, alert_ns: int, callback: TimerCallback) -> None:
        if name in self._handles:
            raise ClockError(f"timer {name!r} already exists")

        def fire() -> None:
            self._handles.pop(name, None)
            callback(TimeEvent(name, alert_ns, self.timestamp_ns()))

        self._schedule(name, alert_ns, fire)

    def cancel_timer(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def timer_names(self) -> list[str]:
        return sorted(self._handles)
