"""Latency models: when does each side of the wire see a message?

Three separate latencies, all in integer nanoseconds and never negative:

- **feed** — exchange event (``ts_event``) → the strategy sees it (``ts_init``);
- **order entry** — strategy decides (``ts_decision``) → the order reaches the exchange;
- **response** — exchange acts (ack, fill, cancel at ``ts_exchange``) → the strategy sees the report.

A venue adds the latency to the timestamp it passes in: an order decided at ``t`` reaches the book at
``t + entry_ns(t)`` and meets the book *as it is then*, not as it was at ``t``; its fill at ``x`` is seen by
the strategy at ``x + response_ns(x)``. The models here only produce the numbers; applying them is the
venue's job. A negative latency does not mean a rejection (as it does in hftbacktest): rejections and
venue outages are simulated by the venue, separately.

Every random model owns its generators (``numpy.random.Generator``), seeded from ``seed`` and the leg
(feed / entry / response), so the draws for one leg never shift the draws of another, and the same
seed and the same sequence of calls give the same latencies. Give each venue its own model (and seed)
for per-venue latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np

_LEGS = ("feed", "entry", "response")
_BLOCK = 1024  # draws are made in blocks of this many; deterministic for a given sequence of calls

#: Databento ``flags`` bit: ``ts_recv`` is not a real receive time (e.g. the snapshot that opens a file).
DATABENTO_F_BAD_TS_RECV = 1 << 3


class LatencyModel(Protocol):
    """One number out per message: the latency in ns (>= 0) of a message leaving at the given time."""

    def feed_ns(self, ts_event: int) -> int:
        """Exchange event at ``ts_event`` → the strategy sees it ``feed_ns`` later."""

    def entry_ns(self, ts_decision: int) -> int:
        """Order decided at ``ts_decision`` → it reaches the exchange ``entry_ns`` later."""

    def response_ns(self, ts_exchange: int) -> int:
        """Exchange report at ``ts_exchange`` → the strategy sees it ``response_ns`` later."""


# --------------------------------------------------------------------------------------------------
# constant
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    """The same latency for every message of a leg (ns). ``ConstantLatency()`` is zero latency."""

    feed_latency_ns: int = 0
    entry_latency_ns: int = 0
    response_latency_ns: int = 0

    def __post_init__(self) -> None:
        for leg in _LEGS:
            value = getattr(self, f"{leg}_latency_ns")
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{leg}_latency_ns must be a non-negative int (ns), got {value!r}")

    def feed_ns(self, ts_event: int) -> int:
        return self.feed_latency_ns

    def entry_ns(self, ts_decision: int) -> int:
        return self.entry_latency_ns

    def response_ns(self, ts_exchange: int) -> int:
        return self.response_latency_ns


# --------------------------------------------------------------------------------------------------
# parametric distributions
# --------------------------------------------------------------------------------------------------

_KINDS = ("constant", "lognormal", "normal", "uniform")
_PARAMS = {
    "constant": ("value_ns",),
    "lognormal": ("median_ns", "sigma"),
    "normal": ("mean_ns", "std_ns"),
    "uniform": ("low_ns", "high_ns"),
}
#: keys ``fit_latency`` writes for information only; ``LatencyDistribution.from_dict`` accepts and ignores them
_INFO_KEYS = frozenset({"n", "n_negative", "mean_ns", "quantiles_ns"})


@dataclass(frozen=True, slots=True)
class LatencyDistribution:
    """A stationary latency distribution for one leg, in ns.

    - ``lognormal``: ``exp(N(log(median_ns), sigma))`` — ``sigma`` is the standard deviation of the
      log latency (dimensionless). Right-skewed with a heavy tail, as network latencies are.
    - ``normal``: ``N(mean_ns, std_ns)`` **truncated** to ``[min_ns, max_ns]`` by redrawing (no spike
      of probability at the bounds); after 64 rounds of redrawing, what is still out of bounds is
      clamped (only happens when the bounds hold almost none of the mass).
    - ``uniform``: uniform on ``[low_ns, high_ns]``.
    - ``constant``: always ``value_ns``.

    Clamp: every draw is rounded to the nearest ns and then clamped to ``[min_ns, max_ns]``
    (``min_ns`` defaults to 0, so a latency is never negative; ``max_ns=None`` means no upper bound).
    Use ``min_ns`` for the physical floor (wire time) and ``max_ns`` to cut an unrealistic tail.
    """

    kind: str
    value_ns: float | None = None
    median_ns: float | None = None
    sigma: float | None = None
    mean_ns: float | None = None
    std_ns: float | None = None
    low_ns: float | None = None
    high_ns: float | None = None
    min_ns: int = 0
    max_ns: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"latency distribution kind must be one of {_KINDS}, got {self.kind!r}")
        needed = _PARAMS[self.kind]
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.kind} latency needs {name}")
        for kind, names in _PARAMS.items():
            if kind != self.kind:
                for name in names:
                    if name not in needed and getattr(self, name) is not None:
                        raise ValueError(f"{name} is not a parameter of a {self.kind} latency")
        if self.min_ns < 0:
            raise ValueError("min_ns must be >= 0: a latency is never negative")
        if self.max_ns is not None and self.max_ns < self.min_ns:
            raise ValueError("max_ns must be >= min_ns")
        if self.kind == "lognormal" and (self.median_ns <= 0 or self.sigma < 0):  # type: ignore[operator]
            raise ValueError("a lognormal latency needs median_ns > 0 and sigma >= 0")
        if self.kind == "normal" and self.std_ns < 0:  # type: ignore[operator]
            raise ValueError("a normal latency needs std_ns >= 0")
        if self.kind == "uniform" and self.high_ns < self.low_ns:  # type: ignore[operator]
            raise ValueError("a uniform latency needs low_ns <= high_ns")

    # -- constructors --
    @classmethod
    def constant(cls, value_ns: int) -> LatencyDistribution:
        return cls("constant", value_ns=value_ns)

    @classmethod
    def lognormal(cls, median_ns: float, sigma: float, min_ns: int = 0, max_ns: int | None = None) -> LatencyDistribution:
        return cls("lognormal", median_ns=median_ns, sigma=sigma, min_ns=min_ns, max_ns=max_ns)

    @classmethod
    def normal(cls, mean_ns: float, std_ns: float, min_ns: int = 0, max_ns: int | None = None) -> LatencyDistribution:
        return cls("normal", mean_ns=mean_ns, std_ns=std_ns, min_ns=min_ns, max_ns=max_ns)

    @classmethod
    def uniform(cls, low_ns: float, high_ns: float, min_ns: int = 0, max_ns: int | None = None) -> LatencyDistribution:
        return cls("uniform", low_ns=low_ns, high_ns=high_ns, min_ns=min_ns, max_ns=max_ns)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatencyDistribution:
        """From a venue config table (e.g. what ``fit_latency`` returns). Unknown keys are an error;
        the informational keys ``fit_latency`` adds (``n``, ``mean_ns``, ``quantiles_ns``, ...) are ignored."""
        if "kind" not in d:
            raise ValueError("a latency table needs 'kind'")
        allowed = {"kind", "min_ns", "max_ns", *_PARAMS.get(d["kind"], ())}
        unknown = set(d) - allowed - _INFO_KEYS
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)} for a {d['kind']!r} latency")
        return cls(**{k: v for k, v in d.items() if k in allowed})

    # -- sampling --
    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` latencies (int64 ns), rounded and clamped as the class doc says."""
        k = self.kind
        if k == "constant":
            x = np.full(n, float(self.value_ns))  # type: ignore[arg-type]
        elif k == "lognormal":
            x = rng.lognormal(math.log(self.median_ns), self.sigma, n)  # type: ignore[arg-type]
        elif k == "uniform":
            x = rng.uniform(self.low_ns, self.high_ns, n)  # type: ignore[arg-type]
        else:
            x = self._truncated_normal(rng, n)
        hi = np.inf if self.max_ns is None else self.max_ns
        return np.clip(np.rint(x), self.min_ns, hi).astype(np.int64)

    def _truncated_normal(self, rng: np.random.Generator, n: int) -> np.ndarray:
        lo = self.min_ns
        hi = np.inf if self.max_ns is None else self.max_ns
        x = rng.normal(self.mean_ns, self.std_ns, n)  # type: ignore[arg-type]
        for _ in range(64):
            bad = (x < lo) | (x > hi)
            nbad = int(bad.sum())
            if nbad == 0:
                break
            x[bad] = rng.normal(self.mean_ns, self.std_ns, nbad)  # type: ignore[arg-type]
        return x


