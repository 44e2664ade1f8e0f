import json

from typer.testing import CliRunner

from tradeforge.cli.main import app

from .conftest import ROOT


def test_pairs_run_writes_reports(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "pairs"
    res = CliRunner().invoke(app, [
        "pairs", "run", "--out", str(out), "--start", "2016-09-01", "--formation", "100", "--trading", "50",
        "--max-pairs", "60",
    ])
    assert res.exit_code == 0, res.output
    assert "pairs book" in res.output and "pairs traded" in res.output
    summary = json.loads((out / "pairs_summary.json").read_text())
    assert summary["instruments"] == 505 and summary["selections"] >= 2 and summary["pairs_traded"] > 0
    for name in ("summary.json", "fills.parquet", "equity.parquet", "pairs.csv", "selections.csv"):
        assert (out / name).exists()
