"""Seeded models, purged CV scores and fingerprinted artifacts."""

from __future__ import annotations

import numpy as np
import pytest

from tradeforge.research.ml import (
    ArtifactError,
    LabelConfig,
    ModelSpec,
    build_dataset,
    compute_features,
    cross_validate,
    fingerprint_arrays,
    fit_model,
    load_model,
    purged_walk_forward,
    save_model,
    triple_barrier,
)
from tradeforge.research.ml.model import up_probability


@pytest.fixture(scope="module")
def ds(ml_panel):
    names, X = compute_features(ml_panel.close, ml_panel.volume)
    return build_dataset(names, X, triple_barrier(ml_panel.close, LabelConfig()))


@pytest.mark.parametrize("kind", ["logistic", "random_forest"])
def test_models_are_deterministic(ds, kind) -> None:
    spec = ModelSpec(kind, {"n_estimators": 20} if kind == "random_forest" else {}, seed=3)
    sub = ds.subset(np.arange(2000))
    a, b = fit_model(sub, spec), fit_model(sub, spec)
    np.testing.assert_array_equal(up_probability(a, ds.X[2000:2500]), up_probability(b, ds.X[2000:2500]))


def test_cross_validate_walk_forward(ds) -> None:
    folds = cross_validate(ds, ModelSpec("logistic"), purged_walk_forward(ds.t0, ds.t1, 3, embargo=2))
    assert len(folds) == 3
    for f in folds:
        assert f["n_train"] > 0 and f["n_test"] > 0 and 0 <= f["accuracy"] <= 1 and 0 <= f["auc"] <= 1
    with pytest.raises(ValueError, match="unknown model kind"):
        fit_model(ds, ModelSpec("nope"))


def test_artifact_round_trip_and_fingerprint_checks(ds, tmp_path) -> None:
    spec = ModelSpec("logistic", seed=1)
    params = {"model": spec.to_dict(), "labels": LabelConfig().to_dict()}
    model = fit_model(ds, spec)
    meta = save_model(tmp_path / "m", model, ds.arrays(), params)
    assert (tmp_path / "m.pkl").exists() and (tmp_path / "m.json").exists()
    assert meta["data_fingerprint"] == fingerprint_arrays(ds.arrays())
    loaded, meta2 = load_model(tmp_path / "m", data=ds.arrays(), params=params)
    assert meta2 == meta
    np.testing.assert_array_equal(up_probability(loaded, ds.X[:100]), up_probability(model, ds.X[:100]))
    # other data, other params, a modified pickle: refused
    other = dict(ds.arrays(), X=ds.X + 1e-12)
    with pytest.raises(ArtifactError, match="data fingerprint"):
        load_model(tmp_path / "m", data=other)
    with pytest.raises(ArtifactError, match="params fingerprint"):
        load_model(tmp_path / "m", params={**params, "model": ModelSpec("logistic", seed=2).to_dict()})
    blob = (tmp_path / "m.pkl").read_bytes()
    (tmp_path / "m.pkl").write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(ArtifactError, match="modified or corrupted"):
        load_model(tmp_path / "m")
    with pytest.raises(ArtifactError, match="not found"):
        load_model(tmp_path / "missing")
