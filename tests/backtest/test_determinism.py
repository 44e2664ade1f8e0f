"""Same inputs and config, same bytes: every output file of two runs is identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeforge.backtest.run import run_backtest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("example", ["euro_futures_sma", "btc_quotes"])
def test_two_runs_write_byte_identical_files(example: str, tmp_path: Path) -> None:
    config = ROOT / "examples" / f"{example}.toml"
    a, b = tmp_path / "a", tmp_path / "b"
    run_backtest(config, a)
    run_backtest(config, b)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert {"orders.parquet", "fills.parquet", "positions.parquet", "equity.parquet", "summary.json"} <= set(files)
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs between runs"
