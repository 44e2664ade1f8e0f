"""One discovery pass over all pairs of a price matrix: pre-filters, Engle-Granger, FDR, selection.

Steps: log prices -> (optional) return-correlation and same-sector masks -> Engle-Granger for
every ordered pair (:func:`engle_granger`, vectorized) -> one direction per unordered pair (``y`` is
the first column, or the more significant direction) -> Benjamini-Hochberg over all tested pairs
-> half-life, hedge-ratio and Hurst filters (Johansen trace test optional) -> ranking by p-value,
at most ``max_per_instrument`` pairs per instrument, at most ``max_pairs`` in all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tradeforge.research.pairs.engle_granger import EngleGranger, engle_granger
from tradeforge.research.pairs.johansen import TRACE_CRIT, johansen_pairs
from tradeforge.research.pairs.stats import benjamini_hochberg, half_life, hurst_exponent


@dataclass(frozen=True)
class ScanConfig:
    lags: int = 1  # ADF lagged differences
    min_obs: int = 60  # ADF rows a pair needs to be tested
    min_corr: float | None = 0.5  # return-correlation pre-filter (None: off)
    same_sector: bool = False  # only pairs of one GICS sector (needs sectors)
    both_directions: bool = False  # test y~x and x~y, keep the more negative statistic
    fdr: float | None = 0.05  # Benjamini-Hochberg false discovery rate (None: report q-values only)
    max_pvalue: float = 0.05  # per-pair p-value bound (applies with or without the FDR bound)
    half_life_range: tuple[float, float] = (2.0, 60.0)  # bars
    beta_range: tuple[float, float] = (0.2, 5.0)  # hedge ratios outside are dropped
    max_hurst: float | None = 0.5  # None: no Hurst filter
    hurst_max_lag: int = 50  # lags 2..hurst_max_lag-1
    hurst_candidates: int = 3  # Hurst is computed for the best hurst_candidates * max_pairs pairs
    johansen: bool = False  # also require the Johansen trace test (r = 0) at 95%
    max_pairs: int = 400
    max_per_instrument: int = 5


@dataclass(frozen=True)
class PairScan:
    """Every tested pair (arrays, one entry per pair) and the selected ones (indexes into them)."""

    ids: tuple[str, ...]
    y: np.ndarray  # column of the dependent leg
    x: np.ndarray  # column of the hedge leg
    beta: np.ndarray
    alpha: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray
    qvalue: np.ndarray
    half_life: np.ndarray
    resid_sd: np.ndarray
    corr: np.ndarray
    selected: np.ndarray  # indexes of the chosen pairs, best first
    hurst: np.ndarray  # of the selected pairs (NaN where not computed)
    johansen_trace: np.ndarray  # of the selected pairs (NaN unless enabled)
    counts: dict[str, int] = field(default_factory=dict)  # pairs left after each step

    def pair_names(self, idx: np.ndarray | None = None) -> list[tuple[str, str]]:
        sel = self.selected if idx is None else idx
        return [(self.ids[self.y[k]], self.ids[self.x[k]]) for k in sel]

    def table(self) -> list[dict[str, object]]:
        """The selected pairs as rows (for reports)."""
        rows = []
        for r, k in enumerate(self.selected):
            rows.append({
                "y": self.ids[self.y[k]], "x": self.ids[self.x[k]], "beta": float(self.beta[k]),
                "alpha": float(self.alpha[k]), "adf_stat": float(self.stat[k]), "pvalue": float(self.pvalue[k]),
                "qvalue": float(self.qvalue[k]), "half_life": float(self.half_life[k]),
                "hurst": float(self.hurst[r]), "spread_sd": float(self.resid_sd[k]), "corr": float(self.corr[k]),
            })
        return rows


def return_correlation(logp: np.ndarray) -> np.ndarray:
    """Pairwise correlation of daily log returns over each pair's common days (N x N)."""
    r = np.diff(logp, axis=0)
    m = (~np.isnan(r)).astype(np.float64)
    r = np.where(m > 0, r, 0.0)
    n = m.T @ m
    s = r.T @ m
    ss = (r * r).T @ m
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = r.T @ r - s * s.T / n
        return cov / np.sqrt((ss - s * s / n) * (ss.T - s.T * s.T / n))


def _one_direction(eg: EngleGranger, both: bool) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(eg.stat.shape[0], 1)
    if not both:
        return i, j
    a, b = eg.stat[i, j], eg.stat[j, i]
    flip = np.nan_to_num(b, nan=np.inf) < np.nan_to_num(a, nan=np.inf)
    return np.where(flip, j, i), np.where(flip, i, j)


