"""MACD, ATR, ADX, stochastic, OBV, VWAP and the Kalman hedge ratio against reference formulas
computed with pandas / numpy on real data (S&P 500 daily OHLCV, CME 6E one-minute bars), to 1e-9."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeforge.model.data import Bar
from tradeforge.strategy.kalman import KalmanHedgeRatio
from tradeforge.strategy.trend import ADX, ATR, MACD, Stochastic
from tradeforge.strategy.volume import OBV, VWAP

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-9


@pytest.fixture(scope="module")
def ohlcv() -> dict[str, pd.DataFrame]:
    df = pd.read_csv(ROOT / "data/daily/all_stocks_5yr.csv.gz")
    return {k: g.dropna().reset_index(drop=True) for k, g in df[df["Name"].isin(["AAPL", "MSFT"])].groupby("Name")}


def _feed(ind, df: pd.DataFrame, attrs: tuple[str, ...], ready=None) -> np.ndarray:
    rows = []
    for h, lo, c in zip(df["high"], df["low"], df["close"], strict=True):
        ind.update_hlc(h, lo, c)
        ok = ind.initialized if ready is None else ready(ind)
        rows.append([getattr(ind, a) if ok else np.nan for a in attrs])
    return np.array(rows)


def _rma(x: pd.Series, n: int) -> pd.Series:
    """Wilder's average seeded with the mean of the first n values (NaN before)."""
    x = x.dropna()
    seeded = pd.concat([pd.Series([x.iloc[:n].mean()], index=[x.index[n - 1]]), x.iloc[n:]])
    return seeded.ewm(alpha=1 / n, adjust=False).mean()


def _true_range(df: pd.DataFrame) -> pd.Series:
    pc = df["close"].shift()
    tr = pd.concat([df["high"] - df["low"], (df["high"] - pc).abs(), (df["low"] - pc).abs()], axis=1).max(axis=1)
    return tr.where(pc.notna())


def test_macd(ohlcv) -> None:
    c = ohlcv["AAPL"]["close"]
    line = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    sig = line.ewm(span=9, adjust=False).mean()
    ind, rows = MACD(12, 26, 9), []
    for v in c:
        ind.update(v)
        rows.append((ind.value, ind.signal, ind.histogram))
    got = np.array(rows)
    for k, ref in enumerate((line, sig, line - sig)):
        np.testing.assert_allclose(got[:, k], ref, rtol=RTOL, atol=1e-9)
    assert not MACD().initialized


@pytest.mark.parametrize("name", ["AAPL", "MSFT"])
def test_atr_wilder(ohlcv, name: str) -> None:
    df = ohlcv[name]
    ref = _rma(_true_range(df), 14).reindex(df.index)
    got = _feed(ATR(14), df, ("value",))
    assert np.isnan(got[:14, 0]).all() and not np.isnan(got[14:, 0]).any()
    np.testing.assert_allclose(got[:, 0], ref, rtol=RTOL, equal_nan=True)


@pytest.mark.parametrize("name", ["AAPL", "MSFT"])
def test_adx_and_directional_indicators(ohlcv, name: str) -> None:
    df, n = ohlcv[name], 14
    up, down = df["high"].diff(), -df["low"].diff()
    pdm = up.where((up > down) & (up > 0), 0.0).where(up.notna())
    mdm = down.where((down > up) & (down > 0), 0.0).where(up.notna())
    tr = _rma(_true_range(df), n)
    pdi, mdi = 100 * _rma(pdm, n) / tr, 100 * _rma(mdm, n) / tr
    dx = 100 * (pdi - mdi).abs() / (pdi + mdi)
    adx = _rma(dx, n).reindex(df.index)
    got = _feed(ADX(n), df, ("plus_di", "minus_di", "dx"), ready=lambda i: not np.isnan(i.plus_di))
    for k, ref in enumerate((pdi, mdi, dx)):
        np.testing.assert_allclose(got[:, k], ref.reindex(df.index), rtol=RTOL, equal_nan=True)
    got_adx = _feed(ADX(n), df, ("value",))
    assert np.isnan(got_adx[: 2 * n - 1, 0]).all()
    np.testing.assert_allclose(got_adx[:, 0], adx, rtol=RTOL, equal_nan=True)


