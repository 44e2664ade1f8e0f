"""Market-data loaders: CSV bars and quotes, parquet quotes and trades, into raw fixed-point columns.

All work is vectorized (pyarrow compute and numpy); Python loops run over instruments, unique hours
or bad records only, never over the rows of a clean file. Every row is checked, and a bad row is
reported with its file, its record number (1-based line for text files, header = line 1; 0-based
row for parquet) and the field at fault. Under :attr:`BadRecordPolicy.RAISE` the first bad record
raises :class:`BadRecordError`; under ``QUARANTINE`` bad rows are dropped and returned.

Decimal values become raw integers at the instrument's precision with ``rint(value * 10**p)``,
checked to be exact (within float rounding, so exact for values of up to 15 significant digits)
and on the instrument's tick (prices) or lot (sizes) grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.instruments import Instrument, InstrumentError, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_DAY, NANOS_PER_SECOND, format_timestamp_ns

__all__ = [
    "load_csv_bars",
    "load_csv_quotes",
    "load_parquet_quotes",
    "load_parquet_trades",
]

PathLike = str | Path
Reason = str | Callable[[int], str]

_ROW = "<row>"  # field name of whole-row problems (bad encoding, wrong number of fields)
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
_BAR_FIELDS = ("open", "high", "low", "close", "volume")
_QUOTE_FIELDS = ("timestamp", "bid", "ask", "bid_size", "ask_size")
_TRADE_FIELDS = ("timestamp", "trade_id", "price", "size", "aggressor")
_TRADE_DEFAULTS = {"size": "quantity", "aggressor": "buyer_maker"}


# --------------------------------------------------------------------------------------------
# Row verdicts and the rows themselves
# --------------------------------------------------------------------------------------------


class _Checks:
    """Per-row verdicts; the first failing check of a row wins, so checks run in field order."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int32)
        self.reasons: list[tuple[str, Reason]] = []

    @property
    def ok(self) -> np.ndarray:
        return self.code < 0

    def flag(self, mask: np.ndarray, field: str, reason: Reason) -> None:
        """Mark rows in ``mask`` that have no verdict yet as bad for ``field``."""
        mask = np.asarray(mask, dtype=bool) & (self.code < 0)
        if mask.any():
            self.code[mask] = len(self.reasons)
            self.reasons.append((field, reason))


@dataclass
class _Rows:
    """Rows of one input file: typed or string columns, record numbers and raw text on demand."""

    source: str
    unit: str  # "line" (text files) or "row" (parquet)
    records: np.ndarray
    columns: dict[str, pa.Array]
    header: list[str]
    raw_text: Callable[[int], str]
    checks: _Checks

    def __len__(self) -> int:
        return len(self.records)

    def column(self, name: str) -> pa.Array:
        """The column ``name``; a missing column is a bad header (line 1 / row 0)."""
        if name not in self.columns:
            raise BadRecordError(
                self.source, 1 if self.unit == "line" else 0, name,
                f"no such column (the file has {self.header})", self.unit,
            )
        return self.columns[name]

    def has(self, name: str) -> bool:
        return name in self.columns

    def first_bad(self, field: str, reason: str, mask: np.ndarray) -> BadRecordError:
        i = int(np.flatnonzero(mask)[0])
        return BadRecordError(self.source, int(self.records[i]), field, reason, self.unit)


def _finish(rows: _Rows, policy: BadRecordPolicy) -> list[BadRecord]:
    """Raise for the first bad row (RAISE) or describe every bad row (QUARANTINE)."""
    bad = np.flatnonzero(rows.checks.code >= 0)
    records: list[BadRecord] = []
    for i in bad.tolist():
        field, reason = rows.checks.reasons[rows.checks.code[i]]
        text = reason(i) if callable(reason) else reason
        record = BadRecord(rows.source, int(rows.records[i]), field, text, rows.raw_text(i), rows.unit)
        if policy is BadRecordPolicy.RAISE:
            raise record.to_error()
        records.append(record)
    return records


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _read_bytes(path: PathLike) -> bytes:
    """The file's bytes, decompressed when the extension says so (``.gz``, ``.bz2``, ...)."""
    with pa.input_stream(str(path), compression="detect") as stream:
        return stream.read()


