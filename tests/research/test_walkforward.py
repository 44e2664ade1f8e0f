"""Walk-forward selection never uses the future: perturbing prices after a date changes nothing
selected or traded before it (offline and inside the backtest)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tradeforge.backtest.pairs_book import PairsRunConfig, _window, build_pairs_engine
from tradeforge.research.pairs.data import from_bars
from tradeforge.research.pairs.matrix import PriceMatrix
from tradeforge.research.pairs.scan import ScanConfig
from tradeforge.research.pairs.walkforward import schedule, walk_forward

SCAN = {"min_corr": None, "fdr": None, "max_pvalue": 0.1, "max_pairs": 40, "max_per_instrument": 3}
START_NS = 1_451_606_400 * 10**9  # 2016-01-01


def test_schedule() -> None:
    assert schedule(10, 4, 3) == [(0, 4), (3, 7)]  # a window that would trade nothing is not made
    with pytest.raises(ValueError):
        schedule(10, 1, 1)


def _perturb_matrix(pm: PriceMatrix, row: int, seed: int) -> PriceMatrix:
    close = pm.close.copy()
    close[row:] *= np.random.default_rng(seed).uniform(0.9, 1.1, close[row:].shape)
    return PriceMatrix(pm.dates, pm.ids, close)


def test_offline_selections_ignore_the_future(sp500) -> None:
    pm = sp500.columns(sp500.ids[:80]).window(0, 700)
    cfg = ScanConfig(**SCAN)
    base = walk_forward(pm, 150, 50, cfg)
    cut = 400
    other = walk_forward(_perturb_matrix(pm, cut, 1), 150, 50, cfg)
    assert len(base) == len(other)
    for a, b in zip(base, other, strict=True):
        if a.stop <= cut:
            assert a == b
    assert any(a.pairs != b.pairs for a, b in zip(base, other, strict=True) if a.stop > cut)


def _bars_subset(sp500_bars, n: int):
    bars, _, provider = sp500_bars
    complete = [b for b in bars if len(b.ts_init) == 1259][:n]
    return _window(complete, START_NS, None), provider


def _perturb_bars(bars, cut_ns: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for b in bars:
        k = int(b.ts_init.searchsorted(cut_ns))
        f = np.ones(len(b.ts_init))
        f[k:] = rng.uniform(0.9, 1.1, len(b.ts_init) - k)
        scaled = {name: np.maximum(np.rint(getattr(b, name) * f), 1).astype(np.int64)
                  for name in ("open", "high", "low", "close")}
        out.append(dataclasses.replace(b, **scaled))
    return out


def _run(bars, provider):
    cfg = PairsRunConfig(formation=120, trading=40, scan=SCAN, starting_cash=1_000_000.0, pair_weight=0.02)
    engine, strategy = build_pairs_engine(bars, provider, cfg)
    return engine.run(), strategy


def _fills_before(result, cut_ns: int) -> list[tuple]:
    return [(f.ts_event, f.instrument_id, f.side, f.last_qty, f.last_px) for f in result.fills if f.ts_event < cut_ns]


@pytest.fixture(scope="module")
def backtests(sp500_bars):
    bars, provider = _bars_subset(sp500_bars, 60)
    cut_ns = int(bars[0].ts_init[300])
    base = _run(bars, provider)
    perturbed = _run(_perturb_bars(bars, cut_ns, 2), provider)
    return bars, provider, cut_ns, base, perturbed


def test_backtest_trades_before_a_date_ignore_later_prices(backtests) -> None:
    _, _, cut_ns, (res_a, strat_a), (res_b, strat_b) = backtests
    fills_a = _fills_before(res_a, cut_ns)
    assert len(fills_a) > 20
    assert fills_a == _fills_before(res_b, cut_ns)
    before = [s for s, ts in zip(strat_a.selections, strat_a.selection_ts, strict=True) if ts < cut_ns]
    assert before and before == strat_b.selections[: len(before)]
    assert _fills_before(res_a, 2**63 - 1) != _fills_before(res_b, 2**63 - 1)  # the perturbation mattered


def test_backtest_selections_equal_offline_walk_forward(backtests) -> None:
    bars, provider, _, (_, strategy), _ = backtests
    pm = from_bars(bars, provider)
    offline = walk_forward(pm, 120, 40, ScanConfig(**SCAN))
    assert len(strategy.selections) >= 3
    assert strategy.selections == offline[: len(strategy.selections)]
