"""Purged and embargoed cross-validation over samples with label intervals ``[t0, t1]``.

Purging drops every training sample whose label interval overlaps the test fold's span (from its
first event to its last label end), so no training label was still open while a test label was. The
embargo drops training samples that start within ``embargo`` rows after that span (serial correlation
leaks across the boundary otherwise); in the walk-forward the embargo is a gap of ``embargo`` rows
between the last training label end and the first test event.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

Split = tuple[np.ndarray, np.ndarray]


def _folds(t0: np.ndarray, n_blocks: int) -> list[np.ndarray]:
    times = np.unique(t0)
    if len(times) < n_blocks:
        raise ValueError(f"{len(times)} distinct event times cannot make {n_blocks} folds")
    return [b for b in np.array_split(times, n_blocks)]


def purged_kfold(t0: np.ndarray, t1: np.ndarray, n_splits: int = 5, embargo: int = 0) -> Iterator[Split]:
    """K contiguous test folds in time; train on everything else, purged and embargoed."""
    t0, t1 = np.asarray(t0), np.asarray(t1)
    for block in _folds(t0, n_splits):
        test = np.isin(t0, block)
        lo, hi = int(t0[test].min()), int(t1[test].max())
        overlaps = (t0 <= hi) & (t1 >= lo)
        embargoed = (t0 > hi) & (t0 <= hi + embargo)
        train = ~test & ~overlaps & ~embargoed
        yield np.flatnonzero(train), np.flatnonzero(test)


def purged_walk_forward(
    t0: np.ndarray, t1: np.ndarray, n_splits: int = 5, embargo: int = 0, max_train: int | None = None,
) -> Iterator[Split]:
    """Time split into ``n_splits + 1`` blocks; fold ``k`` tests block ``k`` and trains on samples whose
    labels ended more than ``embargo`` rows before the block's first event (expanding window, or the
    last ``max_train`` rows of events)."""
    t0, t1 = np.asarray(t0), np.asarray(t1)
    for block in _folds(t0, n_splits + 1)[1:]:
        test = np.isin(t0, block)
        lo = int(block[0])
        train = t1 < lo - embargo
        if max_train is not None:
            train &= t0 >= lo - embargo - max_train
        if train.any():
            yield np.flatnonzero(train), np.flatnonzero(test)


def overlapping_pairs(t0: np.ndarray, t1: np.ndarray, train: np.ndarray, test: np.ndarray) -> int:
    """How many (train, test) sample pairs have overlapping label intervals (0 for a clean split)."""
    a0, a1 = t0[train][:, None], t1[train][:, None]
    b0, b1 = t0[test][None, :], t1[test][None, :]
    return int(((a0 <= b1) & (a1 >= b0)).sum())