class _Leg:
    """A block-buffered stream of draws for one leg."""

    __slots__ = ("_buf", "_draw", "_i")

    def __init__(self, draw: Callable[[int], np.ndarray]) -> None:
        self._draw = draw
        self._buf: list[int] = []
        self._i = 0

    def next(self) -> int:
        if self._i >= len(self._buf):
            self._buf = self._draw(_BLOCK).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v


def _leg_rng(seed: int, leg: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, leg]))


class DistributionLatency:
    """Stationary, seeded latency per leg (one ``LatencyDistribution`` each); time stamps are ignored.

    One instance per venue: ``DistributionLatency(feed=..., entry=..., response=..., seed=7)``. A leg
    left ``None`` has zero latency. Each leg draws from its own generator seeded by ``(seed, leg)``.
    """

    def __init__(
        self,
        feed: LatencyDistribution | None = None,
        entry: LatencyDistribution | None = None,
        response: LatencyDistribution | None = None,
        seed: int = 0,
    ) -> None:
        self.seed = seed
        self.distributions = {"feed": feed, "entry": entry, "response": response}
        self._legs: list[_Leg] = []
        for i, leg in enumerate(_LEGS):
            dist = self.distributions[leg] or LatencyDistribution.constant(0)
            self._legs.append(_Leg(partial(dist.draw, _leg_rng(seed, i))))

    @classmethod
    def from_config(cls, table: Mapping[str, Any], seed: int = 0) -> DistributionLatency:
        """From ``{"feed": {...}, "entry": {...}, "response": {...}}`` tables (see ``LatencyDistribution.from_dict``)."""
        unknown = set(table) - set(_LEGS)
        if unknown:
            raise ValueError(f"unknown latency leg(s) {sorted(unknown)}; expected {_LEGS}")
        return cls(**{leg: LatencyDistribution.from_dict(t) for leg, t in table.items()}, seed=seed)

    def feed_ns(self, ts_event: int) -> int:
        return self._legs[0].next()

    def entry_ns(self, ts_decision: int) -> int:
        return self._legs[1].next()

    def response_ns(self, ts_exchange: int) -> int:
        return self._legs[2].next()


