"""Trading session calendars: when a market is open, by trade date, in its own time zone.

Used by the integrity checks (bars missing against the sessions) and by venues (DAY orders expire at
the close of their session). ``SessionCalendar`` memoizes session bounds and UTC offsets, so many
instruments sharing a date range cost one computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tradeforge.model.timeutil import NANOS_PER_DAY, NANOS_PER_SECOND

__all__ = ["SessionCalendar", "cme_globex_calendar", "nyse_calendar", "nyse_holidays"]


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


_NS_PER_HOUR = 3_600 * NANOS_PER_SECOND
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class SessionCalendar:
    """Trading sessions in a timezone.

    ``sessions`` maps a trade date's weekday (0 = Monday) to ``(open, close, open_days_before)``:
    the session of trade date D opens at ``open`` on ``D - open_days_before`` and closes at ``close``
    on D (local wall time). CME Globex: trade date Monday opens Sunday 17:00 and closes Monday 16:00.
    ``holidays`` are trade dates without a session; ``early_closes`` maps trade dates to a close time.
    """

    name: str
    timezone: str
    sessions: dict[int, tuple[time, time, int]]
    holidays: frozenset[date] = frozenset()
    early_closes: dict[date, time] = field(default_factory=dict)
    _bounds: dict[tuple[date, date], tuple[list[date], np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # memo: many instruments of one run share their date range
    _offsets: dict[int, int] = field(default_factory=dict, init=False, repr=False, compare=False)  # UTC hour -> offset ns

    def trade_dates(self, first: date, last: date) -> list[date]:
        out, d = [], first
        while d <= last:
            if d.weekday() in self.sessions and d not in self.holidays:
                out.append(d)
            d += timedelta(days=1)
        return out

    def session_bounds(self, first: date, last: date) -> tuple[list[date], np.ndarray, np.ndarray]:
        """Trade dates in ``[first, last]`` and their UTC ns open and close."""
        cached = self._bounds.get((first, last))
        if cached is None:
            cached = self._bounds[(first, last)] = self._compute_bounds(first, last)
        return cached

    def _compute_bounds(self, first: date, last: date) -> tuple[list[date], np.ndarray, np.ndarray]:
        zone = ZoneInfo(self.timezone)
        dates = self.trade_dates(first, last)
        opens, closes = [], []
        for d in dates:
            o, c, back = self.sessions[d.weekday()]
            c = self.early_closes.get(d, c)
            opens.append(_ns(datetime.combine(d - timedelta(days=back), o, zone)))
            closes.append(_ns(datetime.combine(d, c, zone)))
        return dates, np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64)

    def local_date(self, ts: np.ndarray) -> list[date]:
        """Local calendar date of each UTC ns timestamp (the UTC offset looked up once per hour)."""
        if not len(ts):
            return []
        zone = ZoneInfo(self.timezone)
        hours, inverse = np.unique(np.asarray(ts, dtype=np.int64) // _NS_PER_HOUR, return_inverse=True)
        memo = self._offsets
        for h in hours.tolist():
            if h not in memo:
                memo[h] = int(datetime.fromtimestamp(h * 3600, zone).utcoffset().total_seconds()) * NANOS_PER_SECOND  # type: ignore[union-attr]
        offsets = np.array([memo[h] for h in hours.tolist()], dtype=np.int64)
        local_days = (np.asarray(ts, dtype=np.int64) + offsets[inverse.ravel()]) // NANOS_PER_DAY
        uniq, back = np.unique(local_days, return_inverse=True)
        dates = [_EPOCH + timedelta(days=int(d)) for d in uniq.tolist()]
        return [dates[i] for i in back.ravel().tolist()]


def day_order_end(calendar: SessionCalendar | None, ts: int) -> int:
    """When a DAY order created at ``ts`` expires: the first session close after ``ts`` on
    ``calendar`` (an order sent after the close works in the next session), else the end of the
    UTC day."""
    if calendar is not None:
        day = calendar.local_date(np.array([ts], dtype=np.int64))[0]
        _, _, closes = calendar.session_bounds(day - timedelta(days=1), day + timedelta(days=10))
        i = int(np.searchsorted(closes, ts, side="right"))
        if i < len(closes):
            return int(closes[i])
    return (ts // NANOS_PER_DAY + 1) * NANOS_PER_DAY


def _ns(dt: datetime) -> int:
    return int(dt.timestamp()) * NANOS_PER_SECOND


def cme_globex_calendar(holidays: frozenset[date] | set[date] = frozenset(),
                        early_closes: dict[date, time] | None = None) -> SessionCalendar:
    """CME Globex (equity index, FX, rates): Sun-Fri 17:00-16:00 Chicago time, daily 16:00-17:00 break."""
    sessions = {wd: (time(17, 0), time(16, 0), 1) for wd in range(5)}  # Monday's session opens on Sunday
    return SessionCalendar("CME Globex", "America/Chicago", sessions, frozenset(holidays), dict(early_closes or {}))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _observed(d: date) -> date:
    return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d


_NYSE_SPECIAL = {date(2012, 10, 29), date(2012, 10, 30), date(2018, 12, 5), date(2025, 1, 9)}


def nyse_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """NYSE full-day closures by rule (New Year, MLK, Presidents, Good Friday, Memorial, Juneteenth
    from 2022, Independence, Labor, Thanksgiving, Christmas; Saturday -> Friday, Sunday -> Monday,
    but a Saturday New Year is not moved into the old year) plus special closures (Sandy, state funerals)."""
    out: set[date] = set()
    for y in range(first_year, last_year + 1):
        ny = date(y, 1, 1)
        if ny.weekday() != 5:
            out.add(_observed(ny))
        out.add(_nth_weekday(y, 1, 0, 3))
        out.add(_nth_weekday(y, 2, 0, 3))
        out.add(_easter(y) - timedelta(days=2))
        out.add(_last_weekday(y, 5, 0))
        if y >= 2022:
            out.add(_observed(date(y, 6, 19)))
        out.add(_observed(date(y, 7, 4)))
        out.add(_nth_weekday(y, 9, 0, 1))
        out.add(_nth_weekday(y, 11, 3, 4))
        out.add(_observed(date(y, 12, 25)))
    out |= {d for d in _NYSE_SPECIAL if first_year <= d.year <= last_year}
    return frozenset(out)


def nyse_calendar(holidays: frozenset[date] | set[date] | None = None, first_year: int = 2000,
                  last_year: int = 2030) -> SessionCalendar:
    """NYSE regular hours, Mon-Fri 09:30-16:00 New York time (holidays by rule unless given)."""
    hols = nyse_holidays(first_year, last_year) if holidays is None else frozenset(holidays)
    sessions = {wd: (time(9, 30), time(16, 0), 0) for wd in range(5)}
    return SessionCalendar("NYSE", "America/New_York", sessions, hols)


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------
