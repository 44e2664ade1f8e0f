"""Walk-forward pair selection: pairs chosen on a formation window are traded on the following
window, then re-chosen. A selection made at row ``t`` sees rows ``< t`` only.

The same :func:`select_pairs` runs inside the pairs strategy (on the closes it has seen) and here
over a whole :class:`PriceMatrix` (:func:`walk_forward`), so research and backtest agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeforge.research.pairs.matrix import PriceMatrix
from tradeforge.research.pairs.scan import ScanConfig, scan_pairs


@dataclass(frozen=True)
class PairSpec:
    """One selected pair: ``spread = log(y) - alpha - beta * log(x)``, z-score ``spread / sd``."""

    y: str
    x: str
    beta: float
    alpha: float
    sd: float
    half_life: float
    pvalue: float
    qvalue: float
    hurst: float


@dataclass(frozen=True)
class Selection:
    """Pairs chosen from rows ``[start, stop)``; they trade from row ``stop`` on."""

    start: int
    stop: int
    pairs: tuple[PairSpec, ...]
    counts: dict[str, int]


def schedule(n_rows: int, formation: int, trading: int) -> list[tuple[int, int]]:
    """Formation windows ``(start, stop)``: the first ends at ``formation``, then every ``trading`` rows."""
    if formation < 2 or trading < 1:
        raise ValueError("formation must be >= 2 and trading >= 1")
    return [(stop - formation, stop) for stop in range(formation, n_rows, trading)]


def select_pairs(
    closes: np.ndarray, ids: tuple[str, ...], start: int, stop: int, config: ScanConfig | None = None,
    sectors: dict[str, str] | None = None,
) -> Selection:
    """Scan the close rows ``[start, stop)`` (positive prices, NaN = none) and keep the chosen pairs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(closes[start:stop])
    scan = scan_pairs(logp, ids, config, sectors)
    specs = tuple(
        PairSpec(
            ids[scan.y[k]], ids[scan.x[k]], float(scan.beta[k]), float(scan.alpha[k]), float(scan.resid_sd[k]),
            float(scan.half_life[k]), float(scan.pvalue[k]), float(scan.qvalue[k]), float(scan.hurst[r]),
        )
        for r, k in enumerate(scan.selected.tolist())
    )
    return Selection(start, stop, specs, scan.counts)


def walk_forward(
    prices: PriceMatrix, formation: int, trading: int, config: ScanConfig | None = None,
    sectors: dict[str, str] | None = None,
) -> list[Selection]:
    """Every selection of the schedule over ``prices``."""
    return [
        select_pairs(prices.close, prices.ids, a, b, config, sectors)
        for a, b in schedule(len(prices.dates), formation, trading)
    ]