def _parse_header(line: bytes, source: str) -> list[str]:
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRecordError(source, 1, "<header>", "header is not valid UTF-8 text") from None
    return [name.strip().strip('"').strip() for name in text.split(",")]


def _decode_lines(lines: list[bytes]) -> tuple[pa.Array, np.ndarray]:
    """Lines as a string array plus a mask of lines that are not UTF-8 (replaced by U+FFFD)."""
    binary = pa.array(lines, pa.binary())
    try:
        return binary.cast(pa.string()), np.zeros(len(lines), dtype=bool)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    texts, invalid = [], np.zeros(len(lines), dtype=bool)
    for i, line in enumerate(lines):  # error path only: find the undecodable lines
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append("\ufffd")
            invalid[i] = True
    return pa.array(texts, pa.string()), invalid


def _clean_text(arr: pa.Array) -> pa.Array:
    """Trim whitespace and one layer of surrounding double quotes."""
    return pc.utf8_trim_whitespace(pc.utf8_trim(pc.utf8_trim_whitespace(arr), '"'))


def _read_csv(path: PathLike, wanted: Sequence[str]) -> _Rows:
    """Split a comma-separated file into string columns, one row per non-blank line.

    Quoting is not interpreted beyond stripping quotes around a field, so a physical line is
    always one record and line numbers stay exact. Rows with the wrong number of fields or bytes
    that are not UTF-8 are flagged (field ``<row>``).
    """
    source = str(path)
    lines = _read_bytes(path).splitlines()
    if not lines:
        raise BadRecordError(source, 1, "<header>", "empty file (no header line)")
    header = _parse_header(lines[0], source)
    body = lines[1:]
    text, invalid = _decode_lines(body)
    keep = np.flatnonzero(~(pc.match_substring_regex(text, r"^[ \t]*$").to_numpy(zero_copy_only=False) & ~invalid))
    text, invalid = text.take(pa.array(keep)), invalid[keep]
    n, ncols = len(keep), len(header)
    checks = _Checks(n)
    checks.flag(invalid, _ROW, "not valid UTF-8 text")
    nfields = pc.count_substring(text, ",").to_numpy(zero_copy_only=False) + 1
    wrong = nfields != ncols
    checks.flag(wrong, _ROW, lambda i: f"expected {ncols} fields, found {nfields[i]}")
    text = pc.if_else(pa.array(~wrong), text, pa.scalar("," * (ncols - 1)))
    flat = pc.list_flatten(pc.split_pattern(text, ","))
    columns = {}
    for name in wanted:
        if name in header and name not in columns:
            j = header.index(name)
            columns[name] = _clean_text(flat.take(pa.array(np.arange(j, n * ncols, ncols, dtype=np.int64))))

    def raw_text(i: int) -> str:
        return body[keep[i]].decode("utf-8", "replace")

    return _Rows(source, "line", keep + 2, columns, header, raw_text, checks)


def _read_parquet(path: PathLike, wanted: Sequence[str]) -> _Rows:
    """Read the wanted (present) columns of a parquet file; records are 0-based row indices."""
    source = str(path)
    names = pq.read_schema(path).names
    table = pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in names])
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}

    def raw_text(i: int) -> str:
        return str(table.slice(i, 1).to_pylist()[0])

    n = table.num_rows
    return _Rows(source, "row", np.arange(n, dtype=np.int64), columns, names, raw_text, _Checks(n))


# --------------------------------------------------------------------------------------------
# Column conversions
# --------------------------------------------------------------------------------------------


