"""Invalid configuration is an error that names the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tradeforge.backtest.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

VALID = {
    "run": {"currency": "USD", "starting_cash": "100000"},
    "instruments": {"files": ["data/instruments/futures_fx_crypto.toml"]},
    "data": [{"kind": "bars", "path": "x.csv", "instrument_id": "6EH4.XCME", "interval": "1m"}],
    "venue": [{"name": "XCME"}],
    "strategy": [{"id": "s", "class": "m:C"}],
}


def _with(path: tuple, value: object) -> dict:
    doc = copy.deepcopy(VALID)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def test_valid_config_parses() -> None:
    cfg = parse_config(copy.deepcopy(VALID))
    assert cfg.run.oms == "netting" and cfg.venue[0].participation == 1.0


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("run", "starting_cash"), 100000, "run.starting_cash"),
        (("run", "starting_cash"), "10.0000000001", "run.starting_cash"),
        (("run", "oms"), "fifo", "run.oms"),
        (("run", "colour"), "red", "colour"),
        (("venue", 0, "participation"), 1.5, "venue[0].participation"),
        (("data", 0, "interval"), "7x", "data[0].interval"),
        (("data", 0, "kind"), "candles", "data[0].kind"),
        (("risk",), {"max_order_notional": "abc"}, "risk.max_order_notional"),
        (("strategy",), [], "strategy"),
    ],
)
def test_invalid_config_names_the_key(path: tuple, value: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_with(path, value), "run.toml")
    assert fragment in str(err.value)
    assert "run.toml" in str(err.value)


def test_missing_section_named() -> None:
    doc = copy.deepcopy(VALID)
    del doc["venue"]
    with pytest.raises(ConfigError, match="venue"):
        parse_config(doc)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[run\ncurrency=")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(p)


def test_examples_parse() -> None:
    for p in sorted((ROOT / "examples").glob("*.toml")):
        cfg, base = load_config(p)
        assert cfg.strategy and base == p.parent
