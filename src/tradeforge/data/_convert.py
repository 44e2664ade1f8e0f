"""Vectorized column conversions: numbers to exact raw integers, timestamps (ISO, formats, time
zones, session closes) to UTC nanoseconds, and ordering checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradeforge.data._rows import Rows
from tradeforge.data.errors import BadRecordError
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.timeutil import NANOS_PER_DAY, NANOS_PER_SECOND, format_timestamp_ns

_MISSING = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]
_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TS_RE = (
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_NANOS_PER_HOUR = 3600 * NANOS_PER_SECOND
_RAW_LIMIT = float(2**62)  # scaled values beyond this do not fit int64 arithmetic safely
_UTC_NAMES = {"UTC", "Etc/UTC", "GMT", "Z"}



# --------------------------------------------------------------------------------------------
# Column conversions
# --------------------------------------------------------------------------------------------


def bool_array(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def missing_mask(arr: pa.Array) -> np.ndarray:
    """Null cells, and in text columns empty or NA-like cells."""
    mask = arr.is_null()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        mask = pc.or_(mask, pc.is_in(arr, value_set=pa.array(_MISSING)))
    return bool_array(mask)


def column_type_error(rows: Rows, field: str, arr: pa.Array, expected: str) -> BadRecordError:
    return BadRecordError(rows.source, 0 if rows.unit == "row" else 1, field,
                          f"column has type {arr.type}, expected {expected}", rows.unit)


def to_float(rows: Rows, field: str) -> np.ndarray:
    """Float values of a column (NaN where bad); flags missing and non-numeric cells."""
    arr = rows.column(field)
    missing = missing_mask(arr)
    rows.checks.flag(missing, field, "missing value")
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        is_num = pc.match_substring_regex(arr, _NUMBER_RE)
        rows.checks.flag(~bool_array(is_num) & ~missing, field, "not a number")
        arr = pc.if_else(is_num, arr, pa.scalar(None, arr.type))
    elif not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type)):
        raise column_type_error(rows, field, arr, "numbers")
    values = np.asarray(pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    rows.checks.flag(np.isnan(values), field, "missing value")
    rows.checks.flag(np.isinf(values), field, "not a finite number")
    return values


def to_raw(
    rows: Rows, field: str, precision: np.ndarray, grid: np.ndarray, grid_name: str, *, positive: bool
) -> np.ndarray:
    """Exact raw integers of a decimal column at per-row ``precision``, checked against ``grid``."""
    values = to_float(rows, field)
    flag = rows.checks.flag
    if positive:
        flag(values <= 0, field, lambda i: f"non-positive value {float(values[i])!r}")
    else:
        flag(values < 0, field, lambda i: f"negative value {float(values[i])!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * np.power(10.0, precision)
        flag(np.abs(scaled) >= _RAW_LIMIT, field, lambda i: f"value {float(values[i])!r} is out of range")
        rounded = np.rint(np.where(rows.checks.ok, scaled, 0.0))
        inexact = np.abs(scaled - rounded) > np.maximum(1e-6, np.abs(rounded) * 4 * np.finfo(np.float64).eps)
    flag(inexact, field,
         lambda i: f"value {float(values[i])!r} has more than {precision[i]} decimal places")
    raw = np.where(rows.checks.ok, rounded, 0.0).astype(np.int64)
    flag(raw % grid != 0, field,
         lambda i: f"value {raw_to_str(int(raw[i]), int(precision[i]))} is off the {grid_name} grid "
         f"{raw_to_str(int(grid[i]), int(precision[i]))}")
    return raw


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm, vectorized)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    table = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return table[np.clip(m, 0, 12)] + ((m == 2) & leap)


def _int_group(parts: pa.StructArray, name: str, default: int = 0) -> np.ndarray:
    group = parts.field(name)
    group = pc.if_else(pc.equal(group, ""), pa.scalar(str(default)), group)
    return np.asarray(pc.fill_null(group, str(default)).cast(pa.int64()).to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class TimeSpec:
    """How to read the timestamp column."""

    column: str
    timezone: str = "UTC"
    format: str | None = None
    session_close_ns: int | None = None  # dates become this local time of day
    shift_ns: int = 0  # added to every stamp (interval for open-stamped bars)


def time_zone(timezone: str) -> ZoneInfo | None:
    """The zone to localize naive times in; ``None`` for UTC."""
    if timezone in _UTC_NAMES:
        return None
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}") from None


def _local_to_utc(local_ns: np.ndarray, timezone: str) -> np.ndarray:
    """UTC ns of naive local wall times; the UTC offset is looked up once per unique local hour."""
    zone = time_zone(timezone)
    if zone is None or not len(local_ns):
        return local_ns
    hours, inverse = np.unique(local_ns // _NANOS_PER_HOUR, return_inverse=True)
    epoch = datetime(1970, 1, 1)
    offsets = np.array(
        [(epoch + timedelta(hours=h)).replace(tzinfo=zone).utcoffset() // timedelta(microseconds=1) * 1000
         for h in hours.tolist()],
        dtype=np.int64,
    )
    return local_ns - offsets[inverse.ravel()]


def _parse_iso(rows: Rows, arr: pa.Array, spec: TimeSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wall-clock ns, offset ns or 0, has-offset mask) of ISO-8601-like text; flags bad cells."""
    field, flag = spec.column, rows.checks.flag
    parts = pc.extract_regex(arr, _TS_RE)
    flag(~bool_array(parts.is_valid()), field, "unparseable timestamp")
    y, mo, d = (_int_group(parts, k, 1) for k in ("y", "mo", "d"))
    h, mi, s = (_int_group(parts, k) for k in ("h", "mi", "s"))
    frac = np.asarray(pc.fill_null(pc.utf8_rpad(parts.field("f"), 9, "0"), "0").cast(pa.int64()).to_numpy(
        zero_copy_only=False))
    flag((y < 1678) | (y > 2261), field, "timestamp out of range (years 1678..2261)")
    flag((mo < 1) | (mo > 12) | (d < 1) | (d > _days_in_month(y, mo)) | (h > 23) | (mi > 59) | (s > 59),
         field, "invalid date or time")
    has_time = bool_array(pc.not_equal(parts.field("h"), ""))
    if spec.session_close_ns is None:
        flag(~has_time, field, "date without a time of day (daily bars need session_close)")
    wall = _days_from_civil(y, mo, d) * NANOS_PER_DAY + ((h * 60 + mi) * 60 + s) * NANOS_PER_SECOND + frac
    tz = parts.field("tz")
    has_offset = bool_array(pc.not_equal(tz, ""))
    sign = np.where(bool_array(pc.starts_with(tz, "-")), -1, 1)
    digits = pc.replace_substring(pc.utf8_slice_codeunits(tz, 1), ":", "")
    hhmm = np.asarray(pc.fill_null(pc.if_else(pc.equal(digits, ""), "0", digits), "0").cast(pa.int64()).to_numpy(
        zero_copy_only=False))
    offset = sign * ((hhmm // 100) * 3600 + (hhmm % 100) * 60) * NANOS_PER_SECOND
    return wall, offset, has_offset


def _parse_with_format(rows: Rows, arr: pa.Array, spec: TimeSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = pc.strptime(arr, format=spec.format, unit="ns", error_is_null=True)
    rows.checks.flag(~bool_array(parsed.is_valid()), spec.column, f"timestamp does not match format {spec.format!r}")
    ns = np.asarray(pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    utc = parsed.type.tz is not None
    return ns, np.zeros_like(ns), np.full(len(ns), utc)


def timestamps(rows: Rows, spec: TimeSpec) -> np.ndarray:
    """UTC nanosecond stamps of the timestamp column (0 where the row is flagged)."""
    arr = rows.column(spec.column)
    rows.checks.flag(missing_mask(arr), spec.column, "missing value")
    if pa.types.is_timestamp(arr.type):
        ns = arr.cast(pa.timestamp("ns", arr.type.tz)).cast(pa.int64())
        ns = np.asarray(pc.fill_null(ns, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        wall, offset, has_offset = ns, np.zeros_like(ns), np.full(len(ns), arr.type.tz is not None)
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        parse = _parse_iso if spec.format is None else _parse_with_format
        wall, offset, has_offset = parse(rows, arr, spec)
    else:
        raise column_type_error(rows, spec.column, arr, "timestamps or text")
    wall = np.where(rows.checks.ok, wall, 0)
    if spec.session_close_ns is not None:
        rows.checks.flag(wall % NANOS_PER_DAY != 0, spec.column,
                         "has a time of day, but session_close expects dates")
        local = wall - wall % NANOS_PER_DAY + spec.session_close_ns
        return _local_to_utc(local, spec.timezone) + spec.shift_ns
    utc = np.where(has_offset, wall - offset, _local_to_utc(np.where(has_offset, 0, wall), spec.timezone))
    return utc + spec.shift_ns


def check_order(rows: Rows, field: str, ts: np.ndarray, groups: dict[int, np.ndarray], *, strict: bool) -> None:
    """Flag rows whose stamp is not after (``strict``) / before every earlier good row's."""
    prev = np.zeros(len(ts), dtype=np.int64)
    bad = np.zeros(len(ts), dtype=bool)
    for idx in groups.values():
        t = ts[idx]
        if len(t) < 2:
            continue
        running = np.maximum.accumulate(t)[:-1]
        late = t[1:] <= running if strict else t[1:] < running
        bad[idx[1:][late]] = True
        prev[idx[1:][late]] = running[late]
    word = "after" if strict else "at or after"
    rows.checks.flag(bad, field, lambda i: f"timestamp {format_timestamp_ns(int(ts[i]))} is not "
                     f"{word} the previous record's {format_timestamp_ns(int(prev[i]))}")


def group_rows(codes: np.ndarray, mask: np.ndarray) -> dict[int, np.ndarray]:
    """Row indices (in file order) of each instrument code, over the rows in ``mask``."""
    idx = np.flatnonzero(mask & (codes >= 0))
    idx = idx[np.argsort(codes[idx], kind="stable")]
    if not len(idx):
        return {}
    starts = np.concatenate(([0], np.flatnonzero(np.diff(codes[idx])) + 1))
    return {int(codes[idx[s]]): part for s, part in zip(starts, np.split(idx, starts[1:]), strict=True)}