def _bool_np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _missing(arr: pa.Array) -> np.ndarray:
    """Null cells, and in text columns empty or NA-like cells."""
    mask = arr.is_null()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        mask = pc.or_(mask, pc.is_in(arr, value_set=pa.array(_MISSING)))
    return _bool_np(mask)


def _column_type_error(rows: _Rows, field: str, arr: pa.Array, expected: str) -> BadRecordError:
    return BadRecordError(rows.source, 0 if rows.unit == "row" else 1, field,
                          f"column has type {arr.type}, expected {expected}", rows.unit)


def _to_float(rows: _Rows, field: str) -> np.ndarray:
    """Float values of a column (NaN where bad); flags missing and non-numeric cells."""
    arr = rows.column(field)
    missing = _missing(arr)
    rows.checks.flag(missing, field, "missing value")
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        is_num = pc.match_substring_regex(arr, _NUMBER_RE)
        rows.checks.flag(~_bool_np(is_num) & ~missing, field, "not a number")
        arr = pc.if_else(is_num, arr, pa.scalar(None, arr.type))
    elif not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type)):
        raise _column_type_error(rows, field, arr, "numbers")
    values = np.asarray(pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    rows.checks.flag(np.isnan(values), field, "missing value")
    rows.checks.flag(np.isinf(values), field, "not a finite number")
    return values


def _to_raw(
    rows: _Rows, field: str, precision: np.ndarray, grid: np.ndarray, grid_name: str, *, positive: bool
) -> np.ndarray:
    """Exact raw integers of a decimal column at per-row ``precision``, checked against ``grid``."""
    values = _to_float(rows, field)
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
class _TimeSpec:
    """How to read the timestamp column."""

    column: str
    timezone: str = "UTC"
    format: str | None = None
    session_close_ns: int | None = None  # dates become this local time of day
    shift_ns: int = 0  # added to every stamp (interval for open-stamped bars)


def _zone(timezone: str) -> ZoneInfo | None:
    """The zone to localize naive times in; ``None`` for UTC."""
    if timezone in _UTC_NAMES:
        return None
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}") from None


def _local_to_utc(local_ns: np.ndarray, timezone: str) -> np.ndarray:
    """UTC ns of naive local wall times; the UTC offset is looked up once per unique local hour."""
    zone = _zone(timezone)
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


