"""The ``indicators`` and ``cep`` benchmarks run small, print one JSON line last and cross-check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["indicators", "cep"])
def test_signal_benchmark_runs_small(name: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", name, "--n", "3000", "--repeats", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"name", "n_events", "seconds", "events_per_s", "peak_rss_mb"} <= set(rec)
    assert rec["name"] == name and rec["events_per_s"] > 0 and rec["cross_check"] == "ok"
    if name == "indicators":
        assert len(rec["per_indicator"]) == rec["indicators"] >= 13
        assert all(v["updates_per_s"] > 0 for v in rec["per_indicator"].values())
    else:
        assert rec["derived_events"] > 0.9 * rec["n_events"]
