"""Calibrate a book-replay venue from recorded data: the L2 queue model and the latency legs.

**Fill-probability curves.** Probe orders (one lot, passive, joining the touch) are placed on a
:class:`~.venue.BookReplayVenue` at regular positions of the flow; for each we record how long it took
to its first fill. ``P(filled within h)`` for a few horizons ``h`` is the curve. Replayed at L3 the
probe sits in the real FIFO queue, so the L3 curve is what the data shows (the ground truth, under
price-time priority); replayed at L2 / L1 a queue model estimates its position, and the curve shows
how well the model matches the truth.

Probe rules (the same for every fidelity, so every setup sees exactly the same probes):

- a probe is placed after every message with the same exchange time as flow row ``k * probe_every``
  (the book is then identical at every fidelity), at the best price of its side, if both sides of the
  book are present and not crossed; ``side="both"`` places a buy and a sell probe;
- it stays (even when the touch moves away from it) until its first fill or until ``max(horizons)``
  has passed, then it is canceled: no probe is ever re-priced;
- probes must not compete for the same trades, so each runs in its own *lane* (a separate venue
  fed the same flow), and a lane takes a new probe only once its previous one has certainly ended
  (``max(horizons)`` after it was placed); a probe position with no free lane is skipped. Which
  probes run depends on time stamps only, never on fills;
- probes reach the venue instantly (no latency): the curve measures the queue, not the wire.

:func:`calibrate_queue` runs the L3 truth and each L2 queue-model candidate over the same probes and
picks the candidate with the least squared error between curves (summed over horizons).
:func:`calibrate_latency` fits the latency legs; only the feed leg (exchange time → receive time) is
observable in market data, so the entry and response legs reuse the feed fit (the assumption that the
path to the exchange is as fast as the path from it). :func:`write_venue_toml` writes the result as a
run-config ``[[venue]]`` table; :func:`venue_config_from_toml` reads it back.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from tradeforge.backtest.config import QueueConfig, VenueConfig
from tradeforge.core.clock import SimulatedClock
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderEvent, OrderFilled
from tradeforge.model.fixed import Price, Quantity
from tradeforge.model.instruments import Instrument, InstrumentProvider
from tradeforge.model.order_factory import OrderFactory
from tradeforge.model.orders import Order
from tradeforge.venues.latency import fit_latency, usable_recv_mask
from tradeforge.venues.queue import LogShape, PowerShape, ProbabilisticQueue, QueueModel, RiskAverseQueue
from tradeforge.venues.replay.flow import OrderFlow
from tradeforge.venues.replay.market_view import DerivedFlows, derive
from tradeforge.venues.replay.venue import BookReplayVenue, ReplayVenueConfig

__all__ = [
    "DEFAULT_HORIZONS_NS", "FillCurve", "Probes", "QueueCalibration", "calibrate_latency", "calibrate_queue",
    "curve_table", "default_candidates", "fill_probability_curve", "fill_probability_curves", "probe_schedule",
    "queue_label", "queue_model", "venue_config_from_toml", "venue_toml", "write_venue_toml",
]

_S = 1_000_000_000
DEFAULT_HORIZONS_NS: tuple[int, ...] = (1 * _S, 10 * _S, 60 * _S, 300 * _S)
_SIDES = {"buy": (1,), "sell": (-1,), "both": (1, -1)}


# ---------------------------------------------------------------------------------------------- probes


@dataclass(frozen=True, eq=False)
class Probes:
    """Where probes go: exchange time placed, side (1 buy / -1 sell), raw price and lane; each ends
    (is canceled if still working) ``max_horizon_ns`` after it was placed."""

    ts: np.ndarray
    side: np.ndarray
    price: np.ndarray
    lane: np.ndarray
    max_horizon_ns: int
    lanes: int

    def __len__(self) -> int:
        return len(self.ts)


def probe_schedule(
    flow: OrderFlow,
    max_horizon_ns: int,
    probe_every: int,
    side: str = "both",
    lanes: int = 8,
    derived: DerivedFlows | None = None,
) -> Probes:
    """The probes of the module rules for ``flow`` (L3), from its top of book (``derived.quotes``)."""
    if probe_every < 1 or lanes < 1 or max_horizon_ns <= 0:
        raise ValueError("probe_every and lanes must be >= 1 and the horizon > 0")
    if side not in _SIDES:
        raise ValueError(f"side must be one of {sorted(_SIDES)}, not {side!r}")
    derived = derived or derive(flow)
    q = derived.quotes
    ts_flow = flow.ts_event
    out_ts: list[int] = []
    out_side: list[int] = []
    out_px: list[int] = []
    out_lane: list[int] = []
    free_at = [-(1 << 62)] * lanes
    last_t = None
    for k in range(probe_every - 1, len(ts_flow), probe_every):
        t = int(ts_flow[k])
        if t == last_t:
            continue
        last_t = t
        j = int(np.searchsorted(q.ts_event, t, side="right")) - 1
        if j < 0:
            continue
        bid, ask, bs, az = int(q.bid[j]), int(q.ask[j]), int(q.bid_size[j]), int(q.ask_size[j])
        if bs <= 0 or az <= 0 or bid >= ask:
            continue
        lane = next((i for i in range(lanes) if free_at[i] <= t), None)
        if lane is None:
            continue
        free_at[lane] = t + max_horizon_ns
        for s in _SIDES[side]:
            out_ts.append(t)
            out_side.append(s)
            out_px.append(bid if s == 1 else ask)
            out_lane.append(lane)
    return Probes(np.asarray(out_ts, np.int64), np.asarray(out_side, np.int8), np.asarray(out_px, np.int64),
                  np.asarray(out_lane, np.int32), max_horizon_ns, lanes)


@dataclass(frozen=True, eq=False)
class FillCurve:
    """Fill probability of the probes under one setup: ``filled[i]`` probes filled within
    ``horizons_ns[i]``; ``fill_ns`` per probe (-1: not filled within the largest horizon);
    ``reasons``: fills by mechanism (queue / through / cross, see the venue)."""

    label: str
    horizons_ns: tuple[int, ...]
    fill_ns: np.ndarray
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def probes(self) -> int:
        return len(self.fill_ns)

    @property
    def filled(self) -> tuple[int, ...]:
        f = self.fill_ns
        return tuple(int(np.count_nonzero((f >= 0) & (f <= h))) for h in self.horizons_ns)

    @property
    def probability(self) -> tuple[float, ...]:
        n = self.probes
        return tuple(c / n if n else 0.0 for c in self.filled)

    def squared_error(self, truth: FillCurve) -> float:
        """Sum over horizons of the squared difference of fill probabilities."""
        return float(sum((a - b) ** 2 for a, b in zip(self.probability, truth.probability, strict=True)))


def _lot_probe(factory: OrderFactory, inst: Instrument, side: int, price: int) -> Order:
    return factory.limit(inst.id, OrderSide.BUY if side == 1 else OrderSide.SELL,
                         Quantity(inst.lot_size_raw, inst.size_precision), Price(price, inst.price_precision),
                         post_only=True)


def fill_probability_curves(
    flow: OrderFlow,
    setups: Sequence[tuple[str, ReplayVenueConfig]],
    instrument: Instrument,
    horizons_ns: Sequence[int] = DEFAULT_HORIZONS_NS,
    probe_every: int = 200,
    side: str = "both",
    *,
    lanes: int = 8,
    derived: DerivedFlows | None = None,
    probes: Probes | None = None,
) -> list[FillCurve]:
    """One :class:`FillCurve` per ``(label, config)`` setup over the same probes (module rules).

    ``flow`` is the L3 flow; each setup replays it at its config's fidelity (L2 / L1 derived from it).
    The configs' latency is ignored (probes arrive instantly)."""
    horizons = tuple(sorted(int(h) for h in horizons_ns))
    if not horizons or horizons[0] <= 0:
        raise ValueError("horizons must be positive")
    derived = derived or derive(flow)
    if probes is None:
        probes = probe_schedule(flow, horizons[-1], probe_every, side, lanes, derived)
    by_fidelity: dict[str, list[int]] = {}
    for i, (_, cfg) in enumerate(setups):
        by_fidelity.setdefault(cfg.fidelity, []).append(i)
    out: list[FillCurve | None] = [None] * len(setups)
    streams = {"l3": flow, "l2": derived.l2, "l1": derived.l1}
    for fid, idx in by_fidelity.items():
        results = _replay(streams[fid], [setups[i][1] for i in idx], instrument, probes)
        for i, (fill_ns, reasons) in zip(idx, results, strict=True):
            out[i] = FillCurve(setups[i][0], horizons, fill_ns, reasons)
    return out  # type: ignore[return-value]


