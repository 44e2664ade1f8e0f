"""The benchmarks run, print one JSON line last, and their engine and bare loop agree exactly
(no timing is asserted: that is what the benchmarks themselves are for)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"name", "n_events", "seconds", "events_per_s", "peak_rss_mb", "ratio_to_bare_loop", "cross_check"}


@pytest.mark.parametrize("name", ["engine_bars", "engine_quotes"])
def test_benchmark_prints_json_last_and_cross_checks(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", name, "--n", "20000", "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(record) >= KEYS
    assert record["name"] == name and record["n_events"] == 20000
    assert record["cross_check"] == "ok"
    assert record["fills"] == record["bare_loop_fills"] > 0
    assert record["final_equity_raw"] == record["bare_loop_final_equity_raw"]


@pytest.mark.parametrize(
    "name", ["itch_decode", "itch_book", "lobster_replay", "catalog_write", "catalog_read", "sim_matching", "sim_l3_replay"]
)
def test_data_and_exchange_benchmarks_run_small(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", name, "--n", "20000", "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"name", "n_events", "seconds", "events_per_s", "peak_rss_mb"} <= set(record)
    assert record["name"] == name and record["events_per_s"] > 0
    if "cross_check" in record:
        assert record["cross_check"] == "ok"
