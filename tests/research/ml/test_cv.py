"""Purged, embargoed cross-validation: no training label interval overlaps a test interval."""

from __future__ import annotations

import numpy as np

from tradeforge.research.ml import LabelConfig, build_dataset, compute_features, purged_kfold, purged_walk_forward
from tradeforge.research.ml.cv import overlapping_pairs
from tradeforge.research.ml.labels import triple_barrier


def _samples(ml_panel):
    names, X = compute_features(ml_panel.close, ml_panel.volume)
    return build_dataset(names, X, triple_barrier(ml_panel.close, LabelConfig(horizon=10)))


def _check(ds, splits, embargo: int, walk_forward: bool) -> int:
    n = 0
    for train, test in splits:
        n += 1
        assert len(train) and len(test) and not np.intersect1d(train, test).size
        assert overlapping_pairs(ds.t0, ds.t1, train, test) == 0
        lo, hi = ds.t0[test].min(), ds.t1[test].max()
        if walk_forward:
            assert ds.t1[train].max() < lo - embargo
        else:
            assert not ((ds.t0[train] > hi) & (ds.t0[train] <= hi + embargo)).any()
    return n


def test_purged_kfold_on_real_labels(ml_panel) -> None:
    ds = _samples(ml_panel)
    assert (ds.t1 > ds.t0).all()
    splits = list(purged_kfold(ds.t0, ds.t1, 5, embargo=5))
    assert _check(ds, splits, 5, walk_forward=False) == 5
    assert sorted(np.concatenate([t for _, t in splits]).tolist()) == list(range(len(ds)))  # folds partition
    # without purging, neighbours of each test fold would overlap: the purge removed something
    naive_train = np.setdiff1d(np.arange(len(ds)), splits[2][1])
    assert overlapping_pairs(ds.t0, ds.t1, naive_train, splits[2][1]) > 0
    assert len(splits[2][0]) < len(naive_train)


def test_purged_walk_forward_on_real_labels(ml_panel) -> None:
    ds = _samples(ml_panel)
    splits = list(purged_walk_forward(ds.t0, ds.t1, 4, embargo=3))
    assert _check(ds, splits, 3, walk_forward=True) == 4
    assert all(ds.t0[tr].max() < ds.t0[te].min() for tr, te in splits)  # train strictly in the past
    sizes = [len(tr) for tr, _ in splits]
    assert sizes == sorted(sizes)  # expanding
    rolled = list(purged_walk_forward(ds.t0, ds.t1, 4, embargo=3, max_train=100))
    assert all(np.unique(ds.t0[tr]).size <= 101 for tr, _ in rolled)


def test_overlap_detection_on_a_hand_made_case() -> None:
    t0, t1 = np.array([0, 2, 4, 6, 8]), np.array([3, 5, 7, 9, 10])
    assert overlapping_pairs(t0, t1, np.array([0]), np.array([1])) == 1
    assert overlapping_pairs(t0, t1, np.array([0]), np.array([2])) == 0
    train, test = next(iter(purged_kfold(t0, t1, 5, embargo=0)))
    assert test.tolist() == [0] and 1 not in train.tolist()  # [2, 5] overlaps the test span [0, 3]