def fill_probability_curve(
    flow: OrderFlow,
    config: ReplayVenueConfig,
    instrument: Instrument,
    horizons_ns: Sequence[int] = DEFAULT_HORIZONS_NS,
    probe_every: int = 200,
    side: str = "both",
    *,
    lanes: int = 8,
    derived: DerivedFlows | None = None,
) -> FillCurve:
    """The fill-probability curve of ``config`` (its fidelity and queue model) on the L3 ``flow``."""
    return fill_probability_curves(flow, [(config.fidelity, config)], instrument, horizons_ns, probe_every, side,
                                   lanes=lanes, derived=derived)[0]


def _replay(
    stream: OrderFlow, configs: list[ReplayVenueConfig], inst: Instrument, probes: Probes,
) -> list[tuple[np.ndarray, dict[str, int]]]:
    """Replay ``stream`` through one venue per (config, lane); return each config's probe fill times."""
    clock = SimulatedClock(0)
    provider = InstrumentProvider([inst])
    factory = OrderFactory("CALIBRATE", provider.get, clock.timestamp_ns)
    n = len(probes)
    first_fill = [np.full(n, -1, np.int64) for _ in configs]
    pos: dict[str, int] = {}  # client order id -> probe index
    venues: list[list[BookReplayVenue]] = []
    for c, cfg in enumerate(configs):
        lane_venues = []
        for lane in range(probes.lanes):
            v = BookReplayVenue(replace(cfg, latency=None, down=(), reject_rate=0.0, name=f"{cfg.name}{lane}"),
                                provider.get, clock)
            v.connect(_Recorder(first_fill[c], pos))
            v.book(inst.id)
            lane_venues.append(v)
        venues.append(lane_venues)
    # events: (row before which it happens, time, kind 0 = end / 1 = place, probe index)
    ts = stream.ts_event
    t_place = probes.ts
    t_end = probes.ts + probes.max_horizon_ns
    row_place = np.searchsorted(ts, t_place, side="right").tolist()
    row_end = np.searchsorted(ts, t_end, side="right").tolist()
    events = sorted([(r, t, 1, i) for i, (r, t) in enumerate(zip(row_place, t_place.tolist(), strict=True))]
                    + [(r, t, 0, i) for i, (r, t) in enumerate(zip(row_end, t_end.tolist(), strict=True))])
    orders: list[Order | None] = [None] * n
    ev = 0
    n_ev = len(events)
    lane_of = probes.lane.tolist()

    def handle(t: int, kind: int, i: int) -> None:
        clock.set_time(t)
        lane = lane_of[i]
        if kind == 1:
            order = _lot_probe(factory, inst, int(probes.side[i]), int(probes.price[i]))
            orders[i] = order
            pos[order.client_order_id] = i
            for c in range(len(configs)):
                venues[c][lane].submit(order)
            return
        order = orders[i]
        for c in range(len(configs)):
            v = venues[c][lane]
            if order is not None and first_fill[c][i] < 0 and v.queue_ahead(order.client_order_id) is not None:
                v.cancel(order)

    all_venues = [v for lane_venues in venues for v in lane_venues]
    for row, m in enumerate(stream.to_events(0, len(stream))):
        while ev < n_ev and events[ev][0] <= row:
            handle(*events[ev][1:])
            ev += 1
        clock.set_time(m.ts_event)
        for v in all_venues:
            v.on_flow(m)
    while ev < n_ev:
        handle(*events[ev][1:])
        ev += 1
    out = []
    lot = inst.lot_size_raw
    for c in range(len(configs)):
        reasons: Counter[str] = Counter()
        for v in venues[c]:
            reasons.update(v.fill_reasons)
        fill_ts = first_fill[c]
        fill_ns = np.where(fill_ts >= 0, fill_ts - probes.ts, -1)
        out.append((fill_ns, {k: int(q // lot) for k, q in sorted(reasons.items())}))
    return out


class _Recorder:
    """Venue report sink: the exchange time of each probe's first fill."""

    __slots__ = ("first", "pos")

    def __init__(self, first: np.ndarray, pos: dict[str, int]) -> None:
        self.first = first
        self.pos = pos

    def __call__(self, event: OrderEvent) -> None:
        if isinstance(event, OrderFilled):
            i = self.pos[event.client_order_id]
            if self.first[i] < 0:
                self.first[i] = event.ts_event


# ---------------------------------------------------------------------------------------------- queue


def queue_model(q: QueueConfig, seed: int = 0) -> QueueModel:
    """The queue model a run config's ``[venue.queue]`` table describes (as a backtest builds it)."""
    if q.model == "risk_averse":
        return RiskAverseQueue()
    shape = PowerShape(q.n) if q.shape == "power" else LogShape(q.scale)
    return ProbabilisticQueue(shape, seed if q.random else None)


def queue_label(q: QueueConfig) -> str:
    if q.model == "risk_averse":
        return "risk_averse"
    return f"power n={q.n:g}" if q.shape == "power" else f"log scale={q.scale:g}"


def default_candidates(flow: OrderFlow | None = None) -> list[QueueConfig]:
    """Risk-averse; probabilistic with power shapes n = 0.5, 1, 2, 3, 4; a log shape scaled to the
    median order size of ``flow``'s adds (1 without a flow)."""
    scale = 1.0
    if flow is not None:
        adds = flow.size[flow.action == 1]
        if len(adds):
            scale = float(max(np.median(adds), 1))
    return [QueueConfig(model="risk_averse"),
            *(QueueConfig(model="probabilistic", shape="power", n=n) for n in (0.5, 1.0, 2.0, 3.0, 4.0)),
            QueueConfig(model="probabilistic", shape="log", scale=scale)]


@dataclass(frozen=True, eq=False)
class QueueCalibration:
    """The L3 truth, each candidate's L2 curve with its squared error, the best candidate, and the
    L1 curve with the best candidate's model."""

    truth: FillCurve
    candidates: list[tuple[QueueConfig, FillCurve, float]]
    best: QueueConfig
    l1: FillCurve


def calibrate_queue(
    flow: OrderFlow,
    instrument: Instrument,
    candidates: Sequence[QueueConfig] | None = None,
    horizons_ns: Sequence[int] = DEFAULT_HORIZONS_NS,
    probe_every: int = 200,
    side: str = "both",
    *,
    lanes: int = 8,
    derived: DerivedFlows | None = None,
) -> QueueCalibration:
    """Pick the L2 queue model whose fill-probability curve is closest to the L3 curve (least sum of
    squared differences over the horizons; ties go to the earlier candidate)."""
    cands = list(candidates) if candidates is not None else default_candidates(flow)
    if not cands:
        raise ValueError("calibrate_queue needs at least one candidate")
    derived = derived or derive(flow)
    horizons = tuple(sorted(int(h) for h in horizons_ns))
    probes = probe_schedule(flow, horizons[-1], probe_every, side, lanes, derived)
    name = instrument.id
    setups = [("l3", ReplayVenueConfig(name, "l3"))]
    setups += [(f"l2 {queue_label(q)}", ReplayVenueConfig(name, "l2", queue_model(q))) for q in cands]
    curves = fill_probability_curves(flow, setups, instrument, horizons, derived=derived, probes=probes)
    truth = curves[0]
    scored = [(q, c, c.squared_error(truth)) for q, c in zip(cands, curves[1:], strict=True)]
    best = min(range(len(scored)), key=lambda i: (scored[i][2], i))
    best_q = scored[best][0]
    l1 = fill_probability_curves(flow, [(f"l1 {queue_label(best_q)}", ReplayVenueConfig(name, "l1", queue_model(best_q)))],
                                 instrument, horizons, derived=derived, probes=probes)[0]
    return QueueCalibration(truth, scored, best_q, l1)


def curve_table(calibration: QueueCalibration) -> str:
    """The curves as a Markdown table: fill probability per horizon and squared error vs L3 (✓: best)."""
    t = calibration.truth
    heads = [f"P(fill ≤ {_fmt_ns(h)})" for h in t.horizons_ns]
    lines = ["| setup | " + " | ".join(heads) + " | sq. error vs L3 |", "|---" * (len(heads) + 2) + "|"]

    def row(c: FillCurve, err: str, mark: str = "") -> str:
        return f"| {c.label}{mark} | " + " | ".join(f"{p:.3f}" for p in c.probability) + f" | {err} |"

    lines.append(row(t, "—", f" (truth, {t.probes} probes)"))
    for q, c, e in calibration.candidates:
        lines.append(row(c, f"{e:.5f}", " ✓" if q == calibration.best else ""))
    lines.append(row(calibration.l1, f"{calibration.l1.squared_error(t):.5f}"))
    return "\n".join(lines)


def _fmt_ns(ns: int) -> str:
    return f"{ns / _S:g} s" if ns >= _S else f"{ns / 1e6:g} ms"


# ---------------------------------------------------------------------------------------------- latency


def calibrate_latency(
    ts_event: np.ndarray, ts_recv: np.ndarray, flags: np.ndarray | None = None,
) -> dict[str, dict[str, Any]]:
    """Latency legs for a venue config: the feed leg fitted (lognormal, :func:`fit_latency`) to
    ``ts_recv - ts_event`` (records whose receive time Databento ``flags`` mark as not real are
    dropped); entry and response reuse the feed fit -- only the feed leg is in market data."""
    ts_event = np.asarray(ts_event, np.int64)
    ts_recv = np.asarray(ts_recv, np.int64)
    if flags is not None:
        keep = usable_recv_mask(flags)
        ts_event, ts_recv = ts_event[keep], ts_recv[keep]
    feed = fit_latency(ts_event, ts_recv)
    return {"feed": feed, "entry": dict(feed), "response": dict(feed)}


# ---------------------------------------------------------------------------------------------- TOML


def venue_toml(
    name: str, fidelity: str, queue: QueueConfig, latency: Mapping[str, Mapping[str, Any]] | None = None,
    comments: Sequence[str] = (),
) -> str:
    """A run-config ``[[venue]]`` table (see :class:`~tradeforge.backtest.config.VenueConfig`)."""
    lines = [f"# {c}" for c in comments]
    lines += ["[[venue]]", f"name = {_toml_value(name)}", f"fidelity = {_toml_value(fidelity)}", "",
              "[venue.queue]"]
    qd = msgspec.to_builtins(queue)
    keep = ("model",) if queue.model == "risk_averse" else ("model", "shape", "n" if queue.shape == "power" else "scale",
                                                             "random")
    lines += [f"{k} = {_toml_value(qd[k])}" for k in keep]
    for leg, table in (latency or {}).items():
        lines += ["", f"[venue.latency.{leg}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def write_venue_toml(
    path: str | Path, name: str, fidelity: str, queue: QueueConfig,
    latency: Mapping[str, Mapping[str, Any]] | None = None, comments: Sequence[str] = (),
) -> Path:
    """Write :func:`venue_toml` to ``path``; checked by reading it back as a venue config."""
    path = Path(path)
    path.write_text(venue_toml(name, fidelity, queue, latency, comments))
    venue_config_from_toml(path)
    return path


def venue_config_from_toml(path: str | Path, name: str | None = None, seed: int = 0) -> ReplayVenueConfig:
    """The :class:`ReplayVenueConfig` of a ``[[venue]]`` table in ``path`` (the first, or the one
    named ``name``), built as a backtest run builds it (latency seeded with ``seed``)."""
    from tradeforge.backtest.run import replay_venue_config

    doc = tomllib.loads(Path(path).read_text())
    tables = doc.get("venue", [])
    if isinstance(tables, dict):
        tables = [tables]
    chosen = [t for t in tables if name is None or t.get("name") == name]
    if not chosen:
        raise ValueError(f"{path}: no [[venue]]" + (f" named {name!r}" if name else ""))
    v = msgspec.convert(chosen[0], VenueConfig, strict=True)
    if v.fidelity is None:
        raise ValueError(f"{path}: venue {v.name!r} has no fidelity: not a book-replay venue")
    return replay_venue_config(v, seed)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v} to TOML")
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else _toml_value(k)