def _spreads(logp: np.ndarray, y: np.ndarray, x: np.ndarray, beta: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return (logp[:, y] - alpha - beta * logp[:, x]).T


def scan_pairs(
    logp: np.ndarray, ids: tuple[str, ...], config: ScanConfig | None = None,
    sectors: dict[str, str] | None = None,
) -> PairScan:
    """Scan all pairs of the columns of ``logp`` (T x N log closes, NaN = no price)."""
    cfg = config or ScanConfig()
    logp = np.ascontiguousarray(logp, dtype=np.float64)  # same layout, same bits (BLAS)
    n = logp.shape[1]
    eg = engle_granger(logp, cfg.lags, cfg.min_obs)
    y, x = _one_direction(eg, cfg.both_directions)
    counts = {"pairs": int(n * (n - 1) // 2)}
    corr_m = return_correlation(logp)
    corr = corr_m[y, x]
    keep = ~np.isnan(eg.stat[y, x])
    counts["testable"] = int(keep.sum())
    if cfg.min_corr is not None:
        keep &= corr >= cfg.min_corr
        counts["after_correlation"] = int(keep.sum())
    if cfg.same_sector:
        if sectors is None:
            raise ValueError("same_sector needs a sector map")
        sec = np.array([sectors.get(s, "") for s in ids], dtype=object)
        keep &= (sec[y] == sec[x]) & (sec[y] != "")
        counts["after_sector"] = int(keep.sum())
    pvalue = eg.pvalue[y, x]
    qvalue = np.full(len(y), np.nan)
    qvalue[keep] = benjamini_hochberg(pvalue[keep])  # FDR over the pairs actually tested
    hl = half_life(eg.ar_coef[y, x])
    beta = eg.beta[y, x]
    passed = keep & (pvalue <= cfg.max_pvalue)
    counts["p_significant"] = int(passed.sum())
    if cfg.fdr is not None:
        passed &= qvalue <= cfg.fdr
        counts["fdr_significant"] = int(passed.sum())
    passed &= (hl >= cfg.half_life_range[0]) & (hl <= cfg.half_life_range[1])
    passed &= (beta >= cfg.beta_range[0]) & (beta <= cfg.beta_range[1])
    counts["after_half_life_beta"] = int(passed.sum())
    cand = np.flatnonzero(passed)
    cand = cand[np.lexsort((cand, pvalue[cand]))]  # by p-value, ties by index: deterministic
    alpha = eg.alpha[y, x]
    hurst = np.full(len(cand), np.nan)
    if cfg.max_hurst is not None and len(cand):
        cand = cand[: cfg.hurst_candidates * cfg.max_pairs]  # the best ranked only: Hurst costs O(T * lags)
        hurst = hurst_exponent(_spreads(logp, y[cand], x[cand], beta[cand], alpha[cand]), cfg.hurst_max_lag)
        ok = hurst < cfg.max_hurst
        cand, hurst = cand[ok], hurst[ok]
        counts["after_hurst"] = len(cand)
    jtr = np.full(len(cand), np.nan)
    if cfg.johansen and len(cand):
        jtr = johansen_pairs(logp, np.column_stack([y[cand], x[cand]]), max(cfg.lags, 1))
        ok = jtr > TRACE_CRIT[2][1]
        cand, hurst, jtr = cand[ok], hurst[ok], jtr[ok]
        counts["after_johansen"] = len(cand)
    used: Counter[int] = Counter()
    chosen = []
    for r, k in enumerate(cand.tolist()):
        if len(chosen) >= cfg.max_pairs:
            break
        a, b = int(y[k]), int(x[k])
        if used[a] >= cfg.max_per_instrument or used[b] >= cfg.max_per_instrument:
            continue
        used[a] += 1
        used[b] += 1
        chosen.append(r)
    pick = np.array(chosen, dtype=np.int64)
    counts["selected"] = len(pick)
    return PairScan(
        ids=tuple(ids), y=y, x=x, beta=beta, alpha=alpha, stat=eg.stat[y, x], pvalue=pvalue, qvalue=qvalue,
        half_life=hl, resid_sd=eg.resid_sd[y, x], corr=corr, selected=cand[pick], hurst=hurst[pick],
        johansen_trace=jtr[pick], counts=counts,
    )
