"""Labels: forward returns and the triple barrier (profit-take, stop-loss, vertical barrier).

Every label carries ``end``: the row at which its outcome was known (``-1`` while unknown). A label
found on a prefix of the panel equals the label found on the whole panel whenever it is known on the
prefix, because the first barrier touched does not depend on later prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeforge.research.ml.features import window_mean_sd


@dataclass(frozen=True, slots=True)
class LabelConfig:
    """``horizon``: vertical barrier in rows; ``pt`` / ``sl``: profit-take and stop-loss distances in
    units of ``sigma * sqrt(horizon)`` where ``sigma`` is the sd of daily log returns over
    ``vol_window`` rows up to the event (``vol_window = 0``: ``pt`` / ``sl`` are plain fractions)."""

    horizon: int = 5
    pt: float = 1.0
    sl: float = 1.0
    vol_window: int = 20

    def to_dict(self) -> dict[str, object]:
        return {"horizon": self.horizon, "pt": self.pt, "sl": self.sl, "vol_window": self.vol_window}

    @classmethod
    def from_dict(cls, d: dict[str, object] | None) -> LabelConfig:
        return cls(**dict(d or {}))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Labels:
    """``label[t, j]`` in {-1, 0, +1}, the return ``ret`` from ``t`` to ``end``, and ``end[t, j]``
    (row index, ``-1`` while the outcome is unknown)."""

    label: np.ndarray
    ret: np.ndarray
    end: np.ndarray


def forward_returns(close: np.ndarray, horizon: int) -> Labels:
    """``close[t + h] / close[t] - 1`` with ``end = t + h``; label is its sign."""
    close = np.asarray(close, dtype=np.float64)
    T = len(close)
    ret = np.full_like(close, np.nan)
    end = np.full(close.shape, -1, dtype=np.int64)
    if horizon < T:
        with np.errstate(invalid="ignore", divide="ignore"):
            ret[: T - horizon] = close[horizon:] / close[: T - horizon] - 1.0
        end[: T - horizon] = (np.arange(T - horizon) + horizon)[:, None]
    end[~np.isfinite(ret)] = -1
    label = np.where(end >= 0, np.sign(np.nan_to_num(ret)), 0).astype(np.int8)
    return Labels(label, ret, end)


def triple_barrier(close: np.ndarray, cfg: LabelConfig | None = None) -> Labels:
    """For each event ``(t, j)``: +1 if the price first rises ``pt`` above ``close[t]``, -1 if it first
    falls ``sl`` below, else (vertical barrier at ``t + horizon``) the sign of the return then.
    A touch of both on the same row counts as the stop (conservative)."""
    cfg = cfg or LabelConfig()
    close = np.asarray(close, dtype=np.float64)
    T = len(close)
    if cfg.vol_window > 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            logret = np.log(close / np.vstack([np.full((1, close.shape[1]), np.nan), close[:-1]]))
        width = window_mean_sd(logret, cfg.vol_window)[1] * np.sqrt(cfg.horizon)
    else:
        width = np.ones_like(close)
    up, down = cfg.pt * width, -cfg.sl * width
    label = np.zeros(close.shape, dtype=np.int8)
    ret = np.full_like(close, np.nan)
    end = np.full(close.shape, -1, dtype=np.int64)
    rows = np.arange(T)[:, None]
    for k in range(1, cfg.horizon + 1):
        if k >= T:
            break
        r = np.full_like(close, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            r[: T - k] = close[k:] / close[: T - k] - 1.0
        open_ = (end < 0) & np.isfinite(r) & np.isfinite(width)
        stop = open_ & (r <= down)
        take = open_ & ~stop & (r >= up)
        vertical = open_ & ~stop & ~take & (k == cfg.horizon)
        for hit, lab in ((stop, -1), (take, 1), (vertical, None)):
            if lab is None:
                label[hit] = np.sign(r[hit]).astype(np.int8)
            else:
                label[hit] = lab
            ret[hit] = r[hit]
            end[hit] = np.broadcast_to(rows + k, close.shape)[hit]
    return Labels(label, ret, end)
