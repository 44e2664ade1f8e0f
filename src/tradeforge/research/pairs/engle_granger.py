"""Engle-Granger cointegration tests for every ordered pair of columns at once.

For a pair ``(y, x)`` of log-price columns: OLS ``y = alpha + beta x + e`` on the days both have a
price, then an augmented Dickey-Fuller regression without constant on the residual,
``de_t = gamma e_{t-1} + sum_{l=1..k} phi_l de_{t-l} + u_t``, whose t-statistic on ``gamma`` gets a
MacKinnon p-value for two series. This is what ``statsmodels.tsa.stattools.coint(y, x,
maxlag=k, autolag=None)`` computes, pair by pair.

Here it is done for all pairs with matrix products. The residual is linear in the two columns,
so every sum the two regressions need (``sum e_{t-1}^2``, ``sum e_{t-1} de_t``, ...) expands into
sums of products of per-column series over the pair's common sample; with a 0/1 availability
mask per column, each such sum for all ``N x N`` pairs is one ``(T x N)^T (T x N)`` product.
Columns are demeaned first so that the expansions do not cancel digits away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeforge.research.pairs.mackinnon import mackinnon_p


@dataclass(frozen=True)
class EngleGranger:
    """``[i, j]`` holds the test of ``y = column i`` on ``x = column j`` (NaN where untestable)."""

    beta: np.ndarray  # hedge ratio
    alpha: np.ndarray  # intercept (in the original, not demeaned, log prices)
    stat: np.ndarray  # ADF t-statistic of the residual
    pvalue: np.ndarray  # MacKinnon asymptotic p-value, N = 2, constant
    nobs: np.ndarray  # rows of the ADF regression
    resid_sd: np.ndarray  # standard deviation of the OLS residual (the spread)
    ar_coef: np.ndarray  # AR(1) slope of the spread with constant (half-life = -ln 2 / ar_coef)
    lags: int


def _masked(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = ~np.isnan(values)
    return np.where(mask, values, 0.0), mask.astype(np.float64)


def engle_granger(logp: np.ndarray, lags: int = 1, min_obs: int = 60) -> EngleGranger:
    """Test all ordered pairs of the columns of ``logp`` (T x N log prices, NaN = no price).

    Missing values must be leading or trailing per column (forward-fill interior gaps first), so
    that each pair's common sample is one run of consecutive days, as statsmodels would see it.
    Pairs with fewer than ``min_obs`` ADF rows, or a constant column, get NaN.
    """
    if lags < 0:
        raise ValueError("lags must be >= 0")
    logp = np.ascontiguousarray(logp, dtype=np.float64)  # BLAS sums depend on memory layout: fix it
    t_len, n = logp.shape
    k = lags
    y, m = _masked(logp)
    count = m.sum(axis=0)
    mean = np.divide(y.sum(axis=0), count, out=np.zeros(n), where=count > 0)
    y = (y - mean) * m

    # -- OLS hedge ratio on the common sample (m_i m_j) --
    cnt = m.T @ m
    s1 = y.T @ m  # [i, j] = sum of column i over the pair's days
    s2 = (y * y).T @ m
    sxy = y.T @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        mx, my = s1.T / cnt, s1 / cnt  # x = column j, y = column i
        vxx = s2.T - cnt * mx * mx
        cxy = sxy - cnt * mx * my
        beta = cxy / vxx
        alpha_c = my - beta * mx  # intercept in demeaned units

    # -- ADF rows t = k+1 .. T-1: needs columns valid at t, t-1, ..., t-k-1 --
    w = np.ones((t_len - k - 1, n))
    for lag in range(k + 2):
        w *= m[k + 1 - lag: t_len - lag]
    d = np.zeros_like(y)
    d[1:] = y[1:] - y[:-1]
    series = [y[k: t_len - 1]] + [d[k + 1 - lag: t_len - lag] for lag in range(k + 1)]  # L, D0, D1..Dk
    series = [s * w for s in series]
    ns = len(series)
    nw = w.T @ w
    sums = [s.T @ w for s in series]  # S_u[i, j] = sum over pair rows of u_i
    cross = [[series[a].T @ series[b] for b in range(ns)] for a in range(ns)]
    own = [[None] * ns for _ in range(ns)]
    for a in range(ns):
        for b in range(a, ns):
            own[a][b] = own[b][a] = (series[a] * series[b]).T @ w

    def moment(a: int, b: int) -> np.ndarray:
        """sum over the pair's rows of (a-series of e) * (b-series of e), e = y_i - alpha - beta y_j."""
        out = own[a][b] - beta * cross[a][b] - beta * cross[b][a] + beta * beta * own[a][b].T
        if a == 0:
            out -= alpha_c * (sums[b] - beta * sums[b].T)
        if b == 0:
            out -= alpha_c * (sums[a] - beta * sums[a].T)
        if a == 0 and b == 0:
            out += alpha_c * alpha_c * nw
        return out

    reg = [0, *range(2, ns)]  # regressors: e_{t-1}, de_{t-1..t-k}; target de_t (series 1)
    p = len(reg)
    gram = np.empty((n, n, p, p))
    rhs = np.empty((n, n, p))
    for a_i, a in enumerate(reg):
        rhs[..., a_i] = moment(a, 1)
        for b_i, b in enumerate(reg):
            gram[..., a_i, b_i] = moment(a, b) if b_i >= a_i else gram[..., b_i, a_i]
    dd = moment(1, 1)
    vyy = s2 - cnt * my * my
    ok = (nw >= max(min_obs, p + 2)) & np.isfinite(beta) & (vxx > 1e-12 * cnt) & (vyy > 1e-12 * cnt)
    ok &= np.isfinite(gram).all(axis=(-2, -1)) & (gram[..., 0, 0] > 1e-14 * nw)
    np.fill_diagonal(ok, False)
    gram[~ok] = np.eye(p)
    rhs[~ok] = 0.0
    inv = np.linalg.inv(gram)
    theta = np.einsum("...ab,...b->...a", inv, rhs)
    ssr = dd - np.einsum("...a,...a->...", theta, rhs)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_u = ssr / (nw - p)
        stat = theta[..., 0] / np.sqrt(s2_u * inv[..., 0, 0])
        # AR(1) of the spread with a constant, on the same rows: de_t = c + lambda e_{t-1}
        sl = sums[0] - beta * sums[0].T - alpha_c * nw
        sd0 = sums[1] - beta * sums[1].T
        ar = (rhs[..., 0] - sl * sd0 / nw) / (gram[..., 0, 0] - sl * sl / nw)
        ee = s2 - 2 * beta * sxy + beta * beta * s2.T - cnt * (my - beta * mx) ** 2  # centered SSR of e
        resid_sd = np.sqrt(np.maximum(ee, 0.0) / (cnt - 1))
    nan = np.full((n, n), np.nan)
    stat = np.where(ok, stat, np.nan)
    np.fill_diagonal(stat, np.nan)
    valid = ~np.isnan(stat)
    alpha = alpha_c + mean[:, None] - beta * mean[None, :]
    return EngleGranger(
        beta=np.where(valid, beta, nan), alpha=np.where(valid, alpha, nan), stat=stat,
        pvalue=mackinnon_p(stat, "c", 2), nobs=np.where(valid, nw, 0).astype(np.int64),
        resid_sd=np.where(valid, resid_sd, nan), ar_coef=np.where(valid, ar, nan), lags=k,
    )
