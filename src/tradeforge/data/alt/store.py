"""Custom typed events as Parquet datasets next to the market-data catalog.

Layout: ``root/custom/{data_type}/date=YYYY/part-0.parquet`` (partitioned by the UTC year of
``ts_init``, rows sorted by ``ts_init``; a write replaces the partitions it touches, like the
catalog's). The catalog (:class:`tradeforge.data.catalog.Catalog`) only looks at its own kind folders,
so both share one root. Columns are the struct's fields (Arrow types inferred from the values); the
schema metadata names the struct and its fields, and reading into another struct type is refused.
:meth:`CustomDataStore.query` runs DuckDB SQL with one view per data type.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradeforge.data.catalog import arrow_table

T = TypeVar("T", bound=msgspec.Struct)
META_KEY = b"tradeforge_custom"
PART_FILE = "part-0.parquet"
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _year(ts_ns: int) -> int:
    return dt.datetime.fromtimestamp(ts_ns // 10**9, dt.UTC).year


def _fields(cls: type[msgspec.Struct]) -> list[str]:
    return [f.name for f in msgspec.structs.fields(cls)]


def known_before(event_ts_init: np.ndarray, at_ts: np.ndarray) -> np.ndarray:
    """For each time in ``at_ts``: how many events (sorted ``ts_init``) were received strictly before
    it -- the events a decision at that time may use (ties go to the bar, as in replay when the
    custom data stream is added after the bars)."""
    return np.searchsorted(np.asarray(event_ts_init), np.asarray(at_ts), side="left")


class CustomDataStore:
    """Typed events of any msgspec struct with ``ts_event`` and ``ts_init`` fields."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, data_type: str) -> Path:
        if not _NAME.match(data_type):
            raise ValueError(f"data type {data_type!r} must be a lower-case identifier")
        return self.root / "custom" / data_type

    def data_types(self) -> list[str]:
        base = self.root / "custom"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.exists() else []

    def files(self, data_type: str) -> list[Path]:
        base = self._dir(data_type)
        return sorted(base.glob(f"date=*/{PART_FILE}")) if base.exists() else []

    def write(self, data_type: str, events: Iterable[msgspec.Struct]) -> int:
        """Store ``events`` (all of one struct type); returns the number of rows written."""
        events = sorted(events, key=lambda e: e.ts_init)  # type: ignore[attr-defined]
        if not events:
            return 0
        cls = type(events[0])
        if any(type(e) is not cls for e in events):
            raise ValueError(f"custom data {data_type!r}: all events must be {cls.__name__}")
        names = _fields(cls)
        if "ts_event" not in names or "ts_init" not in names:
            raise ValueError(f"{cls.__name__} needs ts_event and ts_init fields")
        meta = {"version": 1, "data_type": data_type, "struct": f"{cls.__module__}:{cls.__qualname__}",
                "fields": names}
        by_year: dict[int, list[Any]] = {}
        for e in events:
            by_year.setdefault(_year(e.ts_init), []).append(e)  # type: ignore[attr-defined]
        for year, rows in by_year.items():
            cols = {n: [getattr(r, n) for r in rows] for n in names}
            cols = {n: [list(v) if isinstance(v, tuple) else v for v in vals] for n, vals in cols.items()}
            table = pa.table({n: pa.array(v, pa.int64() if n in ("ts_event", "ts_init") else None)
                              for n, v in cols.items()})
            table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
            part = self._dir(data_type) / f"date={year:04d}"
            if part.exists():
                shutil.rmtree(part)
            part.mkdir(parents=True)
            pq.write_table(table, part / PART_FILE, compression="zstd")
        return len(events)

    def read(self, data_type: str, cls: type[T], start: int | None = None, end: int | None = None) -> list[T]:
        """Events with ``start <= ts_init < end`` as ``cls`` instances, in ``ts_init`` order."""
        out: list[T] = []
        want = _fields(cls)
        for f in self.files(data_type):
            if start is not None and int(f.parent.name[5:]) < _year(start):
                continue
            if end is not None and int(f.parent.name[5:]) > _year(end):
                continue
            table = pq.read_table(f)
            meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
            if meta.get("fields") != want:
                raise ValueError(f"{f} holds {meta.get('struct')} fields {meta.get('fields')}, not {cls.__name__} {want}")
            ts = table.column("ts_init").to_numpy()
            lo = 0 if start is None else int(np.searchsorted(ts, start, "left"))
            hi = len(ts) if end is None else int(np.searchsorted(ts, end, "left"))
            out += msgspec.convert(table.slice(lo, hi - lo).to_pylist(), list[cls])
        return out

    def query(self, sql: str) -> pa.Table:
        """DuckDB SQL over the stored data types (one view each, named after the type)."""
        con = duckdb.connect()
        try:
            for name in self.data_types():
                if self.files(name):
                    glob = str(self._dir(name) / "date=*" / PART_FILE).replace("'", "''")
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}')")
            return arrow_table(con.sql(sql))
        finally:
            con.close()
