"""Incremental indicators against pandas / numpy on real AAPL / MSFT daily closes (to 1e-9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tradeforge.strategy.rolling import (
    RSI,
    WMA,
    BollingerBands,
    RollingRegression,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "data/daily/all_stocks_5yr.csv.gz", usecols=["date", "close", "Name"])
    df = df[df["Name"].isin(["AAPL", "MSFT"])].pivot(index="date", columns="Name", values="close")
    return df.dropna()


@pytest.mark.parametrize("n", [5, 20])
def test_wma(closes, n: int) -> None:
    s = closes["AAPL"]
    w = np.arange(1, n + 1)
    ref = s.rolling(n).apply(lambda a: (a * w).sum() / w.sum(), raw=True).to_numpy()
    ind, out = WMA(n), []
    for v in s:
        ind.update(v)
        out.append(ind.value if ind.initialized else np.nan)
    np.testing.assert_allclose(out, ref, rtol=1e-9, equal_nan=True)


def test_bollinger_and_zscore(closes) -> None:
    s = closes["MSFT"]
    mean, sd = s.rolling(20).mean(), s.rolling(20).std()
    ind, rows = BollingerBands(20, 2.0), []
    for v in s:
        ind.update(v)
        rows.append((ind.value, ind.upper, ind.zscore) if ind.initialized else (np.nan,) * 3)
    got = np.array(rows)
    np.testing.assert_allclose(got[:, 0], mean, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got[:, 1], mean + 2 * sd, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got[:, 2], ((s - mean) / sd).to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True)


def test_rsi(closes) -> None:
    s = closes["AAPL"]
    d = s.diff()
    gain = d.clip(lower=0).iloc[1:].ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-d).clip(lower=0).iloc[1:].ewm(alpha=1 / 14, adjust=False).mean()
    ref = (100 * gain / (gain + loss)).to_numpy()
    ind, out = RSI(14), []
    for v in s:
        ind.update(v)
        out.append(ind.value)
    np.testing.assert_allclose(out[1:], ref, rtol=1e-9)


def test_rolling_regression_and_correlation(closes) -> None:
    """Two-pass (centered) OLS per window with numpy; pandas' rolling cov itself is only good to
    ~4e-9 relative where the covariance nears 0, ours to ~1e-10."""
    x, y = closes["MSFT"].to_numpy(), closes["AAPL"].to_numpy()
    n = 60
    xw, yw = sliding_window_view(x, n), sliding_window_view(y, n)
    xc, yc = xw - xw.mean(1, keepdims=True), yw - yw.mean(1, keepdims=True)
    sxx, syy, sxy = (xc * xc).sum(1), (yc * yc).sum(1), (xc * yc).sum(1)
    beta = sxy / sxx
    alpha = yw.mean(1) - beta * xw.mean(1)
    corr = sxy / np.sqrt(sxx * syy)
    ind, rows = RollingRegression(n), []
    for a, b in zip(x, y, strict=True):
        ind.update(a, b)
        if ind.initialized:
            rows.append((ind.beta, ind.alpha, ind.residual, ind.corr))
    got = np.array(rows)
    np.testing.assert_allclose(got[:, 0], beta, rtol=1e-9)
    np.testing.assert_allclose(got[:, 1], alpha, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got[:, 2], y[n - 1:] - alpha - beta * x[n - 1:], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got[:, 3], corr, rtol=1e-9)
    pd_corr = pd.Series(x).rolling(n).corr(pd.Series(y)).to_numpy()[n - 1:]
    np.testing.assert_allclose(got[:, 3], pd_corr, rtol=1e-8, atol=1e-12)  # pandas: ~4e-9 near 0
