"""The embedded historical data catalog: Parquet files partitioned by data type, instrument and date.

Layout under the root folder (one file per partition, replaced as a whole on re-import)::

    root/bars/6EH4.XCME/date=2024-01-02/part-0.parquet
    root/quotes/BTCUSDT.BINANCE/date=2021-01-08/part-0.parquet
    root/bars/AAPL.XNYS/date=2013/part-0.parquet        (daily bars: one partition per year)
    root/book/ESH4.GLBX/date=2023-12-25/part-0.parquet  (order book deltas, L2 or L3)

A file holds the raw fixed-point ``int64`` columns of :mod:`tradeforge.data.columns` (``ts_event``,
``ts_init`` and the prices/sizes as raw integers), a constant dictionary-encoded ``instrument_id``
column (so SQL can filter and group by instrument), and in its schema metadata the instrument (price
and size precision, grids, multiplier, ...), the data kind and the bar interval. Raw integers only
mean something at a precision, so a write whose instrument precision differs from what the catalog
already holds for that instrument is refused.

Partitions are by UTC date of ``ts_init``: ``day`` (``date=YYYY-MM-DD``), ``month``
(``date=YYYY-MM``) or ``year`` (``date=YYYY``). The granularity is fixed per (kind, instrument) by
its first write; by default daily-or-longer bars use years, hourly bars months, everything else days.

Writing and reading go through Arrow record batches (one row group per batch): :meth:`Catalog.read`
streams one batch at a time, pruning partitions and row groups by time, so memory is bounded by the
batch size, never by the length of the history. :meth:`Catalog.query` runs DuckDB SQL over the files
with one view per data type (``bars``, ``quotes``, ``trades``, ``book``) plus an ``instruments`` table.

The ``book`` kind holds :class:`~tradeforge.data.columns.BookDeltaColumns`: order book deltas in
replay order (``action`` and ``side`` as ``int8``, ``order_id`` 0 for market-by-price deltas,
``sequence`` the source's), replayed as :class:`~tradeforge.model.data.OrderBookDelta` events.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradeforge.data.columns import BarColumns, BookDeltaColumns, Columns, QuoteColumns, TradeColumns
from tradeforge.model.identifiers import InstrumentId
from tradeforge.model.instruments import Instrument, InstrumentKind, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_DAY, NANOS_PER_SECOND

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "KINDS",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "CatalogInstrument",
    "WriteSummary",
    "normalize_kind",
]

DEFAULT_BATCH_SIZE = 65_536
FORMAT_VERSION = 1
META_KEY = b"tradeforge"
PART_FILE = "part-0.parquet"
COMPRESSION = "zstd"

#: Catalog data kinds (folder and SQL view names) and the columns class each holds.
KINDS: dict[str, type[BarColumns] | type[QuoteColumns] | type[TradeColumns] | type[BookDeltaColumns]] = {
    "bars": BarColumns,
    "quotes": QuoteColumns,
    "trades": TradeColumns,
    "book": BookDeltaColumns,
}
_FIELDS: dict[str, tuple[str, ...]] = {
    "bars": ("ts_event", "ts_init", "open", "high", "low", "close", "volume"),
    "quotes": ("ts_event", "ts_init", "bid", "ask", "bid_size", "ask_size"),
    "trades": ("ts_event", "ts_init", "price", "size", "aggressor", "trade_id"),
    "book": ("ts_event", "ts_init", "action", "side", "price", "size", "order_id", "sequence"),
}
#: Columns stored narrower than ``int64`` (per kind), with the values they may hold.
_NARROW: dict[str, dict[str, tuple[pa.DataType, tuple[int, ...]]]] = {
    "book": {"action": (pa.int8(), (1, 2, 3, 4)), "side": (pa.int8(), (-1, 0, 1))},
}
_SINGULAR = {"bar": "bars", "quote": "quotes", "trade": "trades"}
_GRANULARITIES = ("day", "month", "year")
_DATE_DIR = re.compile(r"^date=(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_HOUR_NS = 3600 * NANOS_PER_SECOND


class CatalogError(ValueError):
    """The catalog cannot do what was asked (unknown kind, precision clash, bad layout)."""


def normalize_kind(kind: str) -> str:
    """``"bar"``/``"bars"`` -> ``"bars"`` (likewise quotes, trades; ``"book"`` is one word); anything
    else raises."""
    k = _SINGULAR.get(kind, kind)
    if k not in KINDS:
        raise CatalogError(f"unknown data kind {kind!r} (known: {', '.join(KINDS)})")
    return k


# --------------------------------------------------------------------------------------------
# Instruments in schema metadata
# --------------------------------------------------------------------------------------------


def _instrument_to_dict(inst: Instrument) -> dict[str, Any]:
    return {
        "id": str(inst.id), "kind": inst.kind.value, "currency": inst.currency,
        "price_precision": inst.price_precision, "size_precision": inst.size_precision,
        "tick_size_raw": inst.tick_size_raw, "lot_size_raw": inst.lot_size_raw,
        "min_quantity_raw": inst.min_quantity_raw, "multiplier": inst.multiplier,
        "margin_init_bps": inst.margin_init_bps, "expiry_ns": inst.expiry_ns, "base_currency": inst.base_currency,
    }


def _instrument_from_dict(d: dict[str, Any]) -> Instrument:
    return Instrument(
        id=InstrumentId(d["id"]), kind=InstrumentKind(d["kind"]), currency=d["currency"],
        price_precision=int(d["price_precision"]), size_precision=int(d["size_precision"]),
        tick_size_raw=int(d["tick_size_raw"]), lot_size_raw=int(d["lot_size_raw"]),
        min_quantity_raw=int(d["min_quantity_raw"]), multiplier=int(d["multiplier"]),
        margin_init_bps=int(d["margin_init_bps"]), expiry_ns=d.get("expiry_ns"), base_currency=d.get("base_currency"),
    )


def _file_meta(path: Path | str) -> dict[str, Any]:
    meta = pq.read_schema(path).metadata or {}
    if META_KEY not in meta:
        raise CatalogError(f"{path}: not a tradeforge catalog file (no {META_KEY.decode()!r} schema metadata)")
    return json.loads(meta[META_KEY])


# --------------------------------------------------------------------------------------------
# Partitions
# --------------------------------------------------------------------------------------------


def _partition_keys(ts: np.ndarray, granularity: str) -> np.ndarray:
    """An integer key per row (days, months or years since 1970) of the UTC date of ``ts``."""
    if granularity == "day":
        return ts // NANOS_PER_DAY
    unit = "M" if granularity == "month" else "Y"
    return ts.astype("datetime64[ns]").astype(f"datetime64[{unit}]").astype(np.int64)


def _key_name(key: int, granularity: str) -> str:
    if granularity == "day":
        return "date=" + str(np.datetime64(key, "D"))
    if granularity == "month":
        return "date=" + str(np.datetime64(key, "M"))
    return "date=" + str(np.datetime64(key, "Y"))


def _dir_range(name: str) -> tuple[str, int, int] | None:
    """``(granularity, start_ns, end_ns)`` of a partition folder name; ``None`` if it is not one."""
    m = _DATE_DIR.match(name)
    if m is None:
        return None
    y, mo, d = m.groups()
    if d is not None:
        start = np.datetime64(f"{y}-{mo}-{d}", "D")
        return "day", int(start.astype("datetime64[ns]").astype(np.int64)), \
            int((start + 1).astype("datetime64[ns]").astype(np.int64))
    if mo is not None:
        start_m = np.datetime64(f"{y}-{mo}", "M")
        return "month", int(start_m.astype("datetime64[ns]").astype(np.int64)), \
            int((start_m + 1).astype("datetime64[ns]").astype(np.int64))
    start_y = np.datetime64(y, "Y")
    return "year", int(start_y.astype("datetime64[ns]").astype(np.int64)), \
        int((start_y + 1).astype("datetime64[ns]").astype(np.int64))


def _auto_granularity(kind: str, columns: Columns) -> str:
    if kind == "bars":
        interval = getattr(columns, "interval_ns", 0)
        if interval >= NANOS_PER_DAY:
            return "year"
        if interval >= _HOUR_NS:
            return "month"
    return "day"


def _safe_name(instrument_id: str) -> str:
    if not instrument_id or instrument_id in (".", "..") or any(c in instrument_id for c in "/\\\0"):
        raise CatalogError(f"instrument id {instrument_id!r} cannot be a catalog folder name")
    return instrument_id


@dataclass(frozen=True)
class _Partition:
    path: Path
    granularity: str
    start_ns: int
    end_ns: int

    @property
    def files(self) -> list[Path]:
        return sorted(self.path.glob("*.parquet"))


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    """One (data kind, instrument) series in the catalog, from the Parquet footers (no data read)."""

    kind: str
    instrument_id: str
    first_ts: int | None
    last_ts: int | None
    rows: int
    files: int
    granularity: str


@dataclass(frozen=True)
class CatalogInstrument:
    """An instrument the catalog holds data for, with the precision its raw integers are at."""

    instrument: Instrument
    kinds: tuple[str, ...]

    @property
    def instrument_id(self) -> str:
        return str(self.instrument.id)

    @property
    def price_precision(self) -> int:
        return self.instrument.price_precision

    @property
    def size_precision(self) -> int:
        return self.instrument.size_precision


@dataclass
class WriteSummary:
    """What one :meth:`Catalog.write` call wrote."""

    rows: int = 0
    partitions: list[Path] = field(default_factory=list)
    series: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, instrument) -> rows


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------


class Catalog:
    """A folder of Parquet files: ``root/{kind}/{instrument_id}/date=.../part-0.parquet``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    # -- layout --
    def _series_dir(self, kind: str, instrument_id: str) -> Path:
        return self.root / kind / _safe_name(instrument_id)

    def _partitions(self, kind: str, instrument_id: str) -> list[_Partition]:
        base = self._series_dir(kind, instrument_id)
        if not base.is_dir():
            return []
        parts = []
        for d in base.iterdir():
            r = _dir_range(d.name) if d.is_dir() else None
            if r is not None:
                parts.append(_Partition(d, *r))
        parts.sort(key=lambda p: p.start_ns)
        return parts

    def series(self) -> list[tuple[str, str]]:
        """Every ``(kind, instrument_id)`` with at least one partition, sorted."""
        out = []
        for kind in KINDS:
            kdir = self.root / kind
            if not kdir.is_dir():
                continue
            with os.scandir(kdir) as entries:
                names = sorted(e.name for e in entries if e.is_dir())
            for name in names:
                with os.scandir(kdir / name) as parts:
                    if any(p.is_dir() and _DATE_DIR.match(p.name) for p in parts):
                        out.append((kind, name))
        return out

    def files(self, kind: str, instrument_id: str | None = None) -> list[Path]:
        """The Parquet files of one kind (of one instrument, if given), in time order per instrument."""
        kind = normalize_kind(kind)
        ids = [instrument_id] if instrument_id is not None else [i for k, i in self.series() if k == kind]
        return [f for iid in ids for p in self._partitions(kind, iid) for f in p.files]

    # -- writing --
    def write(
        self,
        data: Columns | Iterable[Columns],
        instruments: Instrument | InstrumentProvider,
        *,
        partition: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> WriteSummary:
        """Write bars / quotes / trades / book delta columns, replacing every partition they touch.

        Idempotent: writing the same data again gives the same files (a partition is replaced as a
        whole, never appended to). Columns of the same kind and instrument within one call are
        concatenated first (they must be in time order). ``partition`` is ``"day"``, ``"month"`` or
        ``"year"`` (default: the series' existing granularity, else chosen from the data).

        A partition holds exactly what the last write gave for it: to build a series piece by piece
        across calls, cut the pieces at partition boundaries (or pass all pieces of one partition in
        the same call), otherwise the later piece replaces the earlier one's rows in that partition.
        """
        if partition is not None and partition not in _GRANULARITIES:
            raise CatalogError(f"partition must be one of {_GRANULARITIES}, got {partition!r}")
        if batch_size <= 0:
            raise CatalogError("batch_size must be positive")
        items = [data] if hasattr(data, "ts_init") else list(data)  # type: ignore[arg-type]
        grouped: dict[tuple[str, str], list[Columns]] = {}
        for cols in items:
            if not isinstance(cols, BarColumns | QuoteColumns | TradeColumns | BookDeltaColumns):
                raise CatalogError(
                    f"the catalog stores bars, quotes, trades and book deltas, not {type(cols).__name__}")
            grouped.setdefault((normalize_kind(cols.kind), cols.instrument_id), []).append(cols)
        summary = WriteSummary()
        for (kind, iid), parts in grouped.items():
            inst = instruments if isinstance(instruments, Instrument) else instruments.get(iid)
            if str(inst.id) != iid:
                raise CatalogError(f"columns of {iid} given with instrument {inst.id}")
            cols = parts[0] if len(parts) == 1 else _concat(parts)
            if not len(cols):
                continue
            cols.validate_sorted(f"catalog write of {kind} {iid}")
            _check_narrow(kind, cols)
            self._write_series(kind, cols, inst, partition, batch_size, summary)
        return summary

    def _write_series(self, kind: str, cols: Columns, inst: Instrument, partition: str | None, batch_size: int,
                      summary: WriteSummary) -> None:
        iid = cols.instrument_id
        existing = self._partitions(kind, iid)
        if existing:
            self._check_compatible(existing, kind, inst, cols)
            have = existing[0].granularity
            if partition is not None and partition != have:
                raise CatalogError(f"{kind} of {iid} are partitioned by {have} in this catalog, not by {partition}")
            granularity = have
        else:
            granularity = partition or _auto_granularity(kind, cols)
        ts = cols.ts_init
        keys = _partition_keys(ts, granularity)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1, [len(ts)]))
        meta = {
            "version": FORMAT_VERSION, "kind": kind, "instrument_id": iid,
            "interval_ns": int(getattr(cols, "interval_ns", 0)), "instrument": _instrument_to_dict(inst),
        }
        arrays = {name: getattr(cols, name) for name in _FIELDS[kind]}
        schema = _schema(kind, arrays, meta)
        base = self._series_dir(kind, iid)
        for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            pdir = base / _key_name(int(keys[a]), granularity)
            _write_partition(pdir, schema, arrays, iid, a, b, batch_size)
            summary.partitions.append(pdir / PART_FILE)
        summary.rows += len(ts)
        summary.series[(kind, iid)] = summary.series.get((kind, iid), 0) + len(ts)

    def _check_compatible(self, existing: list[_Partition], kind: str, inst: Instrument, cols: Columns) -> None:
        files = existing[0].files
        if not files:
            return
        meta = _file_meta(files[0])
        have = meta["instrument"]
        if (have["price_precision"], have["size_precision"]) != (inst.price_precision, inst.size_precision):
            raise CatalogError(
                f"{kind} of {inst.id}: the catalog holds raw values at price/size precision "
                f"{have['price_precision']}/{have['size_precision']}, the new data is at "
                f"{inst.price_precision}/{inst.size_precision}; use another catalog or delete the series"
            )
        interval = int(getattr(cols, "interval_ns", 0))
        if kind == "bars" and meta.get("interval_ns", 0) != interval:
            raise CatalogError(f"bars of {inst.id}: the catalog holds {meta.get('interval_ns')} ns bars, "
                               f"the new data is {interval} ns bars")

    def delete(self, kind: str, instrument_id: str) -> None:
        """Remove one series (all its partitions)."""
        path = self._series_dir(normalize_kind(kind), instrument_id)
        if path.exists():
            shutil.rmtree(path)

    # -- metadata --
    def list(self) -> list[CatalogEntry]:
        """Every series with its first/last ``ts_init``, row and file counts (from Parquet footers)."""
        out = []
        for kind, iid in self.series():
            parts = self._partitions(kind, iid)
            files = [f for p in parts for f in p.files]
            rows, first, last = 0, None, None
            for f in files:
                md = pq.read_metadata(f)
                rows += md.num_rows
                lo, hi = _ts_bounds(md)
                if lo is not None:
                    first = lo if first is None else min(first, lo)
                    last = hi if last is None else max(last, hi)  # type: ignore[type-var]
            out.append(CatalogEntry(kind, iid, first, last, rows, len(files), parts[0].granularity))
        return out

    def instruments(self) -> list[CatalogInstrument]:
        """The instruments the catalog holds data for (from the schema metadata), sorted by id."""
        found: dict[str, tuple[Instrument, list[str]]] = {}
        for kind, iid in self.series():
            inst = self.instrument(kind, iid)
            if iid in found:
                found[iid][1].append(kind)
            else:
                found[iid] = (inst, [kind])
        return [CatalogInstrument(inst, tuple(kinds)) for _, (inst, kinds) in sorted(found.items())]

    def instrument_provider(self) -> InstrumentProvider:
        """The catalog's instruments as a provider (enough to replay without the instrument file)."""
        return InstrumentProvider([ci.instrument for ci in self.instruments()])

    def instrument(self, kind: str, instrument_id: str) -> Instrument:
        """The instrument stored with one series (its raw values are at this instrument's precision)."""
        base = self._series_dir(normalize_kind(kind), instrument_id)
        files = sorted(base.glob("date=*/*.parquet")) if base.is_dir() else []
        if not files:
            raise CatalogError(f"no {normalize_kind(kind)} of {instrument_id} in {self.root}")
        return _instrument_from_dict(_file_meta(files[-1])["instrument"])  # the latest partition's

    # -- reading --
    def read(
        self,
        kind: str,
        instrument_id: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[Columns]:
        """Stream one series as columns chunks of at most ``batch_size`` rows, in time order.

        ``start_ns`` is inclusive, ``end_ns`` exclusive (``ts_init``). Partitions and row groups
        outside the window are not read; only one batch is in memory at a time. The arrays are
        read-only views of the Arrow buffers (copy them to modify).
        """
        kind = normalize_kind(kind)
        if batch_size <= 0:
            raise CatalogError("batch_size must be positive")
        cls = KINDS[kind]
        names = list(_FIELDS[kind])
        lo = -(2**63) if start_ns is None else start_ns
        hi = 2**63 - 1 if end_ns is None else end_ns
        for part in self._partitions(kind, instrument_id):
            if part.end_ns <= lo or part.start_ns >= hi:
                continue
            for path in part.files:
                pf = pq.ParquetFile(path)
                try:
                    meta = json.loads((pf.schema_arrow.metadata or {}).get(META_KEY, b"{}"))
                    extra = {"interval_ns": int(meta.get("interval_ns", 0))} if kind == "bars" else {}
                    groups = _row_groups(pf.metadata, lo, hi)
                    if not groups:
                        continue
                    for batch in pf.iter_batches(batch_size=batch_size, row_groups=groups, columns=names,
                                                 use_threads=False):
                        arrays = [_to_numpy(batch.column(i)) for i in range(len(names))]
                        ts = arrays[1]
                        a = 0 if ts[0] >= lo else int(np.searchsorted(ts, lo, side="left"))
                        b = len(ts) if ts[-1] < hi else int(np.searchsorted(ts, hi, side="left"))
                        if b <= a:
                            continue
                        if a or b < len(ts):
                            arrays = [x[a:b] for x in arrays]
                        yield cls(instrument_id, *arrays, **extra)  # type: ignore[arg-type]
                finally:
                    pf.close()

    def read_all(self, kind: str, instrument_id: str, start_ns: int | None = None,
                 end_ns: int | None = None) -> Columns:
        """The whole window in memory as one columns object (convenience for small series)."""
        chunks = list(self.read(kind, instrument_id, start_ns, end_ns))
        if not chunks:
            return _empty(normalize_kind(kind), instrument_id, self)
        return chunks[0] if len(chunks) == 1 else _concat(chunks)

    def count(self, kind: str, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
              ) -> tuple[int, int | None, int | None]:
        """``(rows, first ts_init, last ts_init)`` of a window; reads only ``ts_init`` where a file
        straddles a bound, the footers otherwise."""
        kind = normalize_kind(kind)
        lo = -(2**63) if start_ns is None else start_ns
        hi = 2**63 - 1 if end_ns is None else end_ns
        rows, first, last = 0, None, None
        for part in self._partitions(kind, instrument_id):
            if part.end_ns <= lo or part.start_ns >= hi:
                continue
            for path in part.files:
                md = pq.read_metadata(path)
                fmin, fmax = _ts_bounds(md)
                if fmin is None or fmax is None or fmax < lo or fmin >= hi:
                    continue
                if fmin >= lo and fmax < hi:
                    n, f0, f1 = md.num_rows, fmin, fmax
                else:
                    ts = _to_numpy(pq.read_table(path, columns=["ts_init"]).column(0).combine_chunks())
                    a, b = int(np.searchsorted(ts, lo, "left")), int(np.searchsorted(ts, hi, "left"))
                    if b <= a:
                        continue
                    n, f0, f1 = b - a, int(ts[a]), int(ts[b - 1])
                rows += n
                first = f0 if first is None else first
                last = f1
        return rows, first, last

    # -- SQL --
    def connect(self) -> Any:
        """A DuckDB connection with one view per data kind present (``bars``, ``quotes``, ``trades``,
        ``book``) over the Parquet files, and an ``instruments`` table (id, kind, currency, precisions, ...)."""
        import duckdb

        con = duckdb.connect()
        present = {k for k, _ in self.series()}
        for kind in KINDS:
            if kind not in present:
                continue
            pattern = str(self.root.resolve() / kind / "*" / "date=*" / "*.parquet").replace("'", "''")
            # trade ids may be integers for one instrument and text for another: unify by name there
            union = "true" if kind == "trades" else "false"
            con.execute(
                f"CREATE VIEW {kind} AS SELECT * FROM read_parquet('{pattern}', "
                f"hive_partitioning = false, union_by_name = {union})"
            )
        rows = []
        for ci in self.instruments():
            d = _instrument_to_dict(ci.instrument)
            d["instrument_id"] = d.pop("id")
            d["kinds"] = ",".join(ci.kinds)
            rows.append(d)
        cols = ", ".join(f"{f.name} {_DUCK_TYPES[f.type]}" for f in _INSTRUMENTS_SCHEMA)
        con.execute(f"CREATE TABLE instruments ({cols})")
        if rows:  # one statement (executemany costs ~1 ms a row)
            marks = "(" + ", ".join("?" * len(_INSTRUMENTS_SCHEMA)) + ")"
            con.execute(f"INSERT INTO instruments VALUES {', '.join([marks] * len(rows))}",
                        [r[f.name] for r in rows for f in _INSTRUMENTS_SCHEMA])
        return con

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run DuckDB SQL over the catalog (views ``bars``, ``quotes``, ``trades``, ``book``, ``instruments``)."""
        con = self.connect()
        try:
            return arrow_table(con.sql(sql, params=params))
        finally:
            con.close()


_DUCK_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT"}


def arrow_table(rel: Any) -> pa.Table:
    """The whole result of a DuckDB relation as an Arrow table (an empty one for a statement)."""
    if rel is None:
        return pa.table({})
    fn = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
    return fn()


def arrow_reader(rel: Any, batch_size: int = 65_536) -> pa.RecordBatchReader:
    """A DuckDB relation's result as a stream of record batches (memory bounded by the batch)."""
    if rel is None:
        return pa.RecordBatchReader.from_batches(pa.schema([]), [])
    fn = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
    return fn(batch_size)


_INSTRUMENTS_SCHEMA = pa.schema([
    ("instrument_id", pa.string()), ("kind", pa.string()), ("currency", pa.string()),
    ("price_precision", pa.int64()), ("size_precision", pa.int64()), ("tick_size_raw", pa.int64()),
    ("lot_size_raw", pa.int64()), ("min_quantity_raw", pa.int64()), ("multiplier", pa.int64()),
    ("margin_init_bps", pa.int64()), ("expiry_ns", pa.int64()), ("base_currency", pa.string()),
    ("kinds", pa.string()),
])


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _arrow_type(arr: np.ndarray) -> pa.DataType:
    if arr.dtype == object:
        return pa.string()
    if arr.dtype.kind not in "iu":
        raise CatalogError(f"catalog columns are raw integers, got dtype {arr.dtype}")
    return pa.int64()


def _schema(kind: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> pa.Schema:
    inst = meta["instrument"]
    narrow = _NARROW.get(kind, {})
    fields = [pa.field(name, narrow[name][0] if name in narrow else _arrow_type(arr), nullable=False)
              for name, arr in arrays.items()]
    fields.append(pa.field("instrument_id", pa.dictionary(pa.int32(), pa.string()), nullable=False))
    return pa.schema(fields, metadata={
        META_KEY: json.dumps(meta, sort_keys=True).encode(),
        b"kind": kind.encode(),
        b"instrument_id": meta["instrument_id"].encode(),
        b"price_precision": str(inst["price_precision"]).encode(),
        b"size_precision": str(inst["size_precision"]).encode(),
    })


def _batch(schema: pa.Schema, arrays: dict[str, np.ndarray], iid: str, start: int, stop: int) -> pa.RecordBatch:
    cols: list[pa.Array] = []
    for f, arr in zip(schema, arrays.values(), strict=False):
        part = arr[start:stop]
        cols.append(pa.array(part, type=pa.string()) if f.type == pa.string() else pa.array(part, type=f.type))
    n = stop - start
    cols.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([iid])))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def _write_partition(pdir: Path, schema: pa.Schema, arrays: dict[str, np.ndarray], iid: str, a: int, b: int,
                     batch_size: int) -> None:
    """Write rows ``a:b`` as the partition's only file: to a temporary name, then renamed over it."""
    pdir.mkdir(parents=True, exist_ok=True)
    tmp = pdir / f".{PART_FILE}.tmp-{os.getpid()}-{threading.get_ident()}"  # unique per writer
    try:
        with pq.ParquetWriter(tmp, schema, compression=COMPRESSION) as writer:
            for s in range(a, b, batch_size):
                writer.write_batch(_batch(schema, arrays, iid, s, min(s + batch_size, b)), row_group_size=batch_size)
        os.replace(tmp, pdir / PART_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    for other in pdir.iterdir():  # files of an older layout of the same partition
        if other.name != PART_FILE and other.suffix == ".parquet":
            other.unlink()


def _to_numpy(arr: pa.Array) -> np.ndarray:
    if pa.types.is_integer(arr.type) and arr.null_count == 0:
        return arr.to_numpy(zero_copy_only=True)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _ts_col(md: pq.FileMetaData) -> int | None:
    schema = md.schema
    for i in range(len(schema)):
        if schema.column(i).name == "ts_init":
            return i
    return None


def _rg_bounds(md: pq.FileMetaData, rg: int, col: int) -> tuple[int | None, int | None]:
    st = md.row_group(rg).column(col).statistics
    if st is None or not st.has_min_max:
        return None, None
    return int(st.min), int(st.max)


def _ts_bounds(md: pq.FileMetaData) -> tuple[int | None, int | None]:
    col = _ts_col(md)
    if col is None or md.num_row_groups == 0 or md.num_rows == 0:
        return None, None
    lo, _ = _rg_bounds(md, 0, col)
    _, hi = _rg_bounds(md, md.num_row_groups - 1, col)
    return lo, hi


def _row_groups(md: pq.FileMetaData, lo: int, hi: int) -> list[int]:
    """Row groups that may hold ``lo <= ts_init < hi`` (all of them where statistics are missing)."""
    col = _ts_col(md)
    out = []
    for rg in range(md.num_row_groups):
        if md.row_group(rg).num_rows == 0:
            continue
        rmin, rmax = _rg_bounds(md, rg, col) if col is not None else (None, None)
        if rmin is None or rmax is None or (rmax >= lo and rmin < hi):
            out.append(rg)
    return out


def _check_narrow(kind: str, cols: Columns) -> None:
    """Columns stored narrow (a book delta's action and side) must hold one of their codes."""
    for name, (_, allowed) in _NARROW.get(kind, {}).items():
        arr = np.asarray(getattr(cols, name))
        bad = np.flatnonzero(~np.isin(arr, allowed))
        if len(bad):
            i = int(bad[0])
            raise CatalogError(f"{kind} of {cols.instrument_id}: row {i} has {name} {arr[i]!r}, "
                               f"not one of {list(allowed)}")


def _concat(parts: list[Columns]) -> Columns:
    first = parts[0]
    arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS[normalize_kind(first.kind)]}
    extra = {"interval_ns": first.interval_ns} if isinstance(first, BarColumns) else {}
    if isinstance(first, BarColumns) and any(p.interval_ns != first.interval_ns for p in parts):  # type: ignore[attr-defined]
        raise CatalogError(f"bars of {first.instrument_id} with different intervals cannot be combined")
    return type(first)(first.instrument_id, **arrays, **extra)  # type: ignore[arg-type]


def _empty(kind: str, instrument_id: str, catalog: Catalog) -> Columns:
    z = np.zeros(0, dtype=np.int64)
    narrow = _NARROW.get(kind, {})
    arrays = {name: z.astype(narrow[name][0].to_pandas_dtype()) if name in narrow else z for name in _FIELDS[kind]}
    extra = {}
    if kind == "bars":
        files = catalog.files(kind, instrument_id)
        extra["interval_ns"] = int(_file_meta(files[0]).get("interval_ns", 0)) if files else 0
    return KINDS[kind](instrument_id, **arrays, **extra)  # type: ignore[arg-type]
