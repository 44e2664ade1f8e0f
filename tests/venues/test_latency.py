"""Latency models: constant, seeded distributions, empirical from the Databento MBO file, the fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.venues.latency import (
    ConstantLatency,
    DistributionLatency,
    EmpiricalDistribution,
    EmpiricalLatency,
    LatencyDistribution,
    LatencyModel,
    fit_latency,
    usable_recv_mask,
)

MBO = Path(__file__).resolve().parents[2] / "data" / "l3" / "esh4-glbx-mdp3-20231225.mbo.csv.gz"
QS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@pytest.fixture(scope="module")
def mbo_ts() -> tuple[np.ndarray, np.ndarray]:
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(MBO, usecols=["ts_recv", "ts_event", "flags"])
    keep = usable_recv_mask(df["flags"].to_numpy())
    assert keep.sum() == 60_067  # the 8,725 snapshot records (ts_recv = midnight) are dropped
    return df["ts_event"].to_numpy()[keep], df["ts_recv"].to_numpy()[keep]


def _draws(model: LatencyModel, leg: str, n: int, ts: int = 0) -> np.ndarray:
    f = getattr(model, f"{leg}_ns")
    return np.array([f(ts) for _ in range(n)], dtype=np.int64)


def test_constant_latency_per_leg() -> None:
    m = ConstantLatency(feed_latency_ns=1_000, entry_latency_ns=20_000, response_latency_ns=5_000)
    assert (m.feed_ns(1), m.entry_ns(2), m.response_ns(3)) == (1_000, 20_000, 5_000)
    assert ConstantLatency().entry_ns(123) == 0
    with pytest.raises(ValueError):
        ConstantLatency(entry_latency_ns=-1)


DISTS = [
    LatencyDistribution.lognormal(50_000, 0.8),
    LatencyDistribution.normal(10_000, 8_000),  # a third of the mass below 0: truncated, not clamped
    LatencyDistribution.uniform(1_000, 2_000),
    LatencyDistribution.constant(7),
]


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.kind)
def test_distribution_same_seed_same_draws_and_never_negative(dist: LatencyDistribution) -> None:
    a = DistributionLatency(feed=dist, entry=dist, response=dist, seed=42)
    b = DistributionLatency(feed=dist, entry=dist, response=dist, seed=42)
    for leg in ("feed", "entry", "response"):
        x, y = _draws(a, leg, 3000), _draws(b, leg, 3000)
        assert np.array_equal(x, y)
        assert x.min() >= 0
    if dist.kind != "constant":
        c = DistributionLatency(feed=dist, seed=43)
        assert not np.array_equal(_draws(c, "feed", 100), _draws(DistributionLatency(feed=dist, seed=42), "feed", 100))


def test_legs_are_independent_streams() -> None:
    """Drawing feed latencies (market data volume) never changes the order-entry latencies."""
    d = LatencyDistribution.lognormal(50_000, 0.5)
    a = DistributionLatency(feed=d, entry=d, seed=1)
    b = DistributionLatency(feed=d, entry=d, seed=1)
    _draws(a, "feed", 5000)
    assert np.array_equal(_draws(a, "entry", 100), _draws(b, "entry", 100))
    assert not np.array_equal(_draws(b, "feed", 100), _draws(b, "entry", 100))


def test_distribution_shapes_and_clamp() -> None:
    n = 20_000
    ln = _draws(DistributionLatency(feed=LatencyDistribution.lognormal(50_000, 0.8), seed=3), "feed", n)
    assert abs(np.median(ln) / 50_000 - 1) < 0.03
    assert abs(np.log(ln).std() - 0.8) < 0.02
    tn = _draws(DistributionLatency(feed=LatencyDistribution.normal(10_000, 8_000), seed=3), "feed", n)
    assert tn.min() >= 0 and (tn == 0).mean() < 0.001  # truncated by redrawing: no spike at 0
    un = _draws(DistributionLatency(feed=LatencyDistribution.uniform(1_000, 2_000), seed=3), "feed", n)
    assert un.min() >= 1_000 and un.max() <= 2_000 and abs(un.mean() - 1_500) < 10
    clamped = LatencyDistribution.lognormal(50_000, 2.0, min_ns=30_000, max_ns=60_000)
    cl = _draws(DistributionLatency(feed=clamped, seed=3), "feed", n)
    assert cl.min() == 30_000 and cl.max() == 60_000
    assert _draws(DistributionLatency(seed=3), "entry", 5).tolist() == [0] * 5  # no distribution: zero


def test_distribution_validation() -> None:
    with pytest.raises(ValueError):
        LatencyDistribution("gamma")
    with pytest.raises(ValueError):
        LatencyDistribution("lognormal", median_ns=1.0)  # no sigma
    with pytest.raises(ValueError):
        LatencyDistribution("uniform", low_ns=1, high_ns=2, sigma=1.0)
    with pytest.raises(ValueError):
        LatencyDistribution.lognormal(1_000, 0.5, min_ns=-1)
    with pytest.raises(ValueError):
        LatencyDistribution.from_dict({"kind": "normal", "mean_ns": 1, "std_ns": 1, "bogus": 2})
    with pytest.raises(ValueError):
        DistributionLatency.from_config({"wire": {"kind": "constant", "value_ns": 1}})


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    mean=st.floats(-1e6, 1e6),
    std=st.floats(0, 1e6),
    lo=st.integers(0, 10_000),
)
def test_truncated_normal_stays_in_bounds(seed: int, mean: float, std: float, lo: int) -> None:
    d = LatencyDistribution.normal(mean, std, min_ns=lo, max_ns=lo + 50_000)
    x = _draws(DistributionLatency(entry=d, seed=seed), "entry", 200)
    assert x.min() >= lo and x.max() <= lo + 50_000


@settings(max_examples=30, deadline=None)
@given(samples=st.lists(st.integers(-1_000, 10**9), min_size=1, max_size=50), seed=st.integers(0, 1000))
def test_empirical_determinism_and_range(samples: list[int], seed: int) -> None:
    ts = np.zeros(len(samples), dtype=np.int64)
    a = EmpiricalLatency.from_timestamps(ts, np.array(samples), seed=seed)
    b = EmpiricalLatency.from_timestamps(ts, np.array(samples), seed=seed)
    for leg in ("feed", "entry", "response"):
        x = _draws(a, leg, 50)
        assert np.array_equal(x, _draws(b, leg, 50))
        assert x.min() >= max(min(samples), 0) and x.max() <= max(max(samples), 0)


def test_empirical_reproduces_databento_quantiles(mbo_ts: tuple[np.ndarray, np.ndarray]) -> None:
    ts_event, ts_recv = mbo_ts
    data = ts_recv - ts_event
    model = EmpiricalLatency.from_timestamps(ts_event, ts_recv, seed=11)
    x = _draws(model, "feed", 60_000)
    for q in QS:
        want, got = np.quantile(data, q), np.quantile(x, q)
        assert abs(got / want - 1) < 0.04, (q, want, got)
    # entry and response reuse the feed distribution with their own streams
    e = _draws(model, "entry", 60_000)
    assert abs(np.median(e) / np.median(data) - 1) < 0.02
    assert not np.array_equal(e[:100], x[:100])
    again = EmpiricalLatency.from_timestamps(ts_event, ts_recv, seed=11)
    assert np.array_equal(_draws(again, "feed", 1000), x[:1000])


def test_empirical_time_varying_follows_each_window(mbo_ts: tuple[np.ndarray, np.ndarray]) -> None:
    ts_event, ts_recv = mbo_ts
    lat = ts_recv - ts_event
    window = 600 * 10**9  # ten minutes
    dist = EmpiricalDistribution(lat, ts_event, window)
    assert dist.time_varying
    t0 = int(ts_event.min())
    probs = np.linspace(0, 1, 101)
    # at a window's midpoint the model is exactly that window's quantile table (windows 0-2 hold
    # fewer than 20 records and get no table: before window 3 the first table is used)
    def table(k: int, u: float) -> float:
        sel = (ts_event - t0) // window == k
        return float(np.interp(u, probs, np.quantile(lat[sel], probs)))

    for k in (3, 5, 6, 11):
        center = t0 + k * window + window // 2
        for u in (0.05, 0.5, 0.95):
            assert dist.quantile(u, center) == pytest.approx(table(k, u), rel=1e-9)
    assert dist.quantile(0.5, t0) == pytest.approx(table(3, 0.5), rel=1e-9)
    # halfway between two midpoints it is the average of the two tables
    c5, c6 = t0 + 5 * window + window // 2, t0 + 6 * window + window // 2
    assert dist.quantile(0.5, (c5 + c6) // 2) == pytest.approx((table(5, 0.5) + table(6, 0.5)) / 2, rel=1e-6)
    # the end of the pre-open (22:50-23:00 UTC) is about 3.5x slower than the session at 23:30
    model = EmpiricalLatency(dist, seed=5)
    pre_open = _draws(model, "feed", 5000, ts=c5)
    session = _draws(model, "feed", 5000, ts=t0 + 9 * window + window // 2)
    assert abs(np.median(pre_open) / table(5, 0.5) - 1) < 0.05
    assert abs(np.median(session) / table(9, 0.5) - 1) < 0.05
    assert np.median(pre_open) > 3 * np.median(session)


def test_fit_latency_round_trip() -> None:
    rng = np.random.default_rng(0)
    lat = np.rint(rng.lognormal(np.log(120_000), 0.6, 50_000)).astype(np.int64)
    ts_event = np.arange(lat.size, dtype=np.int64) * 1_000
    table = fit_latency(ts_event, ts_event + lat)
    assert table["kind"] == "lognormal"
    assert table["median_ns"] == pytest.approx(120_000, rel=0.01)
    assert table["sigma"] == pytest.approx(0.6, rel=0.02)
    assert table["min_ns"] == lat.min() and table["max_ns"] == lat.max() and table["n"] == lat.size
    assert table["quantiles_ns"]["p50"] == pytest.approx(np.median(lat))
    model = DistributionLatency.from_config({"feed": table, "entry": table}, seed=9)
    x = _draws(model, "entry", 20_000)
    assert abs(np.median(x) / 120_000 - 1) < 0.03
    assert x.min() >= table["min_ns"] and x.max() <= table["max_ns"]


def test_fit_latency_on_databento(mbo_ts: tuple[np.ndarray, np.ndarray]) -> None:
    ts_event, ts_recv = mbo_ts
    table = fit_latency(ts_event, ts_recv)
    assert table["n"] == 60_067 and table["n_negative"] == 0
    assert table["min_ns"] == 79_365  # the fastest record: ~79 µs from the CME to Databento's capture
    assert 100_000 < table["median_ns"] < 300_000
    LatencyDistribution.from_dict(table)  # the table is a valid venue config for a leg
    with pytest.raises(ValueError):
        fit_latency(np.array([5]), np.array([4]))
