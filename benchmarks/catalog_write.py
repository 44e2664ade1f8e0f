"""``catalog_write``: write ``n`` one-second bars of one instrument into the data catalog.

Timed: :meth:`Catalog.write` (one Parquet file per UTC day, 86,400 rows each, written batch by batch
with zstd, raw int64 columns plus instrument metadata), into a fresh folder each repeat. Baseline, in
the same process on the same data: ``pyarrow.parquet.write_table`` of one flat table (same columns,
same compression) into one file. The cross-check reads both back (DuckDB count and sum of closes over
the catalog, the flat file's footer) and compares with the generated data.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks._common import base_record, peak_rss_mb, timed

NAME = "catalog_write"
DEFAULT_N = 5_000_000
INSTRUMENT_ID = "SYN.SIM"
SECOND_NS = 10**9
START_NS = 1_600_041_600 * 10**9  # 2020-09-14 00:00 UTC, a day boundary
FIELDS = ("ts_event", "ts_init", "open", "high", "low", "close", "volume")


def instrument() -> Any:
    from tradeforge.model.instruments import instrument_from_dict

    return instrument_from_dict(
        {"id": INSTRUMENT_ID, "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"}, NAME
    )


def make_block(rng: np.random.Generator, start_index: int, n: int, last_close: int) -> tuple[Any, int]:
    """``n`` seeded one-second bars starting at bar ``start_index`` (a random walk in ticks from
    ``last_close``); returns the bars and the last close, so blocks chain into one series."""
    from tradeforge.data.columns import BarColumns

    steps = rng.integers(-3, 4, n)
    close = np.maximum(last_close + np.cumsum(steps), 100).astype(np.int64)
    open_ = np.empty(n, np.int64)
    open_[0] = last_close
    open_[1:] = close[:-1]
    high = np.maximum(open_, close) + rng.integers(0, 3, n)
    low = np.maximum(np.minimum(open_, close) - rng.integers(0, 3, n), 1)
    volume = rng.integers(1, 1_000, n)
    ts = START_NS + np.arange(start_index, start_index + n, dtype=np.int64) * SECOND_NS  # day-aligned blocks
    return BarColumns(INSTRUMENT_ID, ts, ts.copy(), open_, high, low, close, volume, SECOND_NS), int(close[-1])


def flat_table(bars: Any) -> pa.Table:
    return pa.table({name: getattr(bars, name) for name in FIELDS})


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    from tradeforge.data.catalog import COMPRESSION, Catalog

    inst = instrument()
    (bars, _), setup_s = timed(lambda: make_block(np.random.default_rng(seed), 0, n, 1_000_000))
    table = flat_table(bars)
    work = Path(tempfile.mkdtemp(prefix="tradeforge-bench-catalog-write-"))
    try:
        runs, base_runs = [], []
        summary = None
        for r in range(repeats):
            root = work / f"catalog{r}"
            summary, s = timed(lambda root=root: Catalog(root).write(bars, inst))
            runs.append(s)
        rss = peak_rss_mb()
        for r in range(repeats):
            path = work / f"flat{r}.parquet"
            _, s = timed(lambda path=path: pq.write_table(table, path, compression=COMPRESSION))
            base_runs.append(s)
        cat = Catalog(work / "catalog0")
        got = cat.query("SELECT count(*) AS n, sum(close) AS s FROM bars").to_pylist()[0]
        want = {"n": n, "s": int(bars.close.sum())}
        flat_rows = pq.read_metadata(work / "flat0.parquet").num_rows
        ok = got == want and flat_rows == n and summary is not None and summary.rows == n
        rec = base_record(NAME, n, min(runs), min(base_runs), setup_s, rss)
        for k in ("bare_loop_seconds", "bare_loop_events_per_s", "ratio_to_bare_loop"):
            rec.pop(k)
        rec.update({
            "baseline": "pyarrow.parquet.write_table (one flat table, one file, same compression)",
            "baseline_seconds": round(min(base_runs), 4),
            "baseline_events_per_s": round(n / min(base_runs), 1),
            "ratio_to_baseline": round(min(base_runs) / min(runs), 4),
            "partitions": len(summary.partitions) if summary else 0,
            "catalog_mb": round(_dir_bytes(work / "catalog0") / 2**20, 2),
            "baseline_mb": round((work / "flat0.parquet").stat().st_size / 2**20, 2),
            "compression": COMPRESSION,
            "bar_interval": "1s (one partition per UTC day = 86,400 rows)",
            "seed": seed,
            "repeats": repeats,
            "runs_seconds": [round(x, 4) for x in runs],
            "baseline_runs_seconds": [round(x, 4) for x in base_runs],
            "cross_check": "ok" if ok else f"MISMATCH: catalog {got} vs {want}, flat rows {flat_rows}",
        })
        return rec
    finally:
        shutil.rmtree(work, ignore_errors=True)
