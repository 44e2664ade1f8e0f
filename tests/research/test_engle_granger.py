"""The vectorized Engle-Granger scan against statsmodels' ``coint`` on real pairs."""

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tools import add_constant
from statsmodels.tsa.stattools import coint

from tradeforge.research.pairs.engle_granger import engle_granger


@pytest.fixture(scope="module")
def subset(sp500):
    ids = list(sp500.ids)
    late = ["APTV.XNYS", "BHF.XNYS", "DWDP.XNYS", "BHGE.XNYS"]  # listed late: partial common samples
    rng = np.random.default_rng(3)
    pick = sorted(set(rng.choice(len(ids), 36, replace=False).tolist()) | {ids.index(s) for s in late})
    return np.log(sp500.close[:, pick]), [ids[k] for k in pick]


@pytest.mark.parametrize("lags", [0, 1, 2])
def test_matches_statsmodels_coint(subset, lags: int) -> None:
    logp, _ = subset
    eg = engle_granger(logp, lags=lags, min_obs=30)
    n = logp.shape[1]
    rng = np.random.default_rng(lags)
    pairs = [tuple(rng.choice(n, 2, replace=False)) for _ in range(25)]
    pairs += [(n - 1, 0), (0, n - 2), (n - 3, n - 4)]  # involve late listings (last columns are not sorted; fine)
    for i, j in pairs:
        y, x = logp[:, i], logp[:, j]
        ok = ~np.isnan(y) & ~np.isnan(x)
        if ok.sum() < 40:
            continue
        stat, pvalue, _ = coint(y[ok], x[ok], maxlag=lags, autolag=None)
        fit = OLS(y[ok], add_constant(x[ok])).fit()
        assert eg.stat[i, j] == pytest.approx(stat, abs=1e-8)
        assert eg.pvalue[i, j] == pytest.approx(pvalue, abs=1e-9)
        assert eg.beta[i, j] == pytest.approx(fit.params[1], rel=1e-9)
        assert eg.alpha[i, j] == pytest.approx(fit.params[0], abs=1e-9)
        assert eg.resid_sd[i, j] == pytest.approx(np.std(fit.resid, ddof=1), rel=1e-7)


def test_half_life_slope_matches_ols(subset) -> None:
    logp, _ = subset
    eg = engle_granger(logp, lags=1)
    i, j = 1, 2
    e = logp[:, i] - eg.alpha[i, j] - eg.beta[i, j] * logp[:, j]
    e = e[~np.isnan(e)]
    de, lag = np.diff(e)[1:], e[1:-1]  # the ADF rows (t >= lags + 1)
    fit = OLS(de, add_constant(lag)).fit()
    assert eg.ar_coef[i, j] == pytest.approx(fit.params[1], rel=1e-7)


def test_untestable_pairs_are_nan() -> None:
    rng = np.random.default_rng(0)
    logp = np.cumsum(rng.normal(0, 0.01, (300, 4)), axis=0)
    logp[:280, 3] = np.nan  # 20 rows only
    logp[:, 2] = 1.0  # constant column
    eg = engle_granger(logp, lags=1, min_obs=60)
    assert np.isnan(np.diag(eg.stat)).all()
    assert np.isnan(eg.stat[:, 3]).all() and np.isnan(eg.stat[3, :]).all()
    assert np.isnan(eg.stat[0, 2])
    assert np.isfinite(eg.stat[0, 1]) and np.isfinite(eg.stat[1, 0])