def _parse_iso(rows: _Rows, arr: pa.Array, spec: _TimeSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wall-clock ns, offset ns or 0, has-offset mask) of ISO-8601-like text; flags bad cells."""
    field, flag = spec.column, rows.checks.flag
    parts = pc.extract_regex(arr, _TS_RE)
    flag(~_bool_np(parts.is_valid()), field, "unparseable timestamp")
    y, mo, d = (_int_group(parts, k, 1) for k in ("y", "mo", "d"))
    h, mi, s = (_int_group(parts, k) for k in ("h", "mi", "s"))
    frac = np.asarray(pc.fill_null(pc.utf8_rpad(parts.field("f"), 9, "0"), "0").cast(pa.int64()).to_numpy(
        zero_copy_only=False))
    flag((y < 1678) | (y > 2261), field, "timestamp out of range (years 1678..2261)")
    flag((mo < 1) | (mo > 12) | (d < 1) | (d > _days_in_month(y, mo)) | (h > 23) | (mi > 59) | (s > 59),
         field, "invalid date or time")
    has_time = _bool_np(pc.not_equal(parts.field("h"), ""))
    if spec.session_close_ns is None:
        flag(~has_time, field, "date without a time of day (daily bars need session_close)")
    wall = _days_from_civil(y, mo, d) * NANOS_PER_DAY + ((h * 60 + mi) * 60 + s) * NANOS_PER_SECOND + frac
    tz = parts.field("tz")
    has_offset = _bool_np(pc.not_equal(tz, ""))
    sign = np.where(_bool_np(pc.starts_with(tz, "-")), -1, 1)
    digits = pc.replace_substring(pc.utf8_slice_codeunits(tz, 1), ":", "")
    hhmm = np.asarray(pc.fill_null(pc.if_else(pc.equal(digits, ""), "0", digits), "0").cast(pa.int64()).to_numpy(
        zero_copy_only=False))
    offset = sign * ((hhmm // 100) * 3600 + (hhmm % 100) * 60) * NANOS_PER_SECOND
    return wall, offset, has_offset


def _parse_with_format(rows: _Rows, arr: pa.Array, spec: _TimeSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = pc.strptime(arr, format=spec.format, unit="ns", error_is_null=True)
    rows.checks.flag(~_bool_np(parsed.is_valid()), spec.column, f"timestamp does not match format {spec.format!r}")
    ns = np.asarray(pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    utc = parsed.type.tz is not None
    return ns, np.zeros_like(ns), np.full(len(ns), utc)


def _timestamps(rows: _Rows, spec: _TimeSpec) -> np.ndarray:
    """UTC nanosecond stamps of the timestamp column (0 where the row is flagged)."""
    arr = rows.column(spec.column)
    rows.checks.flag(_missing(arr), spec.column, "missing value")
    if pa.types.is_timestamp(arr.type):
        ns = arr.cast(pa.timestamp("ns", arr.type.tz)).cast(pa.int64())
        ns = np.asarray(pc.fill_null(ns, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        wall, offset, has_offset = ns, np.zeros_like(ns), np.full(len(ns), arr.type.tz is not None)
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        parse = _parse_iso if spec.format is None else _parse_with_format
        wall, offset, has_offset = parse(rows, arr, spec)
    else:
        raise _column_type_error(rows, spec.column, arr, "timestamps or text")
    wall = np.where(rows.checks.ok, wall, 0)
    if spec.session_close_ns is not None:
        rows.checks.flag(wall % NANOS_PER_DAY != 0, spec.column,
                         "has a time of day, but session_close expects dates")
        local = wall - wall % NANOS_PER_DAY + spec.session_close_ns
        return _local_to_utc(local, spec.timezone) + spec.shift_ns
    utc = np.where(has_offset, wall - offset, _local_to_utc(np.where(has_offset, 0, wall), spec.timezone))
    return utc + spec.shift_ns


def _check_order(rows: _Rows, field: str, ts: np.ndarray, groups: dict[int, np.ndarray], *, strict: bool) -> None:
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


def _groups(codes: np.ndarray, mask: np.ndarray) -> dict[int, np.ndarray]:
    """Row indices (in file order) of each instrument code, over the rows in ``mask``."""
    idx = np.flatnonzero(mask & (codes >= 0))
    idx = idx[np.argsort(codes[idx], kind="stable")]
    if not len(idx):
        return {}
    starts = np.concatenate(([0], np.flatnonzero(np.diff(codes[idx])) + 1))
    return {int(codes[idx[s]]): part for s, part in zip(starts, np.split(idx, starts[1:]), strict=True)}


# --------------------------------------------------------------------------------------------
# Instruments
# --------------------------------------------------------------------------------------------


def _require(instruments: InstrumentProvider | None) -> InstrumentProvider:
    if instruments is None:
        raise ValueError("instruments are required: they fix each instrument's price and size precision")
    return instruments


def _instrument(instruments: InstrumentProvider | None, instrument_id: str, source: str) -> Instrument:
    try:
        return _require(instruments).get(instrument_id)
    except InstrumentError as exc:
        raise InstrumentError(f"{source}: {exc}") from None


def _symbol_codes(
    rows: _Rows, symbol_column: str, venue: str, instruments: InstrumentProvider
) -> tuple[list[Instrument], np.ndarray]:
    """Instruments (sorted by id) named by the ticker column, and each row's index into them.

    An unknown instrument raises :class:`BadRecordError` whatever the policy.
    """
    arr = rows.column(symbol_column)
    rows.checks.flag(_missing(arr), symbol_column, "missing value")
    encoded = pc.dictionary_encode(arr.cast(pa.string()))
    tickers = encoded.dictionary.to_pylist()
    index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    index = np.where(rows.checks.ok, index, -1)
    ids = [f"{t}.{venue}" for t in tickers]
    unknown = np.array([iid not in instruments for iid in ids] + [False])
    if unknown[index].any():
        mask = unknown[index]
        iid = ids[int(index[np.flatnonzero(mask)[0]])]
        raise rows.first_bad(symbol_column, f"unknown instrument {iid!r}: it is not in the instrument file", mask)
    used = sorted({ids[k] for k in np.unique(index[index >= 0]).tolist()})
    rank = {iid: r for r, iid in enumerate(used)}
    remap = np.array([rank.get(iid, -1) for iid in ids] + [-1], dtype=np.int64)
    return [instruments.get(iid) for iid in used], remap[index]


def _per_row(insts: list[Instrument], codes: np.ndarray, attr: str, sentinel: int) -> np.ndarray:
    """``attr`` of each row's instrument (``sentinel`` where the row has none)."""
    return np.array([getattr(i, attr) for i in insts] + [sentinel], dtype=np.int64)[codes]


