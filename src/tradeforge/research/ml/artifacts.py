"""Model artifacts: a pickle plus a JSON sidecar holding the model's data fingerprint (a hash of the
training arrays), parameter fingerprint (a hash of the canonical JSON of its parameters) and the
pickle's own hash. Loading verifies the pickle against the sidecar and, when given, the expected
fingerprints, so a model is never silently used with other data or settings.

Unpickling runs code: load artifacts you (or your pipeline) wrote, never untrusted files.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

FORMAT_VERSION = 1


class ArtifactError(Exception):
    """An artifact is missing, corrupted, or does not match the expected data / parameters."""


def fingerprint_arrays(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the arrays (in name order)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def fingerprint_params(params: Mapping[str, Any]) -> str:
    """SHA-256 of the parameters as canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _paths(path: str | Path) -> tuple[Path, Path]:
    base = Path(path)
    base = base.with_suffix("") if base.suffix in (".pkl", ".json") else base
    return base.with_name(base.name + ".pkl"), base.with_name(base.name + ".json")


def save_model(
    path: str | Path, model: Any, data: Mapping[str, np.ndarray], params: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``path.pkl`` and ``path.json``; returns the sidecar's content."""
    pkl, sidecar = _paths(path)
    pkl.parent.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(model, protocol=5)
    meta = {
        "format": FORMAT_VERSION,
        "data_fingerprint": fingerprint_arrays(data),
        "params_fingerprint": fingerprint_params(params),
        "params": json.loads(json.dumps(params, sort_keys=True, default=str)),
        "data_shapes": {k: list(np.shape(v)) for k, v in sorted(data.items())},
        "model_sha256": hashlib.sha256(blob).hexdigest(),
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "sklearn_version": sklearn.__version__,
        **dict(extra or {}),
    }
    pkl.write_bytes(blob)
    sidecar.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def load_model(
    path: str | Path, data_fingerprint: str | None = None, params_fingerprint: str | None = None,
    *, data: Mapping[str, np.ndarray] | None = None, params: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The model and its sidecar, after checking the pickle's hash and the expected fingerprints
    (given directly, or computed from ``data`` / ``params``)."""
    pkl, sidecar = _paths(path)
    if not pkl.exists() or not sidecar.exists():
        raise ArtifactError(f"artifact {pkl} / {sidecar.name} not found")
    meta = json.loads(sidecar.read_text())
    blob = pkl.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("model_sha256"):
        raise ArtifactError(f"{pkl} does not match the hash in {sidecar.name} (modified or corrupted)")
    if data is not None:
        data_fingerprint = fingerprint_arrays(data)
    if params is not None:
        params_fingerprint = fingerprint_params(params)
    for what, want in (("data", data_fingerprint), ("params", params_fingerprint)):
        have = meta.get(f"{what}_fingerprint")
        if want is not None and want != have:
            raise ArtifactError(f"{pkl}: {what} fingerprint {have[:12] if have else None}... differs from the "
                                f"expected {want[:12]}...")
    if meta.get("sklearn_version") != sklearn.__version__:
        raise ArtifactError(f"{pkl} was saved with scikit-learn {meta.get('sklearn_version')}, "
                            f"this is {sklearn.__version__}")
    return pickle.loads(blob), meta
