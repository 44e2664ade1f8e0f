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

from collections.abc import Sequence
from datetime import time
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradeforge.data._convert import (
    TimeSpec,
    bool_array,
    check_order,
    column_type_error,
    group_rows,
    missing_mask,
    time_zone,
    timestamps,
    to_raw,
)
from tradeforge.data._rows import Rows, finish, read_csv, read_parquet
from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordPolicy
from tradeforge.model.instruments import Instrument, InstrumentError, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_SECOND

__all__ = [
    "load_csv_bars",
    "load_csv_quotes",
    "load_parquet_quotes",
    "load_parquet_trades",
]


PathLike = str | Path

_BAR_FIELDS = ("open", "high", "low", "close", "volume")
_QUOTE_FIELDS = ("timestamp", "bid", "ask", "bid_size", "ask_size")
_TRADE_FIELDS = ("timestamp", "trade_id", "price", "size", "aggressor")
_TRADE_DEFAULTS = {"size": "quantity", "aggressor": "buyer_maker"}



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
    rows: Rows, symbol_column: str, venue: str, instruments: InstrumentProvider
) -> tuple[list[Instrument], np.ndarray]:
    """Instruments (sorted by id) named by the ticker column, and each row's index into them.

    An unknown instrument raises :class:`BadRecordError` whatever the policy.
    """
    arr = rows.column(symbol_column)
    rows.checks.flag(missing_mask(arr), symbol_column, "missing value")
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


def _price(rows: Rows, field: str, g: dict[str, np.ndarray]) -> np.ndarray:
    return to_raw(rows, field, g["pp"], g["tick"], "tick", positive=True)


def _size(rows: Rows, field: str, g: dict[str, np.ndarray], *, positive: bool = False) -> np.ndarray:
    return to_raw(rows, field, g["sp"], g["lot"], "lot", positive=positive)


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
    time_zone(timezone)  # an unknown zone is an error before any row is read
    rows = read_csv(path, wanted)
    spec = TimeSpec(timestamp_column, timezone, timestamp_format, _parse_session_close(session_close),
                     interval_ns if timestamp_convention == "open" else 0)
    ts = timestamps(rows, spec)
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
    check_order(rows, timestamp_column, ts, group_rows(codes, rows.checks.ok), strict=True)
    bad = finish(rows, policy)
    groups = group_rows(codes, rows.checks.ok)
    if symbol_column is None:
        groups.setdefault(0, np.zeros(0, dtype=np.int64))
    bars = [
        BarColumns(str(insts[k].id), ts[idx], ts[idx].copy(), o[idx], h[idx], lo[idx], c[idx], volume[idx],
                   interval_ns)
        for k, idx in sorted(groups.items())
    ]
    return bars, bad


def _build_quotes(rows: Rows, inst: Instrument, names: dict[str, str], spec: TimeSpec,
                  policy: BadRecordPolicy) -> tuple[QuoteColumns, list[BadRecord]]:
    ts = timestamps(rows, spec)
    codes = np.zeros(len(rows), dtype=np.int64)
    g = _grids([inst], codes)
    bid, ask = _price(rows, names["bid"], g), _price(rows, names["ask"], g)
    sizes = [
        _size(rows, names[f], g) if rows.has(names[f]) else np.zeros(len(rows), dtype=np.int64)
        for f in ("bid_size", "ask_size")
    ]
    rows.checks.flag(bid > ask, names["bid"], lambda i: f"crossed quote: bid {bid[i]} > ask {ask[i]} (raw)")
    check_order(rows, spec.column, ts, group_rows(codes, rows.checks.ok), strict=False)
    bad = finish(rows, policy)
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
    rows = read_parquet(path, list(names.values()))
    return _build_quotes(rows, inst, names, TimeSpec(names["timestamp"]), policy)


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
    time_zone(timezone)  # an unknown zone is an error before any row is read
    rows = read_csv(path, [timestamp_column, *names.values()])
    return _build_quotes(rows, inst, names, TimeSpec(timestamp_column, timezone, timestamp_format), policy)


def _aggressor(rows: Rows, field: str) -> np.ndarray:
    """+1 buyer / -1 seller from a buyer-is-maker flag (bool or "True"/"False" text)."""
    arr = rows.column(field)
    rows.checks.flag(missing_mask(arr), field, "missing value")
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        lower = pc.utf8_lower(arr)
        maker = bool_array(pc.equal(lower, "true"))
        rows.checks.flag(~maker & ~bool_array(pc.equal(lower, "false")), field, "not True or False")
    elif pa.types.is_boolean(arr.type):
        maker = bool_array(arr)
    else:
        raise column_type_error(rows, field, arr, "booleans or 'True'/'False' text")
    return np.where(maker, -1, 1).astype(np.int64)


def _trade_ids(rows: Rows, field: str) -> np.ndarray:
    arr = rows.column(field)
    rows.checks.flag(missing_mask(arr), field, "missing value")
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
    rows = read_parquet(path, list(names.values()))
    ts = timestamps(rows, TimeSpec(names["timestamp"]))
    trade_id = _trade_ids(rows, names["trade_id"])
    codes = np.zeros(len(rows), dtype=np.int64)
    g = _grids([inst], codes)
    price = _price(rows, names["price"], g)
    size = _size(rows, names["size"], g, positive=True)
    aggressor = _aggressor(rows, names["aggressor"])
    check_order(rows, names["timestamp"], ts, group_rows(codes, rows.checks.ok), strict=False)
    bad = finish(rows, policy)
    ok = np.flatnonzero(rows.checks.ok)
    trades = TradeColumns(str(inst.id), ts[ok], ts[ok].copy(), price[ok], size[ok], aggressor[ok], trade_id[ok])
    return trades, bad

