"""MacKinnon (1994) response-surface p-values and MacKinnon (2010) critical values for
(augmented) Dickey-Fuller and Engle-Granger cointegration t-statistics.

The p-value is ``Phi(sum_k c_k * tau**k)`` with a cubic polynomial for small statistics
(``tau <= tau_star``) and a quadratic one above; beyond ``tau_min``/``tau_max`` it is 0 / 1.
Coefficients are MacKinnon's published tables (as transcribed in statsmodels, BSD-3), for
``N`` = 1..6 integrated series and the deterministic terms ``"n"`` (none) and ``"c"`` (constant).
Vectorized over any array of statistics.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_TAU_STAR = {"n": (-1.04, -1.53, -2.68, -3.09, -3.07, -3.77), "c": (-1.61, -2.62, -3.13, -3.47, -3.78, -3.93)}
_TAU_MIN = {
    "n": (-19.04, -19.62, -21.21, -23.25, -21.63, -25.74),
    "c": (-18.83, -18.86, -23.48, -28.07, -25.96, -23.27),
}
_TAU_MAX = {"n": (math.inf, 1.51, 0.86, 0.88, 1.05, 1.24), "c": (2.74, 0.92, 0.55, 0.61, 0.79, 1.0)}
# small-p coefficients c0, c1, c2 (c2 scaled by 1e-2); large-p c0..c3 (c1, c2 by 1e-1, c3 by 1e-2)
_SMALL = {
    "n": ((0.6344, 1.2378, 3.2496), (1.9129, 1.3857, 3.5322), (2.7648, 1.4502, 3.4186),
          (3.4336, 1.4835, 3.19), (4.0999, 1.5533, 3.59), (4.5388, 1.5344, 2.9807)),
    "c": ((2.1659, 1.4412, 3.8269), (2.92, 1.5012, 3.9796), (3.4699, 1.4856, 3.164),
          (3.9673, 1.4777, 2.6315), (4.5509, 1.5338, 2.9545), (5.1399, 1.6036, 3.4445)),
}
_LARGE = {
    "n": ((0.4797, 9.3557, -0.6999, 3.3066), (1.5578, 8.558, -2.083, -3.3549), (2.2268, 6.8093, -3.2362, -5.4448),
          (2.7654, 6.4502, -3.0811, -4.4946), (3.2684, 6.8051, -2.6778, -3.4972), (3.7268, 7.167, -2.3648, -2.8288)),
    "c": ((1.7339, 9.3202, -1.2745, -1.0368), (2.1945, 6.4695, -2.9198, -4.2377), (2.5893, 4.5168, -3.6529, -5.0074),
          (3.0387, 4.5452, -3.3666, -4.1921), (3.5049, 5.2098, -2.9158, -3.3468), (3.9489, 5.8933, -2.5359, -2.721)),
}
_SMALL_SCALE = (1.0, 1.0, 1e-2)
_LARGE_SCALE = (1.0, 1e-1, 1e-1, 1e-2)

# MacKinnon (2010) finite-sample critical values, constant only: rows 1%, 5%, 10%;
# crit = b0 + b1/T + b2/T^2 + b3/T^3
_CRIT_C = {
    1: ((-3.43035, -6.5393, -16.786, -79.433), (-2.86154, -2.8903, -4.234, -40.040), (-2.56677, -1.5384, -2.809, 0.0)),
    2: ((-3.89644, -10.9519, -33.527, 0.0), (-3.33613, -6.1101, -6.823, 0.0), (-3.04445, -4.2412, -2.720, 0.0)),
}


@njit(cache=True)
def _pvalues(stat: np.ndarray, star: float, lo: float, hi: float, small: np.ndarray, large: np.ndarray) -> np.ndarray:
    out = np.empty(stat.size)
    flat = stat.ravel()
    for i in range(flat.size):
        t = flat[i]
        if math.isnan(t):
            out[i] = np.nan
        elif t > hi:
            out[i] = 1.0
        elif t < lo:
            out[i] = 0.0
        else:
            c = small if t <= star else large
            z = 0.0
            for k in range(c.size - 1, -1, -1):  # Horner
                z = z * t + c[k]
            out[i] = 0.5 * math.erfc(-z / math.sqrt(2.0))
    return out.reshape(stat.shape)


def mackinnon_p(stat: np.ndarray | float, regression: str = "c", n_series: int = 1) -> np.ndarray:
    """Asymptotic p-value(s) of a (A)DF / Engle-Granger t-statistic; ``n_series`` is the number of
    I(1) series (1 for a unit-root test of one series, 2 for a pair's cointegration test)."""
    if regression not in _TAU_STAR or not 1 <= n_series <= 6:
        raise ValueError(f"unsupported regression {regression!r} / n_series {n_series}")
    k = n_series - 1
    small = np.array(_SMALL[regression][k]) * _SMALL_SCALE
    large = np.array(_LARGE[regression][k]) * _LARGE_SCALE
    arr = np.asarray(stat, dtype=np.float64)
    return _pvalues(np.atleast_1d(arr), _TAU_STAR[regression][k], _TAU_MIN[regression][k],
                    _TAU_MAX[regression][k], small, large).reshape(arr.shape)


def mackinnon_crit(n_series: int = 2, nobs: float = math.inf) -> tuple[float, float, float]:
    """1%, 5% and 10% critical values (constant term) for ``nobs`` observations (MacKinnon 2010)."""
    rows = _CRIT_C[n_series]
    inv = 0.0 if math.isinf(nobs) else 1.0 / nobs
    vals = [b0 + b1 * inv + b2 * inv**2 + b3 * inv**3 for b0, b1, b2, b3 in rows]
    return vals[0], vals[1], vals[2]