def test_stochastic(ohlcv) -> None:
    df = ohlcv["MSFT"]
    hh, ll = df["high"].rolling(14).max(), df["low"].rolling(14).min()
    k = 100 * (df["close"] - ll) / (hh - ll)
    d = k.rolling(3).mean()
    got = _feed(Stochastic(14, 3), df, ("k", "d"))
    np.testing.assert_allclose(got[:, 0], k, rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(got[:, 1], d, rtol=RTOL, equal_nan=True)


def test_obv_exact_on_raw_integers(ohlcv) -> None:
    df = ohlcv["AAPL"]
    close = (df["close"] * 10_000).round().astype(np.int64)  # raw fixed-point prices
    vol = df["volume"].astype(np.int64)
    ref = (np.sign(close.diff()).fillna(0).astype(np.int64) * vol).cumsum().to_numpy()
    ind, out = OBV(), []
    for c, v in zip(close.tolist(), vol.tolist(), strict=True):
        ind.update_cv(c, v)
        out.append(ind.value)
    assert out == ref.tolist()
    with pytest.raises(TypeError):
        ind.update(1.0)
    bar = Bar("X", 1, 2, 1, 2, 7, 0, 0)
    ind.reset()
    ind.update_bar(bar)
    assert ind.value == 0 and ind.initialized


def test_vwap_daily_sessions_on_cme_minute_bars() -> None:
    df = pd.read_csv(ROOT / "data/intraday/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    ts = pd.to_datetime(df["timestamp_utc"]).astype("int64").to_numpy()
    tp = (df["high"] + df["low"] + df["close"]) / 3
    day = ts // 86_400_000_000_000
    pv = (tp * df["volume"]).groupby(day).cumsum()
    ref = (pv / df["volume"].groupby(day).cumsum()).to_numpy()
    ind, out = VWAP(session_ns=86_400_000_000_000), []
    for h, lo, c, v, t in zip(df["high"], df["low"], df["close"], df["volume"], ts.tolist(), strict=True):
        ind.update_bar(Bar("6EH4.XCME", 0, h, lo, c, v, t, t))
        out.append(ind.value)
    np.testing.assert_allclose(out, ref, rtol=RTOL)
    # anchored by hand: equals a cumulative VWAP from the anchor
    ind = VWAP()
    for k, (p, v) in enumerate(zip(tp[:500], df["volume"][:500], strict=True)):
        if k == 200:
            ind.anchor()
        ind.update_pv(p, v)
    ref2 = (tp[200:500] * df["volume"][200:500]).sum() / df["volume"][200:500].sum()
    assert ind.value == pytest.approx(ref2, rel=RTOL)


def test_kalman_hedge_ratio_matches_matrix_filter(ohlcv) -> None:
    x, y = ohlcv["MSFT"]["close"].to_numpy(), ohlcv["AAPL"]["close"].to_numpy()
    delta, ve = 1e-4, 1e-3
    vw = delta / (1 - delta) * np.eye(2)
    theta, p = np.zeros(2), np.zeros((2, 2))
    ref = []
    for xt, yt in zip(x, y, strict=True):  # textbook matrix form (Chan 2013, ex. 3.3)
        h = np.array([xt, 1.0])
        r = p + vw
        q = h @ r @ h + ve
        e = yt - h @ theta
        k = r @ h / q
        theta = theta + k * e
        p = r - np.outer(k, h) @ r
        ref.append((theta[0], theta[1], e, q))
    ref = np.array(ref)
    ind, rows = KalmanHedgeRatio(delta, ve), []
    for xt, yt in zip(x, y, strict=True):
        ind.update(xt, yt)
        rows.append((ind.beta, ind.alpha, ind.error, ind.q))
    got = np.array(rows)
    np.testing.assert_allclose(got[:, [0, 1, 3]], ref[:, [0, 1, 3]], rtol=RTOL)
    np.testing.assert_allclose(got[:, 2], ref[:, 2], rtol=RTOL, atol=1e-9)
    assert ind.initialized and ind.value == ind.beta
    assert 0.5 < ind.beta < 3  # AAPL ~ 1-2x MSFT over these years
    with pytest.raises(ValueError):
        KalmanHedgeRatio(delta=1.0)


def test_reset_and_close_only_update(ohlcv) -> None:
    df = ohlcv["AAPL"].iloc[:60]
    for make in (lambda: ATR(5), lambda: ADX(5), lambda: Stochastic(5, 3), lambda: MACD(3, 6, 4)):
        a, b = make(), make()
        for c in df["close"]:
            a.update(c)
        a.reset()
        for h, lo, c in zip(df["high"], df["low"], df["close"], strict=True):
            a.update_hlc(h, lo, c) if hasattr(a, "update_hlc") else a.update(c)
            b.update_hlc(h, lo, c) if hasattr(b, "update_hlc") else b.update(c)
        assert a.value == b.value and a.count == b.count


def test_sma_ema(ohlcv) -> None:
    from tradeforge.strategy.indicators import EMA, SMA

    c = ohlcv["AAPL"]["close"]
    sma, ema, rows = SMA(20), EMA(20), []
    for v in c:
        sma.update(v)
        ema.update(v)
        rows.append((sma.value if sma.initialized else np.nan, ema.value))
    got = np.array(rows)
    np.testing.assert_allclose(got[:, 0], c.rolling(20).mean(), rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(got[:, 1], c.ewm(span=20, adjust=False).mean(), rtol=RTOL)