# --------------------------------------------------------------------------------------------------
# empirical
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class EmpiricalDistribution:
    """Latency drawn from recorded samples (ns) by inverse CDF.

    Stationary (``window_ns=None``): a draw is ``quantile(samples, u)`` with ``u ~ U[0, 1)`` and linear
    interpolation between order statistics (numpy's default ``linear`` method), so the draws have
    exactly the data's quantile function.

    Time-varying (``ts_ns`` and ``window_ns`` given): samples are bucketed into consecutive windows of
    ``window_ns`` by their time stamp; each window with at least ``min_samples`` samples gets a table of
    ``n_quantiles`` evenly spaced quantiles, placed at the window's midpoint. A draw at time ``t`` uses
    the table linearly interpolated between the two windows around ``t`` (the first / last table
    outside the data's span). This follows slow changes (a busy open, a quiet night) while staying a
    plain lookup; it does not model bursts shorter than a window.

    Samples below 0 (clock skew between the exchange and the receiver) are clamped to 0.
    """

    latencies_ns: np.ndarray
    ts_ns: np.ndarray | None = None
    window_ns: int | None = None
    n_quantiles: int = 101
    min_samples: int = 20
    _sorted: list[float] = field(init=False, repr=False)
    _centers: list[int] = field(init=False, repr=False)
    _tables: list[list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lat = np.maximum(np.asarray(self.latencies_ns, dtype=np.int64), 0)
        if lat.size == 0:
            raise ValueError("an empirical latency needs at least one sample")
        self.latencies_ns = lat
        self._sorted = np.sort(lat).astype(np.float64).tolist()
        self._centers = []
        self._tables = []
        if self.window_ns is None:
            return
        if self.ts_ns is None or len(self.ts_ns) != lat.size:
            raise ValueError("a time-varying empirical latency needs ts_ns, one per sample")
        if self.window_ns <= 0 or self.n_quantiles < 2:
            raise ValueError("window_ns must be > 0 and n_quantiles >= 2")
        ts = np.asarray(self.ts_ns, dtype=np.int64)
        t0 = int(ts.min())
        bucket = (ts - t0) // self.window_ns
        order = np.argsort(bucket, kind="stable")
        bucket, lat_b = bucket[order], lat[order]
        probs = np.linspace(0.0, 1.0, self.n_quantiles)
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], bucket.size]
        for s, e in zip(starts, ends, strict=True):
            if e - s < self.min_samples:
                continue
            b = int(bucket[s])
            self._centers.append(t0 + b * self.window_ns + self.window_ns // 2)
            self._tables.append(np.quantile(lat_b[s:e], probs).tolist())
        if not self._tables:  # too few samples per window: fall back to the stationary distribution
            self._centers = [t0]
            self._tables = [np.quantile(lat, probs).tolist()]

    @property
    def time_varying(self) -> bool:
        return self.window_ns is not None

    def quantile(self, u: float, ts: int = 0) -> float:
        """The latency at probability ``u`` in [0, 1] (at time ``ts`` when time-varying)."""
        if not self.time_varying:
            return _interp_sorted(self._sorted, u)
        c = self._centers
        if ts <= c[0] or len(c) == 1:
            return _interp_sorted(self._tables[0], u)
        if ts >= c[-1]:
            return _interp_sorted(self._tables[-1], u)
        k = _bisect_right(c, ts) - 1
        w = (ts - c[k]) / (c[k + 1] - c[k])
        return (1.0 - w) * _interp_sorted(self._tables[k], u) + w * _interp_sorted(self._tables[k + 1], u)


def _interp_sorted(xs: list[float], u: float) -> float:
    pos = u * (len(xs) - 1)
    i = int(pos)
    if i >= len(xs) - 1:
        return xs[-1]
    return xs[i] + (pos - i) * (xs[i + 1] - xs[i])


def _bisect_right(xs: list[int], x: int) -> int:
    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if x < xs[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


class EmpiricalLatency:
    """Latency per leg sampled from recorded data (see ``EmpiricalDistribution``); seeded.

    Market data only shows the feed leg (exchange time vs receive time). Order entry and response
    latencies need order-ack records; when ``entry`` / ``response`` are not given they reuse the feed
    distribution — the assumption that the path to the exchange is as fast as the path from it — each
    with its own generator, so they are independent draws from the same distribution.
    """

    def __init__(
        self,
        feed: EmpiricalDistribution,
        entry: EmpiricalDistribution | None = None,
        response: EmpiricalDistribution | None = None,
        seed: int = 0,
    ) -> None:
        self.seed = seed
        self.distributions = {"feed": feed, "entry": entry or feed, "response": response or feed}
        self._u = [_Leg(_leg_rng(seed, i).random) for i in range(3)]

    @classmethod
    def from_timestamps(
        cls,
        ts_event: np.ndarray,
        ts_recv: np.ndarray,
        *,
        window_ns: int | None = None,
        n_quantiles: int = 101,
        seed: int = 0,
    ) -> EmpiricalLatency:
        """Feed latency ``ts_recv - ts_event`` (e.g. tradeforge's ``ts_init - ts_event`` or Databento's
        ``ts_recv - ts_event``; drop records whose receive time is not real first, e.g. Databento's
        snapshot records with ``flags & DATABENTO_F_BAD_TS_RECV``). Time-varying on ``ts_event`` when
        ``window_ns`` is given."""
        ts_event = np.asarray(ts_event, dtype=np.int64)
        lat = np.asarray(ts_recv, dtype=np.int64) - ts_event
        dist = EmpiricalDistribution(lat, ts_event if window_ns else None, window_ns, n_quantiles)
        return cls(dist, seed=seed)

    def _draw(self, leg: int, ts: int) -> int:
        u = self._u[leg].next()
        return max(0, round(self.distributions[_LEGS[leg]].quantile(u, ts)))

    def feed_ns(self, ts_event: int) -> int:
        return self._draw(0, ts_event)

    def entry_ns(self, ts_decision: int) -> int:
        return self._draw(1, ts_decision)

    def response_ns(self, ts_exchange: int) -> int:
        return self._draw(2, ts_exchange)


def usable_recv_mask(flags: np.ndarray) -> np.ndarray:
    """Databento records whose ``ts_recv`` is a real receive time (not flagged ``F_BAD_TS_RECV``)."""
    return (np.asarray(flags, dtype=np.int64) & DATABENTO_F_BAD_TS_RECV) == 0


def fit_latency(ts_event: np.ndarray, ts_recv: np.ndarray, quantiles: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)) -> dict[str, Any]:
    """Fit a lognormal to ``ts_recv - ts_event`` and return a venue-config table for one leg.

    Maximum likelihood on the positive latencies: ``median_ns = exp(mean(log x))``,
    ``sigma = std(log x)``. ``min_ns`` / ``max_ns`` are the observed extremes (clamped at 0), used as the
    distribution's clamp so that draws stay within what was seen. The table also carries, for
    information, ``n``, ``n_negative`` (samples with receive before event: clock skew), ``mean_ns`` and
    the empirical ``quantiles_ns`` (keys ``"p1"``, ``"p50"``, ``"p99.9"``, ...), so the fit can be judged against
    the data. ``LatencyDistribution.from_dict`` reads the table back.
    """
    lat = np.asarray(ts_recv, dtype=np.int64) - np.asarray(ts_event, dtype=np.int64)
    if lat.size == 0:
        raise ValueError("fit_latency needs at least one sample")
    pos = lat[lat > 0].astype(np.float64)
    if pos.size == 0:
        raise ValueError("fit_latency needs at least one positive latency")
    logs = np.log(pos)
    clamped = np.maximum(lat, 0)
    return {
        "kind": "lognormal",
        "median_ns": float(math.exp(logs.mean())),
        "sigma": float(logs.std()),
        "min_ns": int(clamped.min()),
        "max_ns": int(clamped.max()),
        "n": int(lat.size),
        "n_negative": int((lat < 0).sum()),
        "mean_ns": float(clamped.mean()),
        "quantiles_ns": {f"p{q * 100:g}": float(np.quantile(clamped, q)) for q in quantiles},
    }
