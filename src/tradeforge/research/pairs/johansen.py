"""Johansen trace test for a pair of series (constant term, ``k_ar_diff`` lagged differences), as
``statsmodels.tsa.vector_ar.vecm.coint_johansen(endog, det_order=0, k_ar_diff=k)`` computes it."""

from __future__ import annotations

import numpy as np

# Osterwald-Lenum critical values of the trace statistic with a constant (det_order 0): 90/95/99%,
# for 2 (r = 0) and 1 (r <= 1) common stochastic trends.
TRACE_CRIT = {2: (13.4294, 15.4943, 19.9349), 1: (2.7055, 3.8415, 6.6349)}


def _resid(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return y - z @ np.linalg.lstsq(z, y, rcond=None)[0] if z.size else y


def johansen_trace(endog: np.ndarray, k_ar_diff: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and trace statistics ``[r = 0, r <= 1]`` for a ``T x 2`` array."""
    x = endog - endog.mean(axis=0)
    dx = np.diff(x, axis=0)
    z = np.hstack([dx[k_ar_diff - lag: len(dx) - lag] for lag in range(1, k_ar_diff + 1)]) if k_ar_diff else (
        np.zeros((len(dx), 0)))
    z = z - z.mean(axis=0) if z.size else z
    d0 = dx[k_ar_diff:]
    r0 = _resid(d0 - d0.mean(axis=0), z)
    lx = x[k_ar_diff: len(x) - 1]
    rk = _resid(lx - lx.mean(axis=0), z)
    t = rk.shape[0]
    skk, sk0, s00 = rk.T @ rk / t, rk.T @ r0 / t, r0.T @ r0 / t
    eig = np.linalg.eigvals(np.linalg.solve(skk, sk0 @ np.linalg.solve(s00, sk0.T)))
    eig = np.sort(eig.real)[::-1]
    logs = np.log(1.0 - eig)
    trace = -t * np.array([logs.sum(), logs[1:].sum()])
    return eig, trace


def johansen_pairs(logp: np.ndarray, pairs: np.ndarray, k_ar_diff: int = 1) -> np.ndarray:
    """Trace statistic for ``r = 0`` of each ``(i, j)`` row of ``pairs`` on the columns' common days."""
    out = np.full(len(pairs), np.nan)
    for n, (i, j) in enumerate(pairs):
        both = logp[:, [i, j]]
        both = both[~np.isnan(both).any(axis=1)]
        if len(both) > 10 * (k_ar_diff + 2):
            out[n] = johansen_trace(both, k_ar_diff)[1][0]
    return out
