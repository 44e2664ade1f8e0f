"""The command line, run as a user runs it (in a subprocess), on the real examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradeforge.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_backtest_sp500_demo_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "sp500"
    proc = _run("backtest", "examples/sp500_sma.toml", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("orders.parquet", "fills.parquet", "positions.parquet", "equity.parquet", "summary.json",
                 "quarantine.csv"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fills"] > 1000 and summary["trade_count"] > 500
    assert summary["bad_records_quarantined"] == 23
    assert "Sharpe" in proc.stdout and "Max drawdown" in proc.stdout
    quarantine = (out / "quarantine.csv").read_text().splitlines()
    assert len(quarantine) == 24 and "line 82951" not in quarantine[0]
    assert any(",82951,open," in line for line in quarantine)


def test_bad_config_exits_2_with_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text((ROOT / "examples/euro_futures_sma.toml").read_text().replace('oms = "netting"', 'oms = "fifo"'))
    proc = _run("backtest", str(cfg))
    assert proc.returncode == 2
    assert "run.oms" in proc.stdout


def test_bad_record_in_raise_mode_names_file_line_field(tmp_path: Path) -> None:
    data = tmp_path / "bars.csv"
    data.write_text(
        "timestamp_utc,open,high,low,close,volume\n"
        "2024-01-02 10:00:00,1.1000,1.1001,1.0999,1.1000,5\n"
        "2024-01-02 10:01:00,1.1000,1.1001,,1.1000,5\n"
    )
    text = (ROOT / "examples/euro_futures_sma.toml").read_text()
    text = text.replace("../data/intraday/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", str(data))
    text = text.replace('"../data/instruments', f'"{ROOT}/data/instruments')
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    proc = _run("backtest", str(cfg))
    assert proc.returncode == 2
    assert "line 3" in proc.stdout and "'low'" in proc.stdout
