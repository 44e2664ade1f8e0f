"""Data integrity checks that every source goes through, and session calendars for gap checks.

``validate(columns, instrument, source, policy, calendar=None)`` checks one stream (bars, quotes,
trades or market-by-order records) and returns an :class:`IntegrityReport` that counts issues by
kind and lists each one (source, record, field, reason). Records are 0-based rows of the columns.

Each kind has a severity (:class:`Severity`, configurable through :class:`IntegrityConfig`):

- **errors** (default): timestamps going backwards (``NON_MONOTONIC``; for bars also a repeated
  timestamp), ``DUPLICATE`` (same timestamp and same values), ``CROSSED`` quotes (bid > ask),
  ``NON_POSITIVE`` prices or sizes, ``OFF_TICK`` prices / off-lot sizes, ``OHLC`` (high/low not
  enclosing open/close). Under ``RAISE`` the first error raises :class:`BadRecordError`; under
  ``QUARANTINE`` the report holds the clean columns and the bad records.
- **warnings**: ``LOCKED`` quotes (bid == ask), ``OUTLIER`` (|log return| beyond ``k`` times the
  rolling median absolute deviation of the previous returns), ``GAP`` (bars missing against a
  :class:`SessionCalendar`), ``OFF_SESSION`` (a bar outside every session), ``SEQUENCE_GAP``
  (sequence numbers skipping or going back). Warnings never drop data.
"""

from __future__ import annotations

import bisect
import dataclasses
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import numpy as np

from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy
from tradeforge.model.calendar import SessionCalendar, cme_globex_calendar, nyse_calendar, nyse_holidays
from tradeforge.model.instruments import Instrument
from tradeforge.model.timeutil import NANOS_PER_DAY, format_timestamp_ns

__all__ = [
    "IntegrityConfig",
    "IntegrityReport",
    "Issue",
    "IssueKind",
    "SessionCalendar",
    "Severity",
    "cme_globex_calendar",
    "nyse_calendar",
    "nyse_holidays",
    "validate",
]


class IssueKind(Enum):
    NON_MONOTONIC = "non_monotonic"
    DUPLICATE = "duplicate"
    CROSSED = "crossed"
    LOCKED = "locked"
    NON_POSITIVE = "non_positive"
    OFF_TICK = "off_tick"
    OHLC = "ohlc"
    OUTLIER = "outlier"
    GAP = "gap"
    OFF_SESSION = "off_session"
    SEQUENCE_GAP = "sequence_gap"


class Severity(Enum):
    ERROR = "error"  # a bad record: raises (RAISE) or is dropped (QUARANTINE)
    WARNING = "warning"  # reported, data kept
    IGNORE = "ignore"  # not checked


DEFAULT_SEVERITY = {
    IssueKind.NON_MONOTONIC: Severity.ERROR,
    IssueKind.DUPLICATE: Severity.ERROR,
    IssueKind.CROSSED: Severity.ERROR,
    IssueKind.LOCKED: Severity.WARNING,
    IssueKind.NON_POSITIVE: Severity.ERROR,
    IssueKind.OFF_TICK: Severity.ERROR,
    IssueKind.OHLC: Severity.ERROR,
    IssueKind.OUTLIER: Severity.WARNING,
    IssueKind.GAP: Severity.WARNING,
    IssueKind.OFF_SESSION: Severity.WARNING,
    IssueKind.SEQUENCE_GAP: Severity.WARNING,
}
_WARN_ONLY = {IssueKind.GAP, IssueKind.OFF_SESSION, IssueKind.SEQUENCE_GAP}  # nothing to drop


@dataclass(frozen=True)
class IntegrityConfig:
    """Tunables: severities by kind, outlier rule (``k`` MADs over a trailing ``window`` of returns)."""

    severity: dict[IssueKind, Severity] = field(default_factory=dict)
    outlier_k: float = 10.0
    outlier_window: int = 50
    outlier_min_periods: int = 10

    def of(self, kind: IssueKind) -> Severity:
        sev = self.severity.get(kind, DEFAULT_SEVERITY[kind])
        if kind in _WARN_ONLY and sev is Severity.ERROR:
            raise ValueError(f"{kind.value} issues are warnings or ignored; they cannot drop records")
        return sev


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    severity: Severity
    source: str
    record: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source} row {self.record} field {self.field!r}: {self.kind.value}: {self.reason}"


