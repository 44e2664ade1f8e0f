"""Features over a (days x instruments) panel: returns over several horizons, indicator values and
cross-sectional ranks.

Each windowed statistic at day ``t`` is accumulated from rows ``t, t-1, ..., t-n+1`` in that fixed
order with element-wise operations, so its value does not depend on how much history precedes or
follows it: features computed on a prefix of the panel equal those computed on the whole panel, bit
for bit (the no-look-ahead guarantee the strategy relies on; tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """``horizons``: return look-backs in days; ``window``: SMA gap, z-score, volatility and volume
    window; ``rsi``: RSI window (simple averages of gains and losses); ``ranks``: add each feature's
    cross-sectional rank in [0, 1]; ``volume``: add the volume ratio."""

    horizons: tuple[int, ...] = (1, 5, 20)
    window: int = 20
    rsi: int = 14
    ranks: bool = True
    volume: bool = True

    @property
    def lookback(self) -> int:
        """Rows of history a feature row needs (the row itself included)."""
        return max(max(self.horizons, default=0) + 1, self.window + 1, self.rsi + 1)

    def to_dict(self) -> dict[str, object]:
        return {"horizons": list(self.horizons), "window": self.window, "rsi": self.rsi, "ranks": self.ranks,
                "volume": self.volume}

    @classmethod
    def from_dict(cls, d: dict[str, object] | None) -> FeatureConfig:
        d = dict(d or {})
        if "horizons" in d:
            d["horizons"] = tuple(int(h) for h in d["horizons"])  # type: ignore[union-attr]
        return cls(**d)  # type: ignore[arg-type]


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` moved down ``k`` rows (row ``t`` holds ``x[t - k]``), NaN on top."""
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def window_sum(x: np.ndarray, n: int) -> np.ndarray:
    """Sum of rows ``t-n+1 .. t`` (NaN for the first ``n-1`` rows), newest first, element-wise."""
    out = x.copy()
    for k in range(1, n):
        out += _shift(x, k)
    return out


def window_mean_sd(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and sample standard deviation over ``n`` rows (two-pass, no cancellation)."""
    mean = window_sum(x, n) / n
    ss = (x - mean) ** 2
    for k in range(1, n):
        ss += (_shift(x, k) - mean) ** 2
    return mean, np.sqrt(ss / (n - 1))


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """RSI over the last ``n`` changes with simple averages (Cutler): 100 * gains / (gains + losses)."""
    d = close - _shift(close, 1)
    gains = window_sum(np.where(d > 0, d, np.where(np.isnan(d), np.nan, 0.0)), n)
    losses = window_sum(np.where(d < 0, -d, np.where(np.isnan(d), np.nan, 0.0)), n)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * gains / total, np.where(np.isnan(total), np.nan, 50.0))


def cross_sectional_rank(x: np.ndarray) -> np.ndarray:
    """Per row, each finite value's rank among the row's finite values scaled to [0, 1] (0.5 if alone;
    ties broken by column order)."""
    ok = np.isfinite(x)
    order = np.argsort(np.where(ok, x, np.inf), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(x.shape[1])[None, :].repeat(len(x), 0), axis=1)
    count = ok.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 1, ranks / (count - 1), 0.5)
    return np.where(ok, out, np.nan)


def compute_features(
    close: np.ndarray, volume: np.ndarray | None = None, cfg: FeatureConfig | None = None,
) -> tuple[list[str], np.ndarray]:
    """Feature names and values ``X[t, j, f]`` for a ``(days, instruments)`` close panel."""
    cfg = cfg or FeatureConfig()
    close = np.asarray(close, dtype=np.float64)
    names: list[str] = []
    cols: list[np.ndarray] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for h in cfg.horizons:
            names.append(f"ret_{h}")
            cols.append(close / _shift(close, h) - 1.0)
        mean, sd = window_mean_sd(close, cfg.window)
        names += [f"sma_gap_{cfg.window}", f"zscore_{cfg.window}"]
        cols += [close / mean - 1.0, np.where(sd > 0, (close - mean) / sd, 0.0)]
        names.append(f"rsi_{cfg.rsi}")
        cols.append(rsi(close, cfg.rsi))
        logret = np.log(close / _shift(close, 1))
        names.append(f"vol_{cfg.window}")
        cols.append(window_mean_sd(logret, cfg.window)[1])
        if cfg.volume and volume is not None:
            vol = np.asarray(volume, dtype=np.float64)
            names.append(f"volume_ratio_{cfg.window}")
            cols.append(vol / (window_sum(vol, cfg.window) / cfg.window) - 1.0)
    if cfg.ranks:
        names += [f"{n}_rank" for n in list(names)]
        cols += [cross_sectional_rank(c) for c in list(cols)]
    X = np.stack(cols, axis=-1) if cols else np.zeros((*close.shape, 0))
    X[~np.isfinite(X)] = np.nan
    return names, X
