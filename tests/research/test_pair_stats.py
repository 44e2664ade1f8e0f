import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from tradeforge.research.pairs.johansen import johansen_pairs, johansen_trace
from tradeforge.research.pairs.scan import ScanConfig, return_correlation, scan_pairs
from tradeforge.research.pairs.stats import benjamini_hochberg, half_life, hurst_exponent


def test_benjamini_hochberg_matches_statsmodels() -> None:
    p = np.random.default_rng(1).uniform(0, 1, 500) ** 3
    ref = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), ref, atol=1e-15)
    with_nan = np.concatenate([p, [np.nan]])
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[-1]) and np.allclose(q[:-1], ref)


def test_half_life_and_hurst() -> None:
    assert half_life(np.log(0.5) * -1 * -1) == pytest.approx(1.0)  # lambda = ln(0.5): half-life 1 bar
    assert np.isinf(half_life(0.01))
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=(4, 5000)), axis=1)
    ar = np.zeros((4, 5000))
    for t in range(1, 5000):
        ar[:, t] = 0.8 * ar[:, t - 1] + rng.normal(size=4)
    h_walk, h_ar = hurst_exponent(walk), hurst_exponent(ar)
    assert np.all(np.abs(h_walk - 0.5) < 0.1)
    assert np.all(h_ar < 0.25)


@pytest.mark.parametrize("k", [1, 2])
def test_johansen_matches_statsmodels(sp500, k: int) -> None:
    logp = np.log(sp500.close[:, :12])
    for i, j in [(0, 1), (2, 7), (5, 11)]:
        ref = coint_johansen(logp[:, [i, j]], 0, k)
        eig, trace = johansen_trace(logp[:, [i, j]], k)
        np.testing.assert_allclose(trace, ref.lr1, rtol=1e-9)
        np.testing.assert_allclose(eig, ref.eig, rtol=1e-9)
    out = johansen_pairs(logp, np.array([[0, 1], [2, 7]]), k)
    assert out[0] == pytest.approx(coint_johansen(logp[:, [0, 1]], 0, k).lr1[0], rel=1e-9)


def test_return_correlation_matches_numpy(sp500) -> None:
    logp = np.log(sp500.close[:, :10])
    r = np.diff(logp, axis=0)
    ok = ~np.isnan(r[:, 0]) & ~np.isnan(r[:, 3])
    assert return_correlation(logp)[0, 3] == pytest.approx(np.corrcoef(r[ok, 0], r[ok, 3])[0, 1], rel=1e-10)


def test_scan_finds_a_planted_pair_and_respects_limits() -> None:
    rng = np.random.default_rng(5)
    t, n = 500, 30
    logp = np.cumsum(rng.normal(0, 0.01, (t, n)), axis=0) + 4.0
    spread = np.zeros(t)
    for k in range(1, t):
        spread[k] = 0.85 * spread[k - 1] + rng.normal(0, 0.01)
    logp[:, 7] = 0.3 + 1.2 * logp[:, 3] + spread  # y = column 7, x = column 3
    ids = tuple(f"S{k}.X" for k in range(n))
    cfg = ScanConfig(min_corr=None, fdr=0.05, max_pairs=5, both_directions=True)
    scan = scan_pairs(logp, ids, cfg)
    assert scan.counts["pairs"] == n * (n - 1) // 2
    names = scan.pair_names()
    assert ("S7.X", "S3.X") in names or ("S3.X", "S7.X") in names
    row = next(r for r in scan.table() if {r["y"], r["x"]} == {"S7.X", "S3.X"})
    if row["y"] == "S7.X":
        assert row["beta"] == pytest.approx(1.2, abs=0.1)
    assert row["qvalue"] <= 0.05 and 2 <= row["half_life"] <= 60 and row["hurst"] < 0.5
    sectors = {i: ("A" if k < 15 else "B") for k, i in enumerate(ids)}
    same = scan_pairs(logp, ids, ScanConfig(min_corr=None, same_sector=True, fdr=None, max_pvalue=1.0,
                                            half_life_range=(0, np.inf), beta_range=(-np.inf, np.inf),
                                            max_hurst=None, max_pairs=10**6, max_per_instrument=10**6), sectors)
    assert all(sectors[a] == sectors[b] for a, b in same.pair_names())
    with pytest.raises(ValueError):
        scan_pairs(logp, ids, ScanConfig(same_sector=True))
    jo = scan_pairs(logp, ids, ScanConfig(min_corr=None, fdr=None, johansen=True))
    assert np.all(jo.johansen_trace > 15.4943)
