"""Calibration: probe fill-probability curves (L3 truth vs L2/L1 queue models), queue model choice,
latency legs, and the venue TOML round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.calibrate import (
    calibrate_latency,
    calibrate_queue,
    curve_table,
    default_candidates,
    fill_probability_curve,
    fill_probability_curves,
    probe_schedule,
    venue_config_from_toml,
    write_venue_toml,
)
from tradeforge.backtest.config import QueueConfig
from tradeforge.model.instruments import instrument_from_dict
from tradeforge.venues.latency import DATABENTO_F_BAD_TS_RECV, DistributionLatency, LatencyDistribution
from tradeforge.venues.queue import LogShape, PowerShape, ProbabilisticQueue, RiskAverseQueue
from tradeforge.venues.replay.flow import FlowAction as A
from tradeforge.venues.replay.flow import _flow
from tradeforge.venues.replay.market_view import derive
from tradeforge.venues.replay.synthetic import synthetic_flow
from tradeforge.venues.replay.venue import ReplayVenueConfig

S = 1_000_000_000
IID = "XYZ.SIM"
INST = instrument_from_dict({"id": IID, "kind": "equity", "currency": "USD", "tick_size": "1", "lot_size": "1"}, "t")
SYN = instrument_from_dict({"id": "SYN.SIM", "kind": "equity", "currency": "USD", "tick_size": "1",
                            "lot_size": "1"}, "t")


def _hand_flow():
    """A bid of 5 (order 1) at 100, an ask at 101; after row 1 a buy probe joins the bid; order 3 (3)
    joins behind it; order 1 leaves; 2 of order 3 trade at t = 5 s. At L3 the probe is then at the
    front: it fills 3 s after it was placed. At L2 only a model that gives most of the cancel to the
    front of the queue gets it filled."""
    rows = [(1, A.ADD, 1, 100, 5, 1), (2, A.ADD, -1, 101, 5, 2), (3, A.ADD, 1, 100, 3, 3),
            (4, A.DELETE, 1, 100, 5, 1), (5, A.EXECUTE, 1, 100, 2, 3)]
    cols = list(zip(*rows, strict=True))
    return _flow(IID, "l3", [t * S for t in cols[0]], cols[1], cols[2], cols[3], cols[4], cols[5])


def test_l3_probe_reaches_the_front_and_fills_when_a_later_order_trades() -> None:
    flow = _hand_flow()
    probes = probe_schedule(flow, 5 * S, probe_every=2, side="buy", lanes=1)
    assert probes.ts.tolist() == [2 * S] and probes.price.tolist() == [100] and probes.side.tolist() == [1]
    c = fill_probability_curve(flow, ReplayVenueConfig("V", "l3"), INST, (1 * S, 5 * S), probe_every=2, side="buy",
                               lanes=1)
    assert c.fill_ns.tolist() == [3 * S]
    assert c.probability == (0.0, 1.0) and c.reasons == {"queue": 1}


def test_calibrate_queue_picks_the_model_that_matches_the_truth() -> None:
    cands = [QueueConfig(model="risk_averse"), QueueConfig(model="probabilistic", shape="power", n=1.0),
             QueueConfig(model="probabilistic", shape="power", n=4.0)]
    cal = calibrate_queue(_hand_flow(), INST, cands, (1 * S, 5 * S), probe_every=2, side="buy", lanes=1)
    assert cal.truth.probability == (0.0, 1.0)
    assert [c.probability for _, c, _ in cal.candidates] == [(0.0, 0.0), (0.0, 0.0), (0.0, 1.0)]
    assert [e for _, _, e in cal.candidates] == [1.0, 1.0, 0.0]
    assert cal.best == cands[2]
    assert cal.l1.probability == (0.0, 1.0)  # the probe's level is the touch throughout: L1 sees what L2 sees
    table = curve_table(cal)
    assert "| l2 power n=4 ✓ | 0.000 | 1.000 | 0.00000 |" in table and "(truth, 1 probes)" in table


def test_probe_not_filled_within_the_horizon_is_canceled() -> None:
    """The first probe (t = 2 s) ends at 4 s, before the trade at 5 s that would have filled it; the
    lane is then free for a second probe (t = 4 s), which has order 3 ahead of it."""
    c = fill_probability_curve(_hand_flow(), ReplayVenueConfig("V", "l3"), INST, (1 * S, 2 * S), probe_every=2,
                               side="buy", lanes=1)
    assert c.fill_ns.tolist() == [-1, -1] and c.probability == (0.0, 0.0) and c.reasons == {}


def test_probes_in_one_lane_never_overlap_and_join_the_touch() -> None:
    flow = synthetic_flow(6_000, seed=3)
    d = derive(flow)
    horizon = 20_000_000
    p = probe_schedule(flow, horizon, probe_every=25, side="both", lanes=3, derived=d)
    assert len(p) > 50 and set(p.lane.tolist()) == {0, 1, 2}
    for lane in range(3):
        t = np.unique(p.ts[p.lane == lane])
        assert np.all(np.diff(t) >= horizon)
    q = d.quotes
    j = np.searchsorted(q.ts_event, p.ts, side="right") - 1
    assert np.array_equal(p.price, np.where(p.side == 1, q.bid[j], q.ask[j]))


def test_curves_are_deterministic_and_monotone_on_a_synthetic_flow() -> None:
    flow = synthetic_flow(6_000, seed=3)
    hs = (1_000_000, 10_000_000, 50_000_000)
    setups = [("l3", ReplayVenueConfig("V", "l3")), ("ra", ReplayVenueConfig("V", "l2", RiskAverseQueue())),
              ("p2", ReplayVenueConfig("V", "l2", ProbabilisticQueue(PowerShape(2.0)))),
              ("l1", ReplayVenueConfig("V", "l1"))]
    a = fill_probability_curves(flow, setups, SYN, hs, probe_every=25, lanes=4)
    b = fill_probability_curves(flow, setups, SYN, hs, probe_every=25, lanes=4)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.fill_ns, y.fill_ns) and x.reasons == y.reasons
        assert x.probes == a[0].probes > 30
        assert list(x.probability) == sorted(x.probability)
        assert np.all(x.fill_ns <= hs[-1])
    l3, ra, p2, _ = a
    # risk-averse never moves forward on cancels: it is the most pessimistic model at every horizon
    assert all(r <= t for r, t in zip(ra.filled, p2.filled, strict=True))
    assert l3.filled[-1] > 0


def test_default_candidates() -> None:
    flow = synthetic_flow(500, seed=1)
    cands = default_candidates(flow)
    assert cands[0].model == "risk_averse"
    assert [c.n for c in cands if c.shape == "power" and c.model == "probabilistic"] == [0.5, 1.0, 2.0, 3.0, 4.0]
    assert cands[-1].shape == "log" and cands[-1].scale == float(np.median(flow.size[flow.action == A.ADD]))


def test_calibrate_latency_fits_the_feed_leg_and_reuses_it() -> None:
    ts = np.arange(1, 1001, dtype=np.int64) * 1_000_000
    lat = 100_000 + (np.arange(1000) % 7) * 10_000
    flags = np.zeros(1000, np.int64)
    flags[:10] = DATABENTO_F_BAD_TS_RECV
    recv = ts + lat
    recv[:10] += 10**12  # snapshot records: receive time not real
    legs = calibrate_latency(ts, recv, flags)
    assert set(legs) == {"feed", "entry", "response"}
    assert legs["feed"]["n"] == 990 and legs["feed"]["max_ns"] == 160_000
    assert legs["entry"] == legs["feed"] == legs["response"]
    assert 100_000 < legs["feed"]["median_ns"] < 160_000


@pytest.mark.parametrize("queue", [
    QueueConfig(model="risk_averse"),
    QueueConfig(model="probabilistic", shape="power", n=3.0),
    QueueConfig(model="probabilistic", shape="log", scale=100.0),
])
def test_venue_toml_round_trip(tmp_path: Path, queue: QueueConfig) -> None:
    legs = calibrate_latency(np.arange(100, dtype=np.int64) * 10**6,
                             np.arange(100, dtype=np.int64) * 10**6 + 50_000 + np.arange(100) * 100)
    path = write_venue_toml(tmp_path / "venue.toml", "GLBX", "l2", queue, legs, ["a comment", "p99.9 \"quoted\""])
    cfg = venue_config_from_toml(path, seed=5)
    assert (cfg.name, cfg.fidelity, cfg.seed) == ("GLBX", "l2", 5)
    q = cfg.queue_model
    if queue.model == "risk_averse":
        assert isinstance(q, RiskAverseQueue)
    else:
        assert isinstance(q, ProbabilisticQueue) and q.seed is None
        assert q.shape == (PowerShape(3.0) if queue.shape == "power" else LogShape(100.0))
    assert isinstance(cfg.latency, DistributionLatency)
    for leg in ("feed", "entry", "response"):
        assert cfg.latency.distributions[leg] == LatencyDistribution.from_dict(legs[leg])
    with pytest.raises(ValueError, match="named 'NOPE'"):
        venue_config_from_toml(path, name="NOPE")


def test_venue_toml_without_latency(tmp_path: Path) -> None:
    path = write_venue_toml(tmp_path / "v.toml", "X", "l1", QueueConfig(model="risk_averse"))
    cfg = venue_config_from_toml(path)
    assert cfg.fidelity == "l1" and cfg.latency is None
