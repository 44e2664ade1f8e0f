"""Per-spread statistics: half-life of mean reversion, Hurst exponent, false-discovery control."""

from __future__ import annotations

import numpy as np


def half_life(ar_coef: np.ndarray | float) -> np.ndarray:
    """Half-life in bars from the AR(1) slope ``lambda`` of ``de_t = c + lambda e_{t-1}``:
    ``-ln 2 / lambda``; ``inf`` where the spread does not revert (``lambda >= 0``)."""
    lam = np.asarray(ar_coef, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lam < 0, -np.log(2.0) / lam, np.inf)


def hurst_exponent(series: np.ndarray, max_lag: int = 100, min_lag: int = 2) -> np.ndarray:
    """Hurst exponent of each row of ``series`` (P x T; NaN = missing) by the scaling of the standard
    deviation of lagged differences: ``std(e_{t+tau} - e_t) ~ tau**H`` for ``tau`` in
    ``[min_lag, max_lag)``, fitted by least squares in logs. ``H < 0.5``: mean-reverting."""
    s = np.atleast_2d(np.asarray(series, dtype=np.float64))
    max_lag = min(max_lag, s.shape[1] // 2)
    lags = np.arange(min_lag, max_lag)
    if lags.size < 2:
        return np.full(s.shape[0], np.nan)
    logsd = np.empty((s.shape[0], lags.size))
    for k, tau in enumerate(lags):
        diff = s[:, tau:] - s[:, :-tau]
        with np.errstate(invalid="ignore", divide="ignore"):
            logsd[:, k] = np.log(np.nanstd(diff, axis=1))
    x = np.log(lags) - np.log(lags).mean()
    return (logsd - logsd.mean(axis=1, keepdims=True)) @ x / (x @ x)


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of a 1-D array; NaN entries stay NaN and are
    not counted as tests. Reject at false discovery rate ``q`` where the result is ``<= q``."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return out
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(q, 1.0)
    out[ok] = adj
    return out