def _grids(insts: list[Instrument], codes: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "pp": _per_row(insts, codes, "price_precision", 0),
        "tick": _per_row(insts, codes, "tick_size_raw", 1),
        "sp": _per_row(insts, codes, "size_precision", 0),
        "lot": _per_row(insts, codes, "lot_size_raw", 1),
    }


def _price(rows: _Rows, field: str, g: dict[str, np.ndarray]) -> np.ndarray:
    return _to_raw(rows, field, g["pp"], g["tick"], "tick", positive=True)


def _size(rows: _Rows, field: str, g: dict[str, np.ndarray], *, positive: bool = False) -> np.ndarray:
    return _to_raw(rows, field, g["sp"], g["lot"], "lot", positive=positive)


def _mapping(columns: dict[str, str] | None, allowed: Sequence[str], defaults: dict[str, str] | None = None
             ) -> dict[str, str]:
    """Our field name -> file column name."""
    unknown = set(columns or {}) - set(allowed)
    if unknown:
        raise ValueError(f"unknown field(s) in columns: {sorted(unknown)} (known: {list(allowed)})")
    return {name: name for name in allowed} | (defaults or {}) | (columns or {})


def _parse_session_close(session_close: str | None) -> int | None:
    if session_close is None:
        return None
    try:
        t = time.fromisoformat(session_close)
    except ValueError:
        raise ValueError(f"session_close {session_close!r} is not a time of day like '16:00'") from None
    return ((t.hour * 60 + t.minute) * 60 + t.second) * NANOS_PER_SECOND + t.microsecond * 1000


# --------------------------------------------------------------------------------------------
# Public loaders
# --------------------------------------------------------------------------------------------