@dataclass
class IntegrityReport:
    """Issues by kind; under QUARANTINE ``clean`` lacks the ``bad`` records (else it is the input)."""

    source: str
    n_records: int
    issues: list[Issue]
    clean: Any
    bad: list[BadRecord]
    missing_bars: int = 0  # bars expected by the calendar and absent (sum over GAP issues)
    gap_runs: list[tuple[Any, Any, int]] = field(default_factory=list)  # (first, last, count) missing closes

    @property
    def counts(self) -> dict[IssueKind, int]:
        return dict(Counter(i.kind for i in self.issues))

    def count(self, kind: IssueKind) -> int:
        return sum(1 for i in self.issues if i.kind is kind)

    def of_kind(self, kind: IssueKind) -> list[Issue]:
        return [i for i in self.issues if i.kind is kind]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------------------------
# Session calendars
# --------------------------------------------------------------------------------------------

class _Collector:
    def __init__(self, source: str, n: int, config: IntegrityConfig, policy: BadRecordPolicy) -> None:
        self.source, self.config, self.policy = source, config, policy
        self.issues: list[Issue] = []
        self.bad = np.zeros(n, dtype=bool)
        self.first_error: Issue | None = None

    def enabled(self, kind: IssueKind) -> bool:
        return self.config.of(kind) is not Severity.IGNORE

    def flag(self, kind: IssueKind, mask: np.ndarray, fld: str, reason) -> None:
        sev = self.config.of(kind)
        if sev is Severity.IGNORE:
            return
        for i in np.flatnonzero(mask).tolist():
            self.add(Issue(kind, sev, self.source, i, fld, reason(i) if callable(reason) else reason))

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)
        if issue.severity is Severity.ERROR:
            if self.policy is BadRecordPolicy.RAISE:
                raise BadRecordError(issue.source, issue.record, issue.field, f"{issue.kind.value}: {issue.reason}",
                                     "row")
            self.bad[issue.record] = True


def _ts(t: int) -> str:
    return format_timestamp_ns(int(t))


def _check_time_order(c: _Collector, ts: np.ndarray, values: list[np.ndarray], strict: bool) -> None:
    if len(ts) < 2:
        return
    running = np.maximum.accumulate(ts)
    back = np.zeros(len(ts), dtype=bool)
    back[1:] = ts[1:] < running[:-1]
    c.flag(IssueKind.NON_MONOTONIC, back, "ts_init",
           lambda i: f"timestamp {_ts(ts[i])} is before an earlier record's {_ts(running[i - 1])}")
    # duplicates: same timestamp and same values as an earlier record
    order = np.lexsort([np.arange(len(ts)), *values[::-1], ts])
    same = np.ones(len(ts) - 1, dtype=bool)
    for arr in (ts, *values):
        s = arr[order]
        same &= s[1:] == s[:-1]
    dup = np.zeros(len(ts), dtype=bool)
    dup[order[1:][same]] = True
    first = {int(order[k + 1]): int(order[k]) for k in np.flatnonzero(same).tolist()}
    c.flag(IssueKind.DUPLICATE, dup & ~back, "<row>", lambda i: f"same timestamp and values as row {first[i]}")
    if strict:  # bars: one bar per timestamp
        rep = np.zeros(len(ts), dtype=bool)
        rep[1:] = ts[1:] == ts[:-1]
        c.flag(IssueKind.NON_MONOTONIC, rep & ~dup & ~back, "ts_init",
               lambda i: f"a second bar at {_ts(ts[i])} with different values")


def _check_prices(c: _Collector, inst: Instrument, prices: dict[str, np.ndarray], mask: np.ndarray | None = None) -> None:
    for name, p in prices.items():
        m = np.ones(len(p), dtype=bool) if mask is None else mask
        c.flag(IssueKind.NON_POSITIVE, m & (p <= 0), name, lambda i, p=p: f"non-positive price {int(p[i])} (raw)")
        c.flag(IssueKind.OFF_TICK, m & (p > 0) & (p % inst.tick_size_raw != 0), name,
               lambda i, p=p: f"price {int(p[i])} (raw) is off the tick {inst.tick_size_raw}")


