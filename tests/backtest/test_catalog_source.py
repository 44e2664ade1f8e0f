"""A run config can stream its data from a catalog instead of a file, with the same result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradeforge.backtest.config import ConfigError, parse_config
from tradeforge.backtest.run import run_backtest
from tradeforge.data.catalog import Catalog
from tradeforge.data.loaders import load_csv_bars
from tradeforge.model.instruments import InstrumentProvider

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "euro_futures_sma.toml"


def test_catalog_source_gives_the_same_run_as_the_file(tmp_path: Path) -> None:
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")
    bars, _ = load_csv_bars(
        ROOT / "data/intraday/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", instruments=instruments,
        instrument_id="6EH4.XCME", timestamp_column="timestamp_utc", interval_ns=60_000_000_000,
    )
    Catalog(tmp_path / "catalog").write(bars, instruments)
    text = EXAMPLE.read_text()
    text = text.replace('path = "../data/intraday/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"', 'catalog = "catalog"')
    text = "\n".join(
        line for line in text.splitlines()
        if not line.startswith(("timestamp_column", "timestamp_convention", "interval", "calendar"))
    )
    text = text.replace('"../data/instruments/', f'"{ROOT.as_posix()}/data/instruments/')
    config = tmp_path / "run.toml"
    config.write_text(text)
    from_catalog = run_backtest(config, tmp_path / "a")
    from_file = run_backtest(EXAMPLE, tmp_path / "b")
    assert from_catalog.final_equity_raw == from_file.final_equity_raw
    assert [(f.ts_event, f.last_px, f.last_qty) for f in from_catalog.fills] == [
        (f.ts_event, f.last_px, f.last_qty) for f in from_file.fills
    ]
    assert (tmp_path / "a" / "fills.parquet").read_bytes() == (tmp_path / "b" / "fills.parquet").read_bytes()
    summary_a = json.loads((tmp_path / "a" / "summary.json").read_text())
    summary_b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary_b.pop("data_warnings")["gap"] > 0  # the file run checks the CME calendar on load
    assert summary_a.pop("data_warnings") == {}  # catalog data was checked when it was imported
    assert summary_a == summary_b


def test_data_needs_exactly_one_of_path_or_catalog() -> None:
    doc = {
        "run": {"currency": "USD", "starting_cash": "1"},
        "instruments": {"files": []},
        "data": [{"kind": "bars", "instrument_id": "X.Y", "interval": "1m"}],
        "venue": [{"name": "Y"}],
        "strategy": [{"id": "s", "class": "m:C"}],
    }
    with pytest.raises(ConfigError, match=r"data\[0\]: give exactly one of 'path' or 'catalog'"):
        parse_config(doc)
    doc["data"][0].update(path="a.csv", catalog="c")
    with pytest.raises(ConfigError, match="exactly one"):
        parse_config(doc)
