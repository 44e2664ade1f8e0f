"""``indicators``: updates per second of each incremental indicator on ``n`` synthetic bars
(a regime random walk of raw integer prices with highs, lows and volumes). Each indicator gets its
natural input (close, high/low/close, close/volume, price/volume/time, or an x/y pair) from
pre-built Python lists; the loop calls ``update*`` once per bar. Cross-check: SMA(20) and EMA(20)
against numpy on the same closes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import peak_rss_mb, regime_walk

NAME = "indicators"
DEFAULT_N = 1_000_000


def _cases() -> dict[str, tuple[Callable[[], Any], str]]:
    from tradeforge.strategy.indicators import EMA, SMA
    from tradeforge.strategy.kalman import KalmanHedgeRatio
    from tradeforge.strategy.rolling import RSI, WMA, BollingerBands, RollingRegression
    from tradeforge.strategy.trend import ADX, ATR, MACD, Stochastic
    from tradeforge.strategy.volume import OBV, VWAP

    return {
        "sma_20": (lambda: SMA(20), "c"), "ema_20": (lambda: EMA(20), "c"), "wma_20": (lambda: WMA(20), "c"),
        "rsi_14": (lambda: RSI(14), "c"), "macd_12_26_9": (lambda: MACD(12, 26, 9), "c"),
        "bollinger_20": (lambda: BollingerBands(20), "c"), "atr_14": (lambda: ATR(14), "hlc"),
        "adx_14": (lambda: ADX(14), "hlc"), "stochastic_14_3": (lambda: Stochastic(14, 3), "hlc"),
        "obv": (lambda: OBV(), "cv"), "vwap_session": (lambda: VWAP(session_ns=390 * 60 * 10**9), "pvt"),
        "rolling_regression_60": (lambda: RollingRegression(60), "xy"),
        "kalman_hedge_ratio": (lambda: KalmanHedgeRatio(1e-4, 1e-3), "xy"),
    }


def _loop(ind: Any, kind: str, d: dict[str, list[Any]]) -> float:
    t = time.perf_counter()
    if kind == "c":
        u = ind.update
        for c in d["c"]:
            u(c)
    elif kind == "hlc":
        u = ind.update_hlc
        for h, lo, c in zip(d["h"], d["l"], d["c"], strict=True):
            u(h, lo, c)
    elif kind == "cv":
        u = ind.update_cv
        for c, v in zip(d["c"], d["v"], strict=True):
            u(c, v)
    elif kind == "pvt":
        u = ind.update_pv
        for c, v, ts in zip(d["c"], d["v"], d["t"], strict=True):
            u(c, v, ts)
    else:
        u = ind.update
        for x, y in zip(d["x"], d["c"], strict=True):
            u(x, y)
    return time.perf_counter() - t


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    close = regime_walk(n, rng, 100_000)
    spread = np.abs(rng.normal(0, 40, (2, n))).astype(np.int64)
    x = regime_walk(n, rng, 80_000)
    d = {
        "c": close.tolist(), "h": (close + spread[0]).tolist(), "l": (close - spread[1]).tolist(),
        "v": rng.integers(1, 10_000, n).tolist(), "t": (np.arange(n, dtype=np.int64) * 60 * 10**9).tolist(),
        "x": x.tolist(),
    }
    setup = time.perf_counter() - t0
    per: dict[str, dict[str, float]] = {}
    total = 0.0
    for name, (make, kind) in _cases().items():
        best = min(_loop(make(), kind, d) for _ in range(repeats))
        per[name] = {"seconds": round(best, 4), "updates_per_s": round(n / best, 1)}
        total += best
    k = len(per)
    rec: dict[str, Any] = {
        "name": NAME, "n_events": n * k, "seconds": round(total, 4), "events_per_s": round(n * k / total, 1),
        "peak_rss_mb": peak_rss_mb(), "bars": n, "indicators": k, "setup_seconds": round(setup, 4),
        "per_indicator": per, "repeats": repeats, "seed": seed, "cross_check": _cross_check(close),
    }
    return rec


def _cross_check(close: np.ndarray) -> str:
    from tradeforge.strategy.indicators import EMA, SMA

    m = min(len(close), 5000)
    c = close[:m].astype(np.float64)
    sma, ema = SMA(20), EMA(20)
    out_s, out_e = [], []
    for v in c.tolist():
        sma.update(v)
        ema.update(v)
        out_s.append(sma.value)
        out_e.append(ema.value)
    ref_s = np.convolve(c, np.ones(20) / 20, mode="valid")
    a, ref_e = 2 / 21, np.empty(m)
    ref_e[0] = c[0]
    for i in range(1, m):
        ref_e[i] = ref_e[i - 1] + a * (c[i] - ref_e[i - 1])
    ok = np.allclose(out_s[19:], ref_s, rtol=1e-9) and np.allclose(out_e, ref_e, rtol=1e-12)
    return "ok" if ok else "MISMATCH: SMA/EMA against numpy"
