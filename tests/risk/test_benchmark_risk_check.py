"""The ``risk_check`` benchmark runs small and prints its JSON record last (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_risk_check_benchmark_runs_small() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "risk_check", "--n", "3000", "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rec["name"] == "risk_check" and rec["n_events"] == 3000 and rec["cross_check"] == "ok"
    assert rec["checks"] >= 20 and rec["passed"] > rec["denied"] > 0
    assert {"p99_us", "var_historical_ms", "var_parametric_ewma_ms", "var_monte_carlo_1000_ms"} <= set(rec)
