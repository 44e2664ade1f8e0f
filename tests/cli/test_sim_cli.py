"""``tradeforge sim calibrate`` run as a user runs it (in a subprocess) on slices of the real samples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tradeforge.backtest.calibrate import venue_config_from_toml
from tradeforge.venues.queue import ProbabilisticQueue, RiskAverseQueue

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
MBO = DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
MSG = DATA / "l3" / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"
OB = DATA / "l3" / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "tradeforge.cli.main", "sim", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


def test_calibrate_writes_a_venue_config(tmp_path: Path) -> None:
    out = tmp_path / "venue.toml"
    r = _run("calibrate", "--mbo", str(MBO), "--instruments", str(DATA / "instruments" / "cme_mbo.toml"),
             "--instruments", str(DATA / "instruments" / "l3.toml"), "--instrument", "ESH4.GLBX",
             "--lobster", str(MSG), "--orderbook", str(OB), "--out", str(out), "--limit", "15000",
             "--probe-every", "50", "--horizons", "1,10,60", "--lanes", "4")
    assert r.returncode == 0, r.stdout + r.stderr
    text = r.stdout
    assert "feed latency (ts_recv - ts_event" in text and "lognormal median" in text
    assert "| l3 (truth," in text and "| l2 risk_averse" in text and "| l2 power n=2" in text
    assert "| l1 " in text and "best L2 queue model:" in text and "AMZN.XNAS: 15,000 flow rows" in text
    cfg = venue_config_from_toml(out)
    assert cfg.name == "GLBX" and cfg.fidelity == "l2"
    assert isinstance(cfg.queue_model, RiskAverseQueue | ProbabilisticQueue)
    written = out.read_text()
    assert "[venue.latency.feed]" in written and "[venue.latency.entry]" in written
    assert str(ROOT) not in written  # no machine paths in the config


def test_calibrate_unknown_instrument_is_an_error(tmp_path: Path) -> None:
    r = _run("calibrate", "--mbo", str(MBO), "--instruments", str(DATA / "instruments" / "cme_mbo.toml"),
             "--instrument", "NOPE.GLBX", "--out", str(tmp_path / "v.toml"))
    assert r.returncode == 2 and "error:" in r.stdout and "NOPE.GLBX" in r.stdout
    assert not (tmp_path / "v.toml").exists()
