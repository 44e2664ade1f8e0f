"""``catalog_read``: stream ``n`` one-second bars of one instrument out of the data catalog.

Setup (untimed, memory bounded): seeded bars are generated a few days at a time and written both to a
catalog (one file per UTC day) and, with a ``ParquetWriter``, to one flat Parquet file.

Timed: :meth:`Catalog.read` over the whole series in batches of 65,536 rows, turning each into
:class:`BarColumns` and summing its closes (so every batch is really materialized). The resident set
size is sampled during the read: it must stay bounded by the batch size, not grow with the history
(the run fails when it grows by more than ``RSS_BOUND_MB``). Baseline, in the same process after the
catalog read: ``pyarrow.parquet.read_table`` of the flat file (the whole table in memory) and the same
sum. The cross-check compares row counts and sums.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks._common import base_record, peak_rss_mb, timed
from benchmarks.catalog_write import flat_table, instrument, make_block

NAME = "catalog_read"
DEFAULT_N = 10_000_000
BATCH = 65_536
BLOCK = 86_400 * 8  # rows generated and written per setup step (whole days)
RSS_BOUND_MB = 256.0


def current_rss_mb() -> float:
    """Current (not peak) resident set size in MiB; 0 where /proc is not available."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0.0
    import resource

    return pages * resource.getpagesize() / 2**20


def build(root: Path, flat: Path, n: int, seed: int) -> int:
    """Write ``n`` bars to the catalog at ``root`` and to ``flat``; returns the sum of closes."""
    from tradeforge.data.catalog import COMPRESSION, Catalog

    inst, cat, rng = instrument(), Catalog(root), np.random.default_rng(seed)
    total, last, writer = 0, 1_000_000, None
    try:
        for start in range(0, n, BLOCK):
            bars, last = make_block(rng, start, min(BLOCK, n - start), last)
            cat.write(bars, inst)
            table = flat_table(bars)
            if writer is None:
                writer = pq.ParquetWriter(flat, table.schema, compression=COMPRESSION)
            writer.write_table(table)
            total += int(bars.close.sum())
    finally:
        if writer is not None:
            writer.close()
    return total


def read_catalog(root: Path, iid: str) -> tuple[int, int, float, int]:
    """``(rows, sum of closes, max sampled current RSS in MiB, largest chunk)`` of a streamed read."""
    from tradeforge.data.catalog import Catalog

    rows = total = biggest = 0
    rss_max = current_rss_mb()
    for i, cols in enumerate(Catalog(root).read("bars", iid, batch_size=BATCH)):
        rows += len(cols)
        total += int(cols.close.sum())
        biggest = max(biggest, len(cols))
        if i % 16 == 0:
            rss_max = max(rss_max, current_rss_mb())
    return rows, total, rss_max, biggest


def read_flat(flat: Path) -> tuple[int, int]:
    table = pq.read_table(flat)
    return table.num_rows, int(pc.sum(table.column("close")).as_py())


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    from benchmarks.catalog_write import INSTRUMENT_ID

    work = Path(tempfile.mkdtemp(prefix="tradeforge-bench-catalog-read-"))
    try:
        root, flat = work / "catalog", work / "flat.parquet"
        expected_sum, setup_s = timed(lambda: build(root, flat, n, seed))
        rss_before = current_rss_mb()
        peak_before = peak_rss_mb()
        runs, got, rss_max = [], None, 0.0
        for _ in range(repeats):
            got, s = timed(lambda: read_catalog(root, INSTRUMENT_ID))
            runs.append(s)
            rss_max = max(rss_max, got[2])
        peak_after_read = peak_rss_mb()
        base_runs, base = [], None
        for _ in range(repeats):
            base, s = timed(lambda: read_flat(flat))
            base_runs.append(s)
        assert got is not None and base is not None
        rows, total, _, biggest = got
        growth = rss_max - rss_before
        problems = []
        if (rows, total) != (n, expected_sum) or base != (n, expected_sum):
            problems.append(f"catalog read {(rows, total)}, flat read {base}, generated {(n, expected_sum)}")
        if biggest > BATCH:
            problems.append(f"a chunk of {biggest} rows exceeds the batch size {BATCH}")
        if growth > RSS_BOUND_MB:
            problems.append(f"RSS grew by {growth:.1f} MiB during the streamed read (bound {RSS_BOUND_MB})")
        for p in problems:
            print(f"MISMATCH: {p}", file=sys.stderr)
        rec = base_record(NAME, n, min(runs), min(base_runs), setup_s, peak_after_read)
        for k in ("bare_loop_seconds", "bare_loop_events_per_s", "ratio_to_bare_loop"):
            rec.pop(k)
        rec.update({
            "baseline": "pyarrow.parquet.read_table of one flat file (whole table in memory)",
            "baseline_seconds": round(min(base_runs), 4),
            "baseline_events_per_s": round(n / min(base_runs), 1),
            "ratio_to_baseline": round(min(base_runs) / min(runs), 4),
            "batch_size": BATCH,
            "largest_chunk": biggest,
            "files": len(list(root.rglob("*.parquet"))),
            "rss_before_read_mb": round(rss_before, 1),
            "rss_max_during_read_mb": round(rss_max, 1),
            "rss_growth_during_read_mb": round(growth, 1),
            "rss_bound_mb": RSS_BOUND_MB,
            "peak_rss_mb_after_setup": peak_before,
            "peak_rss_mb_incl_baseline": peak_rss_mb(),
            "in_memory_size_mb": round(n * 7 * 8 / 2**20, 1),
            "seed": seed,
            "repeats": repeats,
            "runs_seconds": [round(x, 4) for x in runs],
            "baseline_runs_seconds": [round(x, 4) for x in base_runs],
            "cross_check": "ok" if not problems else "MISMATCH: " + "; ".join(problems),
        })
        return rec
    finally:
        shutil.rmtree(work, ignore_errors=True)
