import json
import subprocess
import sys

from .conftest import ROOT


def test_pairs_scan_benchmark_runs_small() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "pairs_scan", "--n", "100", "--repeats", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rec["name"] == "pairs_scan" and rec["pairs"] == 100 * 99 // 2 and rec["cross_check"] == "ok"
    assert rec["pairs_per_s"] > 0