def load_csv_bars(
    path: PathLike,
    *,
    instruments: InstrumentProvider | None = None,
    instrument_id: str | None = None,
    symbol_column: str | None = None,
    venue: str | None = None,
    columns: dict[str, str] | None = None,
    timestamp_column: str = "timestamp",
    timestamp_format: str | None = None,
    timezone: str = "UTC",
    timestamp_convention: Literal["open", "close"] = "close",
    interval_ns: int,
    session_close: str | None = None,
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> tuple[list[BarColumns], list[BadRecord]]:
    """Load OHLC(V) bars from a ``.csv`` / ``.csv.gz`` file: one instrument or many.

    Give ``instrument_id`` for a one-instrument file, or ``symbol_column`` and ``venue`` for a file
    of many (ids ``TICKER.VENUE``). ``columns`` maps ``open, high, low, close, volume`` to the file's
    names; without a volume column volume is -1. Datetimes are read in ``timezone`` unless they carry
    an offset; date-only stamps need ``session_close`` (local close time, e.g. ``"16:00"``).
    Open-stamped bars (``timestamp_convention="open"``) are shifted by ``interval_ns`` so that
    ``ts_event == ts_init`` is always the bar's close. Returns one :class:`BarColumns` per
    instrument, sorted by id and time, and the quarantined records.
    """
    if (instrument_id is None) == (symbol_column is None):
        raise ValueError("give exactly one of instrument_id (one-instrument file) or symbol_column")
    if symbol_column is not None and not venue:
        raise ValueError("symbol_column needs a venue (instrument ids are TICKER.VENUE)")
    if timestamp_convention not in ("open", "close"):
        raise ValueError(f"timestamp_convention must be 'open' or 'close', got {timestamp_convention!r}")
    instruments = _require(instruments)
    names = _mapping(columns, _BAR_FIELDS)
    wanted = [timestamp_column, *names.values(), *([symbol_column] if symbol_column else [])]
    _zone(timezone)
    rows = _read_csv(path, wanted)
    spec = _TimeSpec(timestamp_column, timezone, timestamp_format, _parse_session_close(session_close),
                     interval_ns if timestamp_convention == "open" else 0)
    ts = _timestamps(rows, spec)
    if symbol_column is not None:
        insts, codes = _symbol_codes(rows, symbol_column, venue or "", instruments)
    else:
        insts, codes = [_instrument(instruments, instrument_id or "", rows.source)], np.zeros(len(rows), np.int64)
    g = _grids(insts, codes)
    o, h, lo, c = (_price(rows, names[f], g) for f in ("open", "high", "low", "close"))
    has_volume = (columns is not None and "volume" in columns) or rows.has(names["volume"])
    volume = _size(rows, names["volume"], g) if has_volume else np.full(len(rows), -1, dtype=np.int64)
    rows.checks.flag(h < np.maximum(o, c), names["high"], "high is below max(open, close)")
    rows.checks.flag(lo > np.minimum(o, c), names["low"], "low is above min(open, close)")
    _check_order(rows, timestamp_column, ts, _groups(codes, rows.checks.ok), strict=True)
    bad = _finish(rows, policy)
    groups = _groups(codes, rows.checks.ok)
    if symbol_column is None:
        groups.setdefault(0, np.zeros(0, dtype=np.int64))
    bars = [
        BarColumns(str(insts[k].id), ts[idx], ts[idx].copy(), o[idx], h[idx], lo[idx], c[idx], volume[idx],
                   interval_ns)
        for k, idx in sorted(groups.items())
    ]
    return bars, bad


def _build_quotes(rows: _Rows, inst: Instrument, names: dict[str, str], spec: _TimeSpec,
                  policy: BadRecordPolicy) -> tuple[QuoteColumns, list[BadRecord]]:
    ts = _timestamps(rows, spec)
    codes = np.zeros(len(rows), dtype=np.int64)
    g = _grids([inst], codes)
    bid, ask = _price(rows, names["bid"], g), _price(rows, names["ask"], g)
    sizes = [
        _size(rows, names[f], g) if rows.has(names[f]) else np.zeros(len(rows), dtype=np.int64)
        for f in ("bid_size", "ask_size")
    ]
    rows.checks.flag(bid > ask, names["bid"], lambda i: f"crossed quote: bid {bid[i]} > ask {ask[i]} (raw)")
    _check_order(rows, spec.column, ts, _groups(codes, rows.checks.ok), strict=False)
    bad = _finish(rows, policy)
    ok = np.flatnonzero(rows.checks.ok)
    quotes = QuoteColumns(str(inst.id), ts[ok], ts[ok].copy(), bid[ok], ask[ok], sizes[0][ok], sizes[1][ok])
    return quotes, bad


def load_parquet_quotes(
    path: PathLike,
    *,
    instrument_id: str,
    instruments: InstrumentProvider,
    columns: dict[str, str] | None = None,
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> tuple[QuoteColumns, list[BadRecord]]:
    """Load top-of-book quotes (``timestamp, bid, ask, bid_size, ask_size``) from a parquet file.

    Timestamps may be a timestamp type (naive means UTC) or ISO text. ``bid == ask`` is allowed;
    ``bid > ask`` is a bad record. Records are 0-based rows.
    """
    inst = _instrument(instruments, instrument_id, str(path))
    names = _mapping(columns, _QUOTE_FIELDS)
    rows = _read_parquet(path, list(names.values()))
    return _build_quotes(rows, inst, names, _TimeSpec(names["timestamp"]), policy)


def load_csv_quotes(
    path: PathLike,
    *,
    instrument_id: str,
    instruments: InstrumentProvider,
    columns: dict[str, str] | None = None,
    timestamp_column: str = "timestamp",
    timestamp_format: str | None = None,
    timezone: str = "UTC",
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> tuple[QuoteColumns, list[BadRecord]]:
    """Load quotes from a ``timestamp,bid,ask[,bid_size,ask_size]`` CSV (TrueFX style).

    ``columns`` maps ``bid, ask, bid_size, ask_size`` to the file's names; absent sizes are 0.
    """
    inst = _instrument(instruments, instrument_id, str(path))
    names = _mapping(columns, _QUOTE_FIELDS[1:])
    _zone(timezone)
    rows = _read_csv(path, [timestamp_column, *names.values()])
    return _build_quotes(rows, inst, names, _TimeSpec(timestamp_column, timezone, timestamp_format), policy)


def _aggressor(rows: _Rows, field: str) -> np.ndarray:
    """+1 buyer / -1 seller from a buyer-is-maker flag (bool or "True"/"False" text)."""
    arr = rows.column(field)
    rows.checks.flag(_missing(arr), field, "missing value")
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        lower = pc.utf8_lower(arr)
        maker = _bool_np(pc.equal(lower, "true"))
        rows.checks.flag(~maker & ~_bool_np(pc.equal(lower, "false")), field, "not True or False")
    elif pa.types.is_boolean(arr.type):
        maker = _bool_np(arr)
    else:
        raise _column_type_error(rows, field, arr, "booleans or 'True'/'False' text")
    return np.where(maker, -1, 1).astype(np.int64)


def _trade_ids(rows: _Rows, field: str) -> np.ndarray:
    arr = rows.column(field)
    rows.checks.flag(_missing(arr), field, "missing value")
    if pa.types.is_integer(arr.type):
        return np.asarray(pc.fill_null(arr.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.asarray(arr.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def load_parquet_trades(
    path: PathLike,
    *,
    instrument_id: str,
    instruments: InstrumentProvider,
    columns: dict[str, str] | None = None,
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> tuple[TradeColumns, list[BadRecord]]:
    """Load trade prints (``timestamp, trade_id, price, size, aggressor``) from a parquet file.

    By default ``size`` is read from ``quantity`` and ``aggressor`` from ``buyer_maker`` (True:
    the buyer was the maker, so the seller aggressed: -1; False: +1). Records are 0-based rows.
    """
    inst = _instrument(instruments, instrument_id, str(path))
    names = _mapping(columns, _TRADE_FIELDS, _TRADE_DEFAULTS)
    rows = _read_parquet(path, list(names.values()))
    ts = _timestamps(rows, _TimeSpec(names["timestamp"]))
    trade_id = _trade_ids(rows, names["trade_id"])
    codes = np.zeros(len(rows), dtype=np.int64)
    g = _grids([inst], codes)
    price = _price(rows, names["price"], g)
    size = _size(rows, names["size"], g, positive=True)
    aggressor = _aggressor(rows, names["aggressor"])
    _check_order(rows, names["timestamp"], ts, _groups(codes, rows.checks.ok), strict=False)
    bad = _finish(rows, policy)
    ok = np.flatnonzero(rows.checks.ok)
    trades = TradeColumns(str(inst.id), ts[ok], ts[ok].copy(), price[ok], size[ok], aggressor[ok], trade_id[ok])
    return trades, bad
