"""A panel of features and labels stacked into samples ``(day, instrument)`` for scikit-learn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeforge.research.ml.labels import Labels


@dataclass(frozen=True, slots=True)
class Dataset:
    """Samples in (day, instrument) order: features ``X``, binary target ``y`` (label == +1), the
    label interval ``[t0, t1]`` in rows, the instrument column ``inst`` and the feature ``names``."""

    X: np.ndarray
    y: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    inst: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: np.ndarray) -> Dataset:
        return Dataset(self.X[idx], self.y[idx], self.t0[idx], self.t1[idx], self.inst[idx], self.names)

    def arrays(self) -> dict[str, np.ndarray]:
        """What the data fingerprint hashes."""
        return {"X": self.X, "y": self.y, "t0": self.t0, "t1": self.t1, "inst": self.inst}


def build_dataset(
    names: list[str] | tuple[str, ...], X: np.ndarray, labels: Labels, known_before: int | None = None,
    start: int = 0,
) -> Dataset:
    """Samples with all features finite and a known label; with ``known_before``, only labels whose
    outcome was known strictly before that row (``end < known_before``); events from row ``start`` on."""
    ok = np.isfinite(X).all(axis=2) & (labels.end >= 0)
    if known_before is not None:
        ok &= labels.end < known_before
    ok[:start] = False
    t, j = np.nonzero(ok)  # row-major: by day, then instrument
    return Dataset(
        np.ascontiguousarray(X[t, j]), (labels.label[t, j] == 1).astype(np.int8), t.astype(np.int64),
        labels.end[t, j].astype(np.int64), j.astype(np.int64), tuple(names),
    )
