"""A dense close-price matrix (dates x instruments); pure numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PriceMatrix:
    """Closes as floats, ``close[t, i]`` for ``dates[t]`` (ns, ascending) and ``ids[i]``; NaN before
    an instrument's first bar and after its last. A day missing inside an instrument's history
    carries the previous close (see :func:`forward_fill`)."""

    dates: np.ndarray
    ids: tuple[str, ...]
    close: np.ndarray

    def window(self, start: int, stop: int) -> PriceMatrix:
        """Rows ``start:stop`` (positions, not timestamps)."""
        return PriceMatrix(self.dates[start:stop], self.ids, self.close[start:stop])

    def columns(self, ids: Sequence[str]) -> PriceMatrix:
        pos = {s: k for k, s in enumerate(self.ids)}
        idx = [pos[s] for s in ids]
        return PriceMatrix(self.dates, tuple(ids), self.close[:, idx])


def forward_fill(close: np.ndarray) -> np.ndarray:
    """Fill NaN gaps inside each column with the last close; leading/trailing NaN stay."""
    out = close.copy()
    t, n = out.shape
    valid = ~np.isnan(out)
    idx = np.where(valid, np.arange(t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = out[idx, np.arange(n)]
    last = t - 1 - np.argmax(valid[::-1], axis=0)  # last valid row per column
    inside = np.arange(t)[:, None] <= last[None, :]
    return np.where(inside, filled, np.nan)
