"""Seeded scikit-learn classifiers and purged cross-validation scores."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController

from tradeforge.research.ml.cv import Split
from tradeforge.research.ml.dataset import Dataset

KINDS = ("logistic", "random_forest")
_THREADS = ThreadpoolController()  # built once: finding the BLAS libraries is slow


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """``kind``: ``logistic`` (standardized L2 logistic regression) or ``random_forest``;
    ``params`` override the estimator's defaults; ``seed`` fixes every random choice."""

    kind: str = "logistic"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": dict(sorted(self.params.items())), "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ModelSpec:
        d = dict(d or {})
        return cls(str(d.get("kind", "logistic")), dict(d.get("params", {})), int(d.get("seed", 7)))


def make_model(spec: ModelSpec) -> ClassifierMixin:
    """A fresh, unfitted estimator (single-threaded, seeded)."""
    p = dict(spec.params)
    if spec.kind == "logistic":
        est = LogisticRegression(**{"C": 0.1, "max_iter": 1000, **p}, random_state=spec.seed)
        return make_pipeline(StandardScaler(), est)
    if spec.kind == "random_forest":
        defaults = {"n_estimators": 100, "max_depth": 4, "min_samples_leaf": 20, "n_jobs": 1}
        return RandomForestClassifier(**{**defaults, **p}, random_state=spec.seed)
    raise ValueError(f"unknown model kind {spec.kind!r} (known: {', '.join(KINDS)})")


class _Constant(ClassifierMixin):
    """Predicts the one class seen in training (a fold with a single class)."""

    def __init__(self, p: float) -> None:
        self.p = p

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.tile([1.0 - self.p, self.p], (len(X), 1))


def fit_model(ds: Dataset, spec: ModelSpec) -> Any:
    """Fit ``spec`` on the whole dataset (a constant model when it holds one class only)."""
    if len(np.unique(ds.y)) < 2:
        return _Constant(float(ds.y[0]) if len(ds.y) else 0.5)
    with _THREADS.limit(limits=1):  # small problems: BLAS threads only add overhead (and contention)
        return clone(make_model(spec)).fit(ds.X, ds.y)


def up_probability(model: Any, X: np.ndarray) -> np.ndarray:
    """P(label == +1) for each row of ``X``."""
    with _THREADS.limit(limits=1):
        return np.asarray(model.predict_proba(X))[:, -1]


def cross_validate(ds: Dataset, spec: ModelSpec, splits: Iterable[Split]) -> list[dict[str, float]]:
    """Fit on each split's train samples and score its test samples: sizes, accuracy, ROC AUC
    (NaN when the test fold has one class) and the test base rate."""
    out = []
    for k, (train, test) in enumerate(splits):
        model = fit_model(ds.subset(train), spec)
        p = up_probability(model, ds.X[test])
        y = ds.y[test]
        auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
        out.append({"fold": k, "n_train": len(train), "n_test": len(test),
                    "accuracy": float(accuracy_score(y, p > 0.5)), "auc": auc, "base_rate": float(y.mean())})
    return out
