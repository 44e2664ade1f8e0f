"""Session schedules: when a FIX session may be connected, and when a new one (sequence reset) begins.

A :class:`SessionSchedule` is a daily window ``start``-``end`` (local times in ``tz``; ``end <= start``
means the window runs over midnight) on the given weekdays (0 = Monday; of the day the window
starts). ``None`` (see :data:`ALWAYS`) is a session that never ends. Time comes in as UTC ns from the
session's clock, so the schedule is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

NANOS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    start: time = time(0, 0)
    end: time = time(0, 0)
    tz: str = "UTC"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

    def window_start(self, now_ns: int) -> int | None:
        """UTC ns at which the window containing ``now_ns`` opened, or ``None`` outside any window."""
        zone = ZoneInfo(self.tz)
        local = datetime.fromtimestamp(now_ns / NANOS, UTC).astimezone(zone)
        length = (datetime.combine(local.date(), self.end) - datetime.combine(local.date(), self.start))
        if length <= timedelta(0):
            length += timedelta(days=1)
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in self.weekdays:
                continue
            opened = datetime.combine(day, self.start, zone)
            if opened <= local < opened + length:
                return int(opened.timestamp()) * NANOS
        return None

    def in_session(self, now_ns: int) -> bool:
        return self.window_start(now_ns) is not None

    def is_new_session(self, created_ns: int, now_ns: int) -> bool:
        """True when a store created at ``created_ns`` belongs to an earlier window than ``now_ns``."""
        start = self.window_start(now_ns)
        return start is not None and created_ns < start


#: A 24-hour window starting at midnight UTC: a daily reset, always connectable.
DAILY_UTC = SessionSchedule()
