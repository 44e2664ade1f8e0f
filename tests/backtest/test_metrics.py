"""Tests for tradeforge.backtest.metrics.compute_summary."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.backtest.metrics import NS_PER_DAY, compute_summary

T0 = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z
HOUR_NS = 3_600 * 1_000_000_000

EXPECTED_KEYS = [
    "start",
    "end",
    "starting_equity",
    "final_equity",
    "total_return",
    "cagr",
    "annualized_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_days",
    "turnover",
    "exposure",
    "trade_count",
    "win_rate",
    "fees_paid",
    "n_samples",
]


def _summary(
    ts: np.ndarray | list[int],
    eq: np.ndarray | list[float],
    *,
    starting_equity: float | None = None,
    trade_pnls: list[float] | None = None,
    fees_paid: float = 0.0,
    traded_notional: float = 0.0,
    exposure: np.ndarray | None = None,
    periods_per_year: float | None = None,
) -> dict:
    ts_a = np.asarray(ts, dtype=np.int64)
    eq_a = np.asarray(eq, dtype=np.float64)
    return compute_summary(
        ts_a,
        eq_a,
        starting_equity=float(eq_a[0]) if starting_equity is None else starting_equity,
        trade_pnls=np.asarray(trade_pnls or [], dtype=np.float64),
        fees_paid=fees_paid,
        traded_notional=traded_notional,
        exposure=np.zeros(eq_a.shape[0]) if exposure is None else exposure,
        periods_per_year=periods_per_year,
    )


def _days(n: int) -> np.ndarray:
    return T0 + np.arange(n, dtype=np.int64) * NS_PER_DAY


# ---------------------------------------------------------------- hand-computed


def test_five_day_path_drawdown_and_return() -> None:
    eq = [100.0, 110.0, 88.0, 99.0, 120.0]
    s = _summary(_days(5), eq, trade_pnls=[5.0, -2.0, 3.0, 0.0], fees_paid=1.5, exposure=np.array([0, 1, 1, 0.5, 0.5]))
    assert list(s) == EXPECTED_KEYS
    assert s["start"] == "2024-01-01T00:00:00+00:00"
    assert s["end"] == "2024-01-05T00:00:00+00:00"
    assert s["starting_equity"] == 100.0
    assert s["final_equity"] == 120.0
    assert s["total_return"] == pytest.approx(0.2)
    assert s["max_drawdown"] == pytest.approx(0.2)  # 110 -> 88
    assert s["max_drawdown_duration_days"] == pytest.approx(3.0)  # peak day 1, recovered day 4
    assert s["trade_count"] == 4
    assert s["win_rate"] == pytest.approx(0.5)  # 0.0 is not a win
    assert s["fees_paid"] == 1.5
    assert s["exposure"] == pytest.approx(0.6)
    assert s["n_samples"] == 5


def test_daily_returns_hand_computed() -> None:
    eq = np.array([100.0, 110.0, 88.0, 99.0, 120.0])
    s = _summary(_days(5), eq)
    r = np.array([0.1, -0.2, 0.125, 120.0 / 99.0 - 1.0])
    mean, std = r.mean(), r.std(ddof=1)
    downside = math.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    assert s["annualized_volatility"] == pytest.approx(std * math.sqrt(252), rel=1e-9)
    assert s["sharpe"] == pytest.approx(mean / std * math.sqrt(252), rel=1e-9)
    assert s["sortino"] == pytest.approx(mean / downside * math.sqrt(252), rel=1e-9)


def test_drawdown_not_recovered_runs_to_end() -> None:
    eq = [100.0, 120.0, 90.0, 100.0, 110.0, 115.0]
    s = _summary(_days(6), eq)
    assert s["max_drawdown"] == pytest.approx(0.25)
    assert s["max_drawdown_duration_days"] == pytest.approx(4.0)  # day 1 -> last sample (day 5)


def test_longest_drawdown_is_not_the_deepest() -> None:
    # Deep but short: 100 -> 50 -> 100 (2 days). Shallow but long: 100 -> 99 ... -> 101 (5 days).
    eq = [100.0, 50.0, 100.0, 99.0, 99.0, 99.0, 99.0, 101.0]
    s = _summary(_days(8), eq)
    assert s["max_drawdown"] == pytest.approx(0.5)
    assert s["max_drawdown_duration_days"] == pytest.approx(5.0)


def test_drawdown_counts_from_starting_equity() -> None:
    # First sample already below the starting equity: the peak is starting equity at ts[0].
    s = _summary(_days(3), [90.0, 95.0, 100.0], starting_equity=100.0)
    assert s["max_drawdown"] == pytest.approx(0.1)
    assert s["max_drawdown_duration_days"] == pytest.approx(2.0)
    assert s["total_return"] == 0.0


def test_drawdown_duration_with_intraday_timestamps() -> None:
    ts = [T0, T0 + 6 * HOUR_NS, T0 + 18 * HOUR_NS, T0 + 30 * HOUR_NS]
    s = _summary(ts, [100.0, 101.0, 100.5, 101.0])
    assert s["max_drawdown_duration_days"] == pytest.approx(1.0)  # 6h -> 30h, recovered at equality


def test_cagr_and_turnover() -> None:
    two_years = int(2 * 365.25 * NS_PER_DAY)
    s = _summary([T0, T0 + two_years], [100.0, 121.0], traded_notional=1_000.0)
    assert s["total_return"] == pytest.approx(0.21)
    assert s["cagr"] == pytest.approx(0.1)
    assert s["turnover"] == pytest.approx(1_000.0 / 110.5 / 2.0)


# ------------------------------------------------------ independent pandas check


def _random_path(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Irregular intraday sampling over ~400 days with gaps (e.g. weekends / outages).
    steps = rng.choice([5, 60, 240, 60 * 24 * 3], size=3_000, p=[0.4, 0.4, 0.19, 0.01])
    ts = T0 + np.cumsum(steps).astype(np.int64) * 60 * 1_000_000_000
    eq = 10_000.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.004, size=ts.shape[0])))
    return ts, eq


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_daily_stats_match_pandas(seed: int) -> None:
    ts, eq = _random_path(seed)
    s = _summary(ts, eq)

    series = pd.Series(eq, index=pd.to_datetime(ts, unit="ns", utc=True))
    daily = series.resample("1D").last().dropna()
    r = daily.pct_change().dropna()
    ann = math.sqrt(252)
    assert s["annualized_volatility"] == pytest.approx(r.std() * ann, rel=1e-8)
    assert s["sharpe"] == pytest.approx(r.mean() / r.std() * ann, rel=1e-8)
    downside = math.sqrt((r.clip(upper=0.0) ** 2).mean())
    assert s["sortino"] == pytest.approx(r.mean() / downside * ann, rel=1e-8)

    dd = 1.0 - series / series.cummax()
    assert s["max_drawdown"] == pytest.approx(dd.max(), rel=1e-8)
    assert s["final_equity"] == pytest.approx(eq[-1], rel=1e-9)
    assert s["total_return"] == pytest.approx(eq[-1] / eq[0] - 1.0, rel=1e-8)


def test_raw_returns_with_periods_per_year_match_pandas() -> None:
    ts, eq = _random_path(3)
    ppy = 252.0 * 24
    s = _summary(ts, eq, periods_per_year=ppy)
    r = pd.Series(eq).pct_change().dropna()
    assert s["annualized_volatility"] == pytest.approx(r.std() * math.sqrt(ppy), rel=1e-8)
    assert s["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(ppy), rel=1e-8)


def test_intraday_and_daily_runs_compare_directly() -> None:
    daily_eq = np.array([100.0, 102.0, 101.0, 104.0, 103.0, 107.0])
    daily = _summary(_days(6), daily_eq)
    # Same end-of-day equity, but sampled hourly with intraday noise in between.
    ts = T0 + np.arange(6 * 24, dtype=np.int64) * HOUR_NS
    hourly_eq = np.repeat(daily_eq, 24) + np.tile(np.r_[np.linspace(-1.0, 1.0, 23), 0.0], 6)
    intraday = _summary(ts, hourly_eq)
    for key in ("annualized_volatility", "sharpe", "sortino"):
        assert intraday[key] == pytest.approx(daily[key], rel=1e-9)


# ------------------------------------------------------------------- edge cases


def test_empty_input() -> None:
    e = np.empty(0)
    s = compute_summary(
        np.empty(0, dtype=np.int64),
        e,
        starting_equity=100.0,
        trade_pnls=e,
        fees_paid=0.0,
        traded_notional=0.0,
        exposure=e,
    )
    assert list(s) == EXPECTED_KEYS
    assert s["n_samples"] == 0 and s["trade_count"] == 0
    for key in ("start", "end", "final_equity", "total_return", "cagr", "sharpe", "max_drawdown", "win_rate"):
        assert s[key] is None


def test_single_sample() -> None:
    s = _summary([T0], [100.0])
    assert s["n_samples"] == 1
    assert s["total_return"] == 0.0
    assert s["start"] == s["end"]
    for key in ("cagr", "turnover", "annualized_volatility", "sharpe", "sortino"):
        assert s[key] is None
    assert s["max_drawdown"] == 0.0
    assert s["max_drawdown_duration_days"] == 0.0


def test_constant_equity() -> None:
    s = _summary(_days(10), np.full(10, 100.0))
    assert s["annualized_volatility"] == 0.0
    assert s["sharpe"] is None
    assert s["sortino"] is None
    assert s["max_drawdown"] == 0.0
    assert s["max_drawdown_duration_days"] == 0.0
    assert s["total_return"] == 0.0
    assert s["cagr"] == 0.0


def test_constant_growth_is_zero_variance() -> None:
    s = _summary(_days(20), 100.0 * 1.01 ** np.arange(20))
    assert s["sharpe"] is None  # float noise must not produce a huge Sharpe


def test_single_day_has_no_daily_returns() -> None:
    ts = T0 + np.arange(10, dtype=np.int64) * HOUR_NS
    eq = np.array([100.0, 101.0, 99.0, 102.0, 98.0, 103.0, 100.0, 101.0, 97.0, 104.0])
    s = _summary(ts, eq)
    assert s["annualized_volatility"] is None and s["sharpe"] is None and s["sortino"] is None
    assert s["max_drawdown"] == pytest.approx(1.0 - 97.0 / 103.0)
    s_raw = _summary(ts, eq, periods_per_year=252.0 * 24)
    assert s_raw["sharpe"] is not None and s_raw["annualized_volatility"] > 0.0


def test_no_downside_sortino_none() -> None:
    s = _summary(_days(4), [100.0, 101.0, 103.0, 104.0])
    assert s["sharpe"] is not None and s["sharpe"] > 0
    assert s["sortino"] is None
    assert s["max_drawdown"] == 0.0


def test_equity_hits_zero() -> None:
    s = _summary(_days(5), [100.0, 50.0, 0.0, 0.0, 0.0])
    assert s["max_drawdown"] == 1.0
    assert s["max_drawdown_duration_days"] == pytest.approx(4.0)
    assert s["total_return"] == -1.0
    assert s["cagr"] is None  # spans under a week get no CAGR
    assert _summary(_days(10), [100.0, 50.0, *[0.0] * 8])["cagr"] == -1.0
    # Returns truncated at the wipe-out: [-0.5, -1.0]; all finite, no NaN/inf leakage.
    r = np.array([-0.5, -1.0])
    assert s["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    json.dumps(s, allow_nan=False)


def test_no_trades_win_rate_none() -> None:
    s = _summary(_days(3), [100.0, 101.0, 102.0])
    assert s["trade_count"] == 0
    assert s["win_rate"] is None


def test_json_byte_stable_and_rounded() -> None:
    ts, eq = _random_path(11)
    kwargs = {"trade_pnls": [1.0, -1.0, 2.5], "fees_paid": 12.345678901234, "traded_notional": 1e6}
    a = json.dumps(_summary(ts, eq, **kwargs), sort_keys=True, allow_nan=False)
    b = json.dumps(_summary(ts.copy(), eq.copy(), **kwargs), sort_keys=True, allow_nan=False)
    assert a == b
    s = json.loads(a)
    assert s["fees_paid"] == 12.3456789
    for value in s.values():
        if isinstance(value, float):
            assert value == float(f"{value:.10g}")


def test_iso_timestamps_keep_subsecond() -> None:
    s = _summary([T0 + 1_500_000, T0 + NS_PER_DAY], [100.0, 100.0])
    assert s["start"] == "2024-01-01T00:00:00.001500+00:00"


@pytest.mark.parametrize(
    ("ts", "eq", "expo", "match"),
    [
        ([T0, T0 + 1], [1.0], [0.0], "ts_ns"),
        ([T0], [1.0], [0.0, 0.0], "exposure"),
        ([T0 + 1, T0], [1.0, 1.0], [0.0, 0.0], "non-decreasing"),
    ],
)
def test_invalid_inputs_raise(ts: list[int], eq: list[float], expo: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute_summary(
            np.asarray(ts, dtype=np.int64),
            np.asarray(eq),
            starting_equity=1.0,
            trade_pnls=np.empty(0),
            fees_paid=0.0,
            traded_notional=0.0,
            exposure=np.asarray(expo),
        )


def test_bad_periods_per_year_raises() -> None:
    with pytest.raises(ValueError, match="periods_per_year"):
        _summary(_days(3), [1.0, 2.0, 3.0], periods_per_year=0.0)


# ------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    eq=st.lists(
        st.floats(min_value=1e-3, max_value=1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
    ),
    step_hours=st.integers(min_value=0, max_value=72),
)
def test_property_drawdown_bounds_and_total_return(eq: list[float], step_hours: int) -> None:
    n = len(eq)
    ts = T0 + np.arange(n, dtype=np.int64) * step_hours * HOUR_NS
    s = _summary(ts, eq)
    assert 0.0 <= s["max_drawdown"] <= 1.0
    assert s["max_drawdown_duration_days"] >= 0.0
    span_days = (n - 1) * step_hours / 24.0
    assert s["max_drawdown_duration_days"] <= span_days * (1.0 + 1e-9)  # 10-significant-digit rounding
    assert s["total_return"] == pytest.approx(eq[-1] / eq[0] - 1.0, rel=1e-9, abs=1e-12)
    assert s["final_equity"] == pytest.approx(eq[-1], rel=1e-9)
    json.dumps(s, allow_nan=False)