def _check_sizes(c: _Collector, inst: Instrument, sizes: dict[str, np.ndarray], positive: bool,
                 mask: np.ndarray | None = None) -> None:
    for name, q in sizes.items():
        m = np.ones(len(q), dtype=bool) if mask is None else mask
        bad = (q <= 0) if positive else (q < 0)
        c.flag(IssueKind.NON_POSITIVE, m & bad, name, lambda i, q=q: f"{'non-positive' if positive else 'negative'} "
               f"size {int(q[i])} (raw)")
        c.flag(IssueKind.OFF_TICK, m & (q > 0) & (q % inst.lot_size_raw != 0), name,
               lambda i, q=q: f"size {int(q[i])} (raw) is off the lot {inst.lot_size_raw}")


def _check_outliers(c: _Collector, price: np.ndarray, fld: str, inst: Instrument) -> None:
    """Flag |r_i - median| > k * robust scale of the previous ``window`` returns.

    The scale is ``max(1.4826 * MAD, 1.2533 * mean absolute deviation, one tick's return)``.
    """
    cfg = c.config
    if not c.enabled(IssueKind.OUTLIER) or len(price) < cfg.outlier_min_periods + 2:
        return
    p = price.astype(np.float64)
    valid = p > 0
    if not valid.all():
        return
    r = np.diff(np.log(p))
    w = cfg.outlier_window
    padded = np.concatenate([np.full(w, np.nan), r])
    flags = np.zeros(len(price), dtype=bool)
    scale_out = np.zeros(len(price))
    chunk = 65_536
    for s in range(0, len(r), chunk):
        e = min(len(r), s + chunk)
        win = np.lib.stride_tricks.sliding_window_view(padded[s:e + w - 1], w)  # returns before r[j]
        counts = np.sum(~np.isnan(win), axis=1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows at the start
            full = counts == w  # windows without NaN (all but the first few): the fast, plain median
            med = np.empty(len(win))
            med[full] = np.median(win[full], axis=1)
            med[~full] = np.nanmedian(win[~full], axis=1)
            dev = np.abs(win - med[:, None])
            mad = np.empty(len(win))
            mad[full] = np.median(dev[full], axis=1)
            mad[~full] = np.nanmedian(dev[~full], axis=1)
            mean_ad = np.nanmean(dev, axis=1)
        tick_r = np.log1p(inst.tick_size_raw / p[s:e])  # a one-tick move is never an outlier
        # MAD is 0 when most returns are 0 (tick data): fall back to the mean absolute deviation
        scale = np.maximum(np.maximum(1.4826 * np.nan_to_num(mad), 1.2533 * np.nan_to_num(mean_ad)), tick_r)
        big = (counts >= cfg.outlier_min_periods) & (np.abs(r[s:e] - np.nan_to_num(med)) > cfg.outlier_k * scale)
        flags[s + 1:e + 1] = big
        scale_out[s + 1:e + 1] = scale
    c.flag(IssueKind.OUTLIER, flags, fld,
           lambda i: f"log return {float(np.log(p[i] / p[i - 1])):+.6f} beyond {cfg.outlier_k:g} x "
           f"robust scale {scale_out[i]:.6f}")


def _check_gaps(c: _Collector, bars: BarColumns, calendar: SessionCalendar, runs_out: list) -> int:
    """GAP for runs of bars the calendar expects and the data lacks; OFF_SESSION for bars outside sessions."""
    ts = bars.ts_event
    if not len(ts) or not (c.enabled(IssueKind.GAP) or c.enabled(IssueKind.OFF_SESSION)):
        return 0
    step = bars.interval_ns
    first = calendar.local_date(ts[:1])[0] - timedelta(days=1)
    last = calendar.local_date(ts[-1:])[0] + timedelta(days=4)
    dates, opens, closes = calendar.session_bounds(first, last)
    missing = 0
    if step <= 0 or step >= NANOS_PER_DAY:  # daily bars: one per trade date (the local date of the close)
        bar_dates = calendar.local_date(ts)
        have = set(bar_dates)
        lo, hi = min(have), max(have)
        expected = [d for d in dates if lo <= d <= hi]
        exp_set = set(expected)
        c.flag(IssueKind.OFF_SESSION, np.array([d not in exp_set for d in bar_dates]), "ts_event",
               lambda i: f"bar on {bar_dates[i]}, which is not a trade date of {calendar.name}")
        pos = {d: k for k, d in enumerate(expected)}
        present = np.zeros(len(expected), dtype=bool)
        present[[pos[d] for d in have if d in pos]] = True
        runs = _runs(~present)
        for a, b in runs:
            n = b - a
            missing += n
            runs_out.append((expected[a], expected[b - 1], n))
            rec = bisect.bisect_left(bar_dates, expected[a])  # the first bar after the gap
            c.add(Issue(IssueKind.GAP, c.config.of(IssueKind.GAP), c.source, min(rec, len(ts) - 1), "ts_event",
                        f"{n} missing daily bar(s): {expected[a]}..{expected[b - 1]}"))
        return missing if c.enabled(IssueKind.GAP) else 0
    # intraday: closes on the grid (open + k*step, close], inside the data's span
    grids = [np.arange(o + step, cl + 1, step, dtype=np.int64) for o, cl in zip(opens.tolist(), closes.tolist(),
                                                                                 strict=True)]
    expected = np.concatenate(grids) if grids else np.zeros(0, np.int64)
    expected = expected[(expected >= ts[0]) & (expected <= ts[-1])]
    # a bar [t - step, t) is in session when it lies inside some [open, close]
    k = np.searchsorted(opens, ts - step, side="right") - 1
    inside = (k >= 0) & (ts <= closes[np.clip(k, 0, None)])
    c.flag(IssueKind.OFF_SESSION, ~inside, "ts_event", lambda i: f"bar closing {_ts(ts[i])} is outside "
           f"{calendar.name} sessions")
    absent = ~np.isin(expected, ts)
    for a, b in _runs(absent):
        n = b - a
        missing += n
        runs_out.append((int(expected[a]), int(expected[b - 1]), n))
        rec = int(np.searchsorted(ts, expected[a]))
        c.add(Issue(IssueKind.GAP, c.config.of(IssueKind.GAP), c.source, min(rec, len(ts) - 1), "ts_event",
                    f"{n} missing bar(s) closing {_ts(expected[a])}..{_ts(expected[b - 1])}"))
    return missing if c.enabled(IssueKind.GAP) else 0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True."""
    if not len(mask):
        return []
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _check_sequence(c: _Collector, seq: np.ndarray, skip: np.ndarray | None = None) -> None:
    if len(seq) < 2 or not c.enabled(IssueKind.SEQUENCE_GAP):
        return
    idx = np.arange(len(seq)) if skip is None else np.flatnonzero(~skip)
    s = seq[idx]
    d = np.diff(s)
    jump = np.flatnonzero((d > 1) | (d < 0))
    sev = c.config.of(IssueKind.SEQUENCE_GAP)
    for j in jump.tolist():
        i = int(idx[j + 1])
        reason = (f"sequence went back from {int(s[j])} to {int(s[j + 1])}" if d[j] < 0
                  else f"sequence jumped from {int(s[j])} to {int(s[j + 1])} ({int(d[j]) - 1} missing)")
        c.add(Issue(IssueKind.SEQUENCE_GAP, sev, c.source, i, "sequence", reason))


def validate(
    columns: Any,
    instrument: Instrument,
    source: str,
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
    calendar: SessionCalendar | None = None,
    *,
    config: IntegrityConfig | None = None,
    sequence: np.ndarray | None = None,
) -> IntegrityReport:
    """Check one stream of one instrument (bars, quotes, trades or MBO columns); see the module doc.

    ``calendar`` enables the gap check for bars; ``sequence`` (or the columns' own ``sequence``)
    enables the sequence-gap check.
    """
    config = config or IntegrityConfig()
    n = len(columns)
    c = _Collector(source, n, config, policy)
    runs: list[tuple[Any, Any, int]] = []
    if isinstance(columns, BarColumns):
        o, h, lo, cl, v = columns.open, columns.high, columns.low, columns.close, columns.volume
        _check_time_order(c, columns.ts_init, [o, h, lo, cl, v], strict=True)
        _check_prices(c, instrument, {"open": o, "high": h, "low": lo, "close": cl})
        c.flag(IssueKind.NON_POSITIVE, (v < 0) & (v != -1), "volume", lambda i: f"negative volume {int(v[i])}")
        c.flag(IssueKind.OHLC, h < np.maximum(o, cl), "high", "high is below max(open, close)")
        c.flag(IssueKind.OHLC, lo > np.minimum(o, cl), "low", "low is above min(open, close)")
        _check_outliers(c, cl, "close", instrument)
        missing = _check_gaps(c, columns, calendar, runs) if calendar is not None else 0
    elif isinstance(columns, QuoteColumns):
        b, a = columns.bid, columns.ask
        _check_time_order(c, columns.ts_init, [b, a, columns.bid_size, columns.ask_size], strict=False)
        _check_prices(c, instrument, {"bid": b, "ask": a})
        _check_sizes(c, instrument, {"bid_size": columns.bid_size, "ask_size": columns.ask_size}, positive=False)
        c.flag(IssueKind.CROSSED, b > a, "bid", lambda i: f"crossed quote: bid {int(b[i])} > ask {int(a[i])} (raw)")
        c.flag(IssueKind.LOCKED, b == a, "bid", lambda i: f"locked quote: bid == ask == {int(b[i])} (raw)")
        _check_outliers(c, (b.astype(np.int64) + a) // 2, "bid", instrument)
        missing = 0
    elif isinstance(columns, TradeColumns):
        tid = columns.trade_id
        tid_key = tid if tid.dtype != object else np.unique(tid.astype(str), return_inverse=True)[1].ravel()
        _check_time_order(c, columns.ts_init, [columns.price, columns.size, columns.aggressor, tid_key], strict=False)
        _check_prices(c, instrument, {"price": columns.price})
        _check_sizes(c, instrument, {"size": columns.size}, positive=True)
        _check_outliers(c, columns.price, "price", instrument)
        missing = 0
    elif hasattr(columns, "order_id") and hasattr(columns, "action"):  # market-by-order (databento.MboColumns)
        from tradeforge.data.databento import _BOOK_SIDED, _PRICED, F_SNAPSHOT

        priced = np.isin(columns.action, _PRICED)
        # one resting order can be filled twice in one match event with identical fields: F/T/N rows
        # are told apart by position, so only book actions (A/C/M/R) can be duplicates
        distinct = np.where(np.isin(columns.action, _BOOK_SIDED), -1, np.arange(n))
        _check_time_order(c, columns.ts_init, [columns.ts_event, columns.action, columns.side, columns.price,
                                               columns.size, columns.order_id, columns.sequence, distinct],
                          strict=False)
        _check_prices(c, instrument, {"price": columns.price}, priced)
        _check_sizes(c, instrument, {"size": columns.size}, positive=True, mask=priced)
        if sequence is None:
            _check_sequence(c, columns.sequence, (columns.flags & F_SNAPSHOT) != 0)
        missing = 0
    else:
        raise TypeError(f"validate: unsupported columns {type(columns).__name__}")
    if sequence is not None:
        _check_sequence(c, np.asarray(sequence))

    bad_records: list[BadRecord] = []
    clean = columns
    if c.bad.any():
        first_error: dict[int, Issue] = {}
        for issue in c.issues:
            if issue.severity is Severity.ERROR:
                first_error.setdefault(issue.record, issue)
        bad_records = [BadRecord(source, i, e.field, f"{e.kind.value}: {e.reason}", _row_text(columns, i), "row")
                       for i, e in sorted(first_error.items())]
        clean = _take(columns, np.flatnonzero(~c.bad))
    c.issues.sort(key=lambda i: (i.record, i.kind.value))
    return IntegrityReport(source, n, c.issues, clean, bad_records, missing, runs)


def _arrays(columns: Any) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(columns).items() if isinstance(v, np.ndarray)}


def _take(columns: Any, keep: np.ndarray) -> Any:
    return dataclasses.replace(columns, **{k: v[keep] for k, v in _arrays(columns).items()})


def _row_text(columns: Any, i: int) -> str:
    return ", ".join(f"{k}={v[i]}" for k, v in _arrays(columns).items())
