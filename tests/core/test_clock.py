"""Clocks: SimulatedClock timers in deterministic order; LiveClock timers on asyncio."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tradeforge.core.clock import ClockError, LiveClock, SimulatedClock, TimeEvent

NEVER = 2**63


class Log:
    def __init__(self, clock: SimulatedClock | None = None) -> None:
        self.clock = clock
        self.events: list[tuple[str, int, int | None]] = []

    def __call__(self, event: TimeEvent) -> None:
        now = self.clock.timestamp_ns() if self.clock is not None else None
        self.events.append((event.name, event.ts_event, now))

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self.events]


def test_timers_fire_in_time_then_creation_order() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_time_alert("c", 300, log)
    clock.set_time_alert("a", 100, log)
    clock.set_timer("t50", 50, log, stop_ns=150)
    clock.set_time_alert("b", 100, log)
    clock.set_timer("t100", 100, log, stop_ns=300)
    clock.advance_to(1_000)
    assert [(n, ts) for n, ts, _ in log.events] == [
        ("t50", 50),
        ("a", 100),
        ("b", 100),
        ("t100", 100),  # created after a and b
        ("t50", 100),  # rescheduled after it fired at 50: a later sequence number
        ("t50", 150),
        ("t100", 200),
        ("c", 300),
        ("t100", 300),
    ]
    assert all(now == ts for _, ts, now in log.events)  # the clock reads the timer's time inside
    assert clock.timestamp_ns() == 1_000
    assert clock.timer_names() == []


def test_time_event_fields() -> None:
    clock = SimulatedClock(10)
    got: list[TimeEvent] = []
    clock.set_time_alert("x", 25, got.append)
    clock.advance_to(30)
    assert got == [TimeEvent("x", 25, 25)]


def test_advance_fires_only_due_timers() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_time_alert("early", 10, log)
    clock.set_time_alert("late", 20, log)
    clock.advance_to(15)
    assert log.names == ["early"]
    assert clock.timestamp_ns() == 15
    assert clock.timer_names() == ["late"]
    clock.advance_to(20)  # due exactly at the target time: fires
    assert log.names == ["early", "late"]


def test_repeating_timer_with_start_and_stop() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_timer("bar", 60, log, start_ns=1_000, stop_ns=1_240)
    clock.advance_to(1_100)
    assert [ts for _, ts, _ in log.events] == [1_060]
    clock.advance_to(5_000)
    assert [ts for _, ts, _ in log.events] == [1_060, 1_120, 1_180, 1_240]
    assert "bar" not in clock.timer_names()


def test_repeating_timer_without_stop_keeps_going() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_timer("t", 10, log)
    clock.advance_to(35)
    assert [ts for _, ts, _ in log.events] == [10, 20, 30]
    clock.advance_to(1_000)
    assert len(log.events) == 100
    assert clock.timer_names() == ["t"]
    assert clock.next_timer_ns == 1_010


def test_timer_whose_first_firing_is_past_stop_never_fires() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_timer("t", 100, log, stop_ns=50)
    clock.advance_to(1_000)
    assert log.events == []
    assert clock.timer_names() == []


def test_time_alert_in_the_past_fires_on_next_advance() -> None:
    clock = SimulatedClock(500)
    log = Log(clock)
    clock.set_time_alert("missed", 100, log)
    assert log.events == []
    clock.advance_to(500)
    assert log.events == [("missed", 500, 500)]  # fires at the current time, once
    clock.advance_to(900)
    assert len(log.events) == 1


def test_cancel_timer() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_timer("rep", 10, log)
    clock.set_time_alert("once", 15, log)
    clock.advance_to(10)
    clock.cancel_timer("rep")
    clock.cancel_timer("once")
    clock.cancel_timer("never-existed")
    clock.advance_to(100)
    assert log.names == ["rep"]
    assert clock.timer_names() == []


def test_cancel_and_recreate_same_name() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_time_alert("x", 100, log)
    clock.cancel_timer("x")
    clock.set_time_alert("x", 200, log)
    clock.advance_to(300)
    assert [(n, ts) for n, ts, _ in log.events] == [("x", 200)]


def test_callbacks_may_schedule_and_cancel_timers() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)

    def chain(event: TimeEvent) -> None:
        log(event)
        if event.ts_event < 30:
            clock.set_time_alert(f"n{event.ts_event + 10}", event.ts_event + 10, chain)

    def stopper(event: TimeEvent) -> None:
        log(event)
        clock.cancel_timer("rep")

    clock.set_time_alert("n10", 10, chain)
    clock.set_timer("rep", 7, log)
    clock.set_time_alert("stop", 15, stopper)
    clock.advance_to(100)
    assert [(n, ts) for n, ts, _ in log.events] == [
        ("rep", 7),
        ("n10", 10),
        ("rep", 14),
        ("stop", 15),
        ("n20", 20),
        ("n30", 30),
    ]


def test_advancing_backwards_raises() -> None:
    clock = SimulatedClock(100)
    clock.advance_to(100)  # same time is fine
    with pytest.raises(ClockError, match="backwards"):
        clock.advance_to(99)
    assert clock.timestamp_ns() == 100


def test_next_timer_ns_tracks_earliest() -> None:
    clock = SimulatedClock(0)
    assert clock.next_timer_ns == NEVER
    clock.set_time_alert("b", 500, lambda e: None)
    assert clock.next_timer_ns == 500
    clock.set_time_alert("a", 200, lambda e: None)
    assert clock.next_timer_ns == 200
    clock.set_time_alert("c", 900, lambda e: None)
    assert clock.next_timer_ns == 200
    clock.advance_to(300)
    assert clock.next_timer_ns == 500
    clock.set_timer("r", 50, lambda e: None)  # first at 350
    assert clock.next_timer_ns == 350
    clock.advance_to(360)
    assert clock.next_timer_ns == 400
    clock.cancel_timer("r")
    clock.advance_to(950)
    assert clock.next_timer_ns == NEVER


def test_set_time_does_not_fire() -> None:
    clock = SimulatedClock(0)
    log = Log(clock)
    clock.set_time_alert("a", 10, log)
    clock.set_time(50)
    assert clock.timestamp_ns() == 50 and log.events == []
    clock.advance_to(50)
    assert log.events == [("a", 10, 10)]


def test_duplicate_names_and_bad_intervals_raise() -> None:
    clock = SimulatedClock(0)
    clock.set_timer("t", 10, lambda e: None)
    with pytest.raises(ClockError, match="'t' already exists"):
        clock.set_timer("t", 20, lambda e: None)
    with pytest.raises(ClockError, match="'t' already exists"):
        clock.set_time_alert("t", 20, lambda e: None)
    clock.set_time_alert("a", 5, lambda e: None)
    with pytest.raises(ClockError, match="'a' already exists"):
        clock.set_timer("a", 5, lambda e: None)
    for bad in (0, -5):
        with pytest.raises(ClockError, match="interval must be positive"):
            clock.set_timer(f"bad{bad}", bad, lambda e: None)
    assert clock.timer_names() == ["a", "t"]


# -- LiveClock ---------------------------------------------------------------------------------


async def _wait_until(predicate, timeout_s: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(0.005)


def test_live_clock_alert_and_repeating_timer() -> None:
    alerts: list[TimeEvent] = []
    ticks: list[TimeEvent] = []

    async def main() -> None:
        clock = LiveClock()
        now = clock.timestamp_ns()
        assert now > 1_600_000_000 * 10**9  # real UTC nanoseconds
        clock.set_time_alert("alert", now + 20_000_000, alerts.append)
        clock.set_timer("tick", 10_000_000, ticks.append)
        assert clock.timer_names() == ["alert", "tick"]
        with pytest.raises(ClockError):
            clock.set_timer("tick", 10_000_000, ticks.append)
        with pytest.raises(ClockError):
            clock.set_time_alert("alert", now, alerts.append)
        await _wait_until(lambda: len(alerts) >= 1 and len(ticks) >= 2)
        clock.cancel_timer("tick")
        n_ticks = len(ticks)
        await asyncio.sleep(0.05)
        assert clock.timer_names() == []
        assert len(ticks) == n_ticks  # nothing fires after cancel

        assert len(alerts) == 1
        assert alerts[0].name == "alert" and alerts[0].ts_event == now + 20_000_000
        assert alerts[0].ts_init >= alerts[0].ts_event
        assert len(ticks) >= 2
        dues = [t.ts_event for t in ticks]
        assert dues == sorted(dues) and len(set(dues)) == len(dues)
        assert all(b - a == 10_000_000 for a, b in itertools.pairwise(dues))

    asyncio.run(main())


def test_live_clock_cancel_before_firing_and_stop() -> None:
    fired: list[TimeEvent] = []

    async def main() -> int:
        clock = LiveClock()
        now = clock.timestamp_ns()
        clock.set_time_alert("canceled", now + 30_000_000, fired.append)
        clock.cancel_timer("canceled")
        clock.set_timer("short", 5_000_000, fired.append, start_ns=now, stop_ns=now + 12_000_000)
        await _wait_until(lambda: "short" not in clock.timer_names())
        assert "short" not in clock.timer_names()
        await asyncio.sleep(0.05)
        return now

    now = asyncio.run(main())
    assert "canceled" not in [e.name for e in fired]
    # due at now+5ms and now+10ms; the next (now+15ms) is past stop_ns
    assert [(e.name, e.ts_event) for e in fired] == [("short", now + 5_000_000), ("short", now + 10_000_000)]
