"""The ML strategy in a backtest on real S&P 500 bars: trades, deterministic, no look-ahead."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.model.enums import OmsType
from tradeforge.research.ml import load_daily, load_model
from tradeforge.risk.checks import BuyingPower
from tradeforge.strategy.library.ml_signal import MlSignal
from tradeforge.venues.fees import PerUnitFee
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
MONEY = 10**9
END = 1_483_228_800 * 10**9  # 2017-01-01: four years keep the test fast
CUT = 1_451_606_400 * 10**9  # 2016-01-01: prices from here on are perturbed
PARAMS = {"min_train_days": 300, "retrain_every": 63, "top_k": 2, "weight": "0.3", "embargo": 1,
          "labels": {"horizon": 5}, "model": {"kind": "logistic", "seed": 7}}


@pytest.fixture(scope="module")
def bars():
    bars, provider = load_daily(ROOT / "data/daily/all_stocks_5yr.csv.gz", ["AAPL", "MSFT", "JPM", "XOM", "JNJ"],
                                ROOT / "data/instruments/sp500.toml")
    return [_cut(b, END) for b in bars], provider


def _cut(b, end):
    n = int(np.searchsorted(b.ts_init, end))
    return dataclasses.replace(b, **{f.name: getattr(b, f.name)[:n] for f in dataclasses.fields(b)
                                     if hasattr(getattr(b, f.name), "shape")})


def _perturbed(b, seed: int):
    """Prices from CUT on scaled by a random walk (OHLC together, so bars stay valid)."""
    k = b.ts_init >= CUT
    f = np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.03, int(k.sum()))))
    out = {}
    for name in ("open", "high", "low", "close"):
        a = getattr(b, name).copy()
        a[k] = np.round(a[k] * f).astype(a.dtype)
        out[name] = a
    return dataclasses.replace(b, **out)


def _run(bars, provider, params=None):
    engine = BacktestEngine(provider, "USD", 1_000_000 * MONEY, oms_type=OmsType.NETTING,
                            risk_checks=[BuyingPower(100, True)])
    engine.add_venue(SimulatedVenueConfig("XNYS"), PerUnitFee(5 * MONEY // 1000, MONEY, 100))
    for b in bars:
        engine.add_data(b)
    s = MlSignal("ml", {"instruments": [b.instrument_id for b in bars], **PARAMS, **(params or {})})
    engine.add_strategy(s)
    return engine.run(), s


@pytest.fixture(scope="module")
def runs(bars, tmp_path_factory):
    data, provider = bars
    art = tmp_path_factory.mktemp("ml_artifacts")
    a = _run(data, provider, {"artifact_dir": str(art)})
    b = _run(data, provider)
    c = _run([_perturbed(x, i) for i, x in enumerate(data)], provider)
    return a, b, c, art


def _fills(result, before=None):
    return [(f.ts_event, f.instrument_id, f.last_qty, f.last_px) for f in result.fills
            if before is None or f.ts_event < before]


def test_trades_and_is_deterministic(runs) -> None:
    (ra, sa), (rb, sb), _, _ = runs
    assert len(sa.trainings) >= 8 and len(sa.predictions) > 100
    assert len(ra.fills) > 50 and ra.summary()["orders_denied"] == 0
    assert _fills(ra) == _fills(rb) and ra.portfolio.equity() == rb.portfolio.equity()
    assert [t.data_fingerprint for t in sa.trainings] == [t.data_fingerprint for t in sb.trainings]


def test_models_only_use_labels_that_ended_before_the_day(runs) -> None:
    (_, s), _, _, _ = runs
    for t in s.trainings:
        assert t.last_label_end_ts < t.day_ts
        assert s.dates.index(t.last_label_end_ts) < s.dates.index(t.day_ts) - s.embargo


def test_perturbing_the_future_changes_nothing_before_it(runs) -> None:
    (ra, sa), _, (rc, sc), _ = runs
    before = [t for t in sa.trainings if t.day_ts < CUT]
    assert len(before) >= 3
    assert before == [t for t in sc.trainings if t.day_ts < CUT]
    assert {d: p for d, p in sa.predictions.items() if d < CUT} == {d: p for d, p in sc.predictions.items() if d < CUT}
    assert _fills(ra, CUT) == _fills(rc, CUT) and len(_fills(ra, CUT)) > 20
    # ... and the perturbation did reach the strategy after the cut
    assert [t.data_fingerprint for t in sa.trainings if t.day_ts >= CUT] != [
        t.data_fingerprint for t in sc.trainings if t.day_ts >= CUT]


def test_saved_artifacts_carry_fingerprints(runs) -> None:
    (_, s), _, _, art = runs
    files = sorted(art.glob("*.json"))
    assert len(files) == len(s.trainings)
    model, meta = load_model(files[0].with_suffix(""), s.trainings[0].data_fingerprint, s.params_fp)
    assert meta["last_label_end_ts"] == s.trainings[0].last_label_end_ts and hasattr(model, "predict_proba")
