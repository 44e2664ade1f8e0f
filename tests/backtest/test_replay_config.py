"""Run configs with book-replay venues: LOBSTER / MBO order flow at L3, L2 and L1 from TOML,
deterministic for a seed (seeded latency draws and random queue cancels included)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tradeforge.backtest.config import ConfigError, parse_config
from tradeforge.backtest.run import build_engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "amzn_market_making.toml"


def _doc(**venue: object) -> dict:
    doc = tomllib.loads(EXAMPLE.read_text())
    doc["venue"][0].update(venue)
    doc["run"]["end"] = "2012-06-21T14:30:00"  # the first hour (10:30 New York): a fast test
    return doc


def _fills(doc: dict) -> list[tuple]:
    engine = build_engine(parse_config(doc), EXAMPLE.parent)
    result = engine.run()
    return [(f.ts_event, f.ts_init, f.client_order_id, f.last_qty, f.last_px, f.commission) for f in result.fills]


@pytest.mark.parametrize("fidelity", ["l3", "l2", "l1"])
def test_each_fidelity_runs_from_toml_and_repeats_exactly(fidelity: str) -> None:
    doc = _doc(fidelity=fidelity, queue={"model": "probabilistic", "shape": "power", "n": 2, "random": True})
    first = _fills(doc)
    assert len(first) > 20
    assert _fills(doc) == first
    # latency: every report reaches the strategy after the exchange time it happened
    assert all(ts_init > ts_event for ts_event, ts_init, *_ in first)


def test_another_seed_changes_the_latency_draws() -> None:
    doc = _doc()
    a = _fills(doc)
    doc["run"]["seed"] = 99
    b = _fills(doc)
    assert [x[1] for x in a] != [x[1] for x in b]


def test_cme_mbo_flow_runs() -> None:
    doc = _doc(name="GLBX", fidelity="l3")
    doc["instruments"]["files"] = ["../data/instruments/cme_mbo.toml"]
    doc["data"] = [{"kind": "mbo", "path": "../data/l3/esh4-glbx-mdp3-20231225.mbo.dbn.zst", "instrument_id": "ESH4.GLBX"}]
    doc["strategy"][0]["params"] = {"instrument": "ESH4.GLBX", "quantity": 1, "max_levels": 3}
    doc["risk"] = {"max_order_notional": "1000000", "price_collar_bps": 100}
    del doc["run"]["end"]
    fills = _fills(doc)
    assert len(fills) > 100


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"venue": {"fidelity": None, "latency": {"feed": {"kind": "constant", "value_ns": 1}}}}, "latency legs are for replay venues"),
        ({"venue": {"latency": {"feed": {"kind": "lognormal", "median_ns": 5}}}}, "a lognormal latency needs sigma"),
        ({"venue": {"latency": {"wire": {"kind": "constant", "value_ns": 1}}}}, "unknown latency leg"),
        ({"data": {"instrument_id": None}}, "data[0].instrument_id: required for lobster"),
        ({"venue": {"fidelity": "l4"}}, "venue[0].fidelity"),
    ],
)
def test_bad_replay_configs_name_the_key(change: dict, message: str) -> None:
    doc = _doc()
    for table, values in change.items():
        for k, v in values.items():
            if v is None:
                doc[table][0].pop(k, None)
            else:
                doc[table][0][k] = v
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(doc)
