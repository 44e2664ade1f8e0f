"""The FIX benchmarks run small and print their JSON record last (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["fix_codec", "fix_roundtrip"])
def test_fix_benchmark_runs_small(name: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", name, "--n", "300", "--repeats", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["name"] == name and record["n_events"] == 300 and record["cross_check"] == "ok"
