"""Machine-learning signals: features, labels, purged walk-forward cross-validation, models and
fingerprinted artifacts, all over a (days x instruments) panel of daily prices.

Every feature at day ``t`` is a function of rows ``t - window + 1 .. t`` only (never later rows), so
computing it on a full history or on a prefix gives bit-identical values; a label records the day
its outcome became known (``end``), so a model trained "as of" a day uses only labels ended before it.
"""

from tradeforge.research.ml.artifacts import (
    ArtifactError,
    fingerprint_arrays,
    fingerprint_params,
    load_model,
    save_model,
)
from tradeforge.research.ml.cv import purged_kfold, purged_walk_forward
from tradeforge.research.ml.data import Panel, load_daily, panel_from_bars
from tradeforge.research.ml.dataset import Dataset, build_dataset
from tradeforge.research.ml.features import FeatureConfig, compute_features
from tradeforge.research.ml.labels import LabelConfig, Labels, forward_returns, triple_barrier
from tradeforge.research.ml.model import ModelSpec, cross_validate, fit_model, make_model

__all__ = [
    "ArtifactError",
    "Dataset",
    "FeatureConfig",
    "LabelConfig",
    "Labels",
    "ModelSpec",
    "Panel",
    "build_dataset",
    "compute_features",
    "cross_validate",
    "fingerprint_arrays",
    "fingerprint_params",
    "fit_model",
    "forward_returns",
    "load_daily",
    "load_model",
    "make_model",
    "panel_from_bars",
    "purged_kfold",
    "purged_walk_forward",
    "save_model",
    "triple_barrier",
]
