"""VaR and ES against closed-form cases."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from tradeforge.risk.var import (
    ReturnHistory,
    ewma_covariance,
    ewma_factor,
    historical_var,
    linear_exposures,
    monte_carlo_var,
    parametric_var,
    stress,
    var_es_from_pnl,
)


def test_historical_var_is_the_order_statistic_and_es_the_tail_mean() -> None:
    pnl = np.arange(-50, 50, dtype=float)  # 100 outcomes: -50 .. 49
    r = var_es_from_pnl(np.random.default_rng(1).permutation(pnl), 0.95)
    assert r.var == 46.0  # 5 worst: -50..-46
    assert r.es == 48.0
    # through returns x exposures: one instrument, exposure 2 -> doubled
    h = historical_var(pnl[:, None] / 100, np.array([200.0]), 0.95)
    assert h.var == pytest.approx(92.0) and h.es == pytest.approx(96.0)


def test_parametric_matches_the_normal_closed_form() -> None:
    cov = np.array([[0.04, 0.006], [0.006, 0.01]])  # vols 20%, 10%, corr 0.3
    w = np.array([1_000.0, -2_000.0])
    sigma = np.sqrt(w @ cov @ w)
    r = parametric_var(w, cov, 0.99)
    z = NormalDist().inv_cdf(0.99)
    assert r.var == pytest.approx(z * sigma)
    assert r.es == pytest.approx(sigma * NormalDist().pdf(z) / 0.01)
    assert r.var == pytest.approx(2.326348 * sigma, rel=1e-6)


def test_ewma_covariance_weights() -> None:
    r = np.array([[1.0], [-1.0], [2.0]])
    lam = 0.5
    w = np.array([0.25, 0.5, 1.0])
    w /= w.sum()
    assert ewma_covariance(r, lam)[0, 0] == pytest.approx((w * r[:, 0] ** 2).sum())
    flat = ewma_covariance(np.random.default_rng(0).normal(0, 0.01, (5000, 3)), 0.9999)
    assert np.allclose(np.diag(flat), 1e-4, rtol=0.1)


def test_monte_carlo_converges_to_parametric_and_is_seeded() -> None:
    cov = np.array([[0.04, 0.006], [0.006, 0.01]])
    w = np.array([1_000.0, -2_000.0])
    p = parametric_var(w, cov, 0.99)
    m = monte_carlo_var(w, cov, 0.99, n=200_000, seed=3)
    assert m.var == pytest.approx(p.var, rel=0.02)
    assert m.es == pytest.approx(p.es, rel=0.03)
    assert monte_carlo_var(w, cov, 0.99, n=1000, seed=5) == monte_carlo_var(w, cov, 0.99, n=1000, seed=5)


def test_stress_and_exposure_hooks() -> None:
    exp = linear_exposures({"A": 1_000.0, "B": -500.0, "C": 200.0}, delta=lambda i: 0.5 if i == "C" else 1.0)
    assert exp == {"A": 1_000.0, "B": -500.0, "C": 100.0}
    shocks = {"A": -0.2, "tech": -0.1, "*": -0.05}
    assert stress(exp, shocks, {"B": "tech"}) == pytest.approx(-200.0 + 50.0 - 5.0)


def test_return_history_ring_buffer() -> None:
    h = ReturnHistory(["A", "B"], window=3)
    for p in ([100, 50], [110, 50], [99, np.nan], [99, 55], [108.9, 55]):
        h.update(np.array(p, dtype=float))
    r = h.returns()
    assert r.shape == (3, 2)
    assert r[:, 0] == pytest.approx([-0.1, 0.0, 0.1])
    assert r[:, 1] == pytest.approx([0.0, 0.1, 0.0])


def test_var_of_500_instruments_by_1000_scenarios_is_fast() -> None:
    import time

    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.01, (1000, 500))
    w = rng.normal(0, 1e5, 500)
    t0 = time.perf_counter()
    historical_var(r, w)
    a = ewma_factor(r)
    p = parametric_var(w, factor=a)
    m = monte_carlo_var(w, n=1000, seed=1, factor=a)
    assert time.perf_counter() - t0 < 0.5  # 50 ms is the target on a quiet machine (benchmark); loose here
    assert p.var == pytest.approx(parametric_var(w, ewma_covariance(r)).var)
    assert m.var == pytest.approx(p.var, rel=0.15)


def test_engine_publishes_var_reports_on_a_schedule() -> None:
    from tests.execution._harness import MINUTE, Harness
    from tradeforge.model.enums import OrderSide
    from tradeforge.risk.events import RiskReport

    h = Harness()
    risk = h.engine.risk
    risk.var_interval_ns = MINUTE
    risk.var.min_periods = 5
    got: list[RiskReport] = []
    h.engine.bus.subscribe("events.risk.report", got.append)
    s = h.strategy({0: lambda s, _b: s.submit_order(s.f.market("AAA.SIM", OrderSide.BUY, 100))})
    rng = np.random.default_rng(2)
    closes = 100 + np.cumsum(rng.normal(0, 0.3, 30)).round(2)
    h.bars([(c, c + 0.5, c - 0.5, c) for c in closes])
    h.run()
    assert s.position("AAA.SIM") is not None
    assert len(got) >= 25 and got[-1].var.keys() == {"historical", "parametric", "monte_carlo"}
    assert all(v > 0 for v in got[-1].var.values())
    on_demand = risk.risk_report()
    assert on_demand.gross == got[-1].gross or on_demand.gross > 0
