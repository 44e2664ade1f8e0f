"""Features and labels: causal (prefix == full), checked against the incremental indicators."""

from __future__ import annotations

import numpy as np
import pytest

from tradeforge.research.ml import FeatureConfig, LabelConfig, compute_features, forward_returns, triple_barrier
from tradeforge.research.ml.features import cross_sectional_rank
from tradeforge.strategy.indicators import SimpleMovingAverage
from tradeforge.strategy.rolling import BollingerBands


def test_features_on_a_prefix_equal_the_full_panel_bit_for_bit(ml_panel) -> None:
    cfg = FeatureConfig()
    names, full = compute_features(ml_panel.close, ml_panel.volume, cfg)
    assert len(names) == full.shape[2] == 16 and "rsi_14_rank" in names
    for n in (30, 400, 1000):
        _, pre = compute_features(ml_panel.close[:n], ml_panel.volume[:n], cfg)
        np.testing.assert_array_equal(pre, full[:n])
        # what the strategy computes: only the last `lookback` rows
        _, tail = compute_features(ml_panel.close[n - cfg.lookback:n], ml_panel.volume[n - cfg.lookback:n], cfg)
        np.testing.assert_array_equal(tail[-1], full[n - 1])


def test_indicator_features_match_the_incremental_indicators(ml_panel) -> None:
    names, X = compute_features(ml_panel.close, ml_panel.volume, FeatureConfig(ranks=False))
    close = ml_panel.close[:, 0]
    sma, bb = SimpleMovingAverage(20), BollingerBands(20)
    gap, z = X[:, 0, names.index("sma_gap_20")], X[:, 0, names.index("zscore_20")]
    for t, c in enumerate(close):
        sma.update(c)
        bb.update(c)
        if t >= 19:
            assert gap[t] == pytest.approx(c / sma.value - 1, abs=1e-9)
            assert z[t] == pytest.approx(bb.zscore, rel=1e-6, abs=1e-6)
    ret5 = X[:, :, names.index("ret_5")]
    np.testing.assert_allclose(ret5[5:], ml_panel.close[5:] / ml_panel.close[:-5] - 1)
    rsi = X[:, :, names.index("rsi_14")]
    assert np.nanmin(rsi) >= 0 and np.nanmax(rsi) <= 100 and np.isnan(rsi[:14]).all() and np.isfinite(rsi[14:]).all()


def test_cross_sectional_ranks() -> None:
    x = np.array([[3.0, 1.0, 2.0], [np.nan, 5.0, 4.0], [np.nan, np.nan, 7.0]])
    np.testing.assert_array_equal(cross_sectional_rank(x), [[1.0, 0.0, 0.5], [np.nan, 1.0, 0.0], [np.nan, np.nan, 0.5]])


def test_forward_returns() -> None:
    close = np.array([[10.0], [11.0], [12.1], [9.0]])
    lab = forward_returns(close, 2)
    np.testing.assert_allclose(lab.ret[:2, 0], [0.21, 9 / 11 - 1])
    assert lab.end[:, 0].tolist() == [2, 3, -1, -1] and lab.label[:, 0].tolist() == [1, -1, 0, 0]


def test_triple_barrier_first_touch_and_vertical_barrier() -> None:
    # fixed 5% barriers, horizon 3; columns: profit-take first, stop first, neither (vertical), both same day
    close = np.array([
        [100.0, 100.0, 100.0, 100.0],
        [102.0, 97.0, 101.0, 100.0],
        [106.0, 94.0, 102.0, 100.0],
        [90.0, 120.0, 99.0, 100.0],
        [90.0, 120.0, 99.0, 100.0],
    ])
    lab = triple_barrier(close, LabelConfig(horizon=3, pt=0.05, sl=0.05, vol_window=0))
    assert lab.label[0].tolist() == [1, -1, -1, 0]
    assert lab.end[0].tolist() == [2, 2, 3, 3]
    np.testing.assert_allclose(lab.ret[0], [0.06, -0.06, -0.01, 0.0])
    assert (lab.end[3:] == -1).all()  # not enough future: unknown


def test_triple_barrier_labels_known_on_a_prefix_equal_the_full_ones(ml_panel) -> None:
    cfg = LabelConfig(horizon=5, pt=1.0, sl=1.0)
    full = triple_barrier(ml_panel.close, cfg)
    assert set(np.unique(full.label[full.end >= 0])) <= {-1, 0, 1}
    for n in (100, 700):
        pre = triple_barrier(ml_panel.close[:n], cfg)
        known = pre.end >= 0
        assert known.sum() > 0 and (pre.end[known] < n).all()
        np.testing.assert_array_equal(pre.label[known], full.label[:n][known])
        np.testing.assert_array_equal(pre.end[known], full.end[:n][known])
        # every label that ended inside the prefix is known on the prefix
        assert ((full.end[:n] >= 0) & (full.end[:n] < n) == known).all()
