"""Market impact and participation limits for coarse data (bars, L1, trades).

With bars or top-of-book data a large order's fill price is not visible in the data: the book behind
the touch is unknown, and the data never reacts to our trades. These models add an *estimated* impact
to the fill price. One context in, one number out, as the fee and slippage models:
``adjustment(ctx) -> int`` is a **raw price change** (the instrument's ``price_precision``) that the
venue adds to the fill price it would otherwise use. A fill's own impact is adverse: positive for a
buy (pay more), negative for a sell (receive less); only the Almgren–Chriss permanent offset left by
our *earlier* opposite trades can move a price our way.

Rounding (``rounding``): ``"nearest"`` tick (half away from zero; the default, so small impacts vanish
as they would on a real tick grid), ``"adverse"`` (to the next whole tick against the
trader — up for a buy, down for a sell: conservative) or ``"none"`` (raw units, off the tick grid).

Units used below: ``Q`` and ``q`` are quantities in whole instrument units (raw size / 10**size_precision,
shares or contracts); volumes (ADV, interval volume) are raw sizes in the same instrument; volatility
``sigma`` is a *fraction* of price per day (0.02 = 2 % daily standard deviation of returns).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from tradeforge.model.instruments import Instrument

_ROUNDINGS = ("nearest", "adverse", "none")


@dataclass(frozen=True, slots=True)
class ImpactContext:
    """What an impact model may look at for one fill.

    ``side`` +1 buy / -1 sell; ``size`` and ``price`` raw; ``sigma`` daily volatility as a fraction;
    ``adv_raw`` average daily volume (raw size); ``interval_volume_raw`` the bar's (or interval's)
    traded volume (raw size); ``horizon_ns`` the time over which the parent order is worked (the
    Almgren–Chriss ``T``); ``ts_ns`` the fill time.
    """

    instrument: Instrument
    side: int
    size: int
    price: int
    sigma: float | None = None
    adv_raw: int | None = None
    interval_volume_raw: int | None = None
    horizon_ns: int | None = None
    ts_ns: int = 0


class ImpactModel(Protocol):
    def adjustment(self, ctx: ImpactContext) -> int:
        """Raw price change for this fill (adverse: positive for buys, negative for sells)."""


class NoImpact:
    def adjustment(self, ctx: ImpactContext) -> int:
        return 0


def _to_raw(side: int, delta: float, instrument: Instrument, rounding: str) -> int:
    """Raw price change from a signed ``delta`` in raw price units (positive = price up)."""
    if side not in (1, -1):
        raise ValueError(f"side must be +1 (buy) or -1 (sell), got {side!r}")
    tick = instrument.tick_size_raw
    if rounding == "none":
        return _round_half_away(delta)
    if rounding == "nearest":
        return _round_half_away(delta / tick) * tick
    # adverse: to the next whole tick against the trader (up for a buy, down for a sell)
    ticks = delta / tick
    return (math.ceil(ticks - 1e-9) if side > 0 else math.floor(ticks + 1e-9)) * tick


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _check_rounding(rounding: str) -> None:
    if rounding not in _ROUNDINGS:
        raise ValueError(f"rounding must be one of {_ROUNDINGS}, got {rounding!r}")


@dataclass(slots=True)
class SquareRootImpact:
    """Square-root law: impact (fraction of price) ``= eta · sigma · sqrt(Q / ADV)``, in bps
    ``1e4 ·`` that. ``Q`` is the fill size and ADV the average daily volume (both in the same units);
    ``eta`` is dimensionless (of order 1 in the literature: 0.5 … 1).

    ADV is ``ctx.adv_raw`` when the venue gives it, otherwise the mean of the last
    ``daily_volume_window`` daily volumes fed to ``on_daily_volume`` (a rolling window of days).
    ``sigma`` is ``ctx.sigma``, otherwise ``default_sigma``. Missing ADV or sigma is an error, not a
    silent zero. Assumptions: impact depends only on this fill's size (a fill is a whole metaorder;
    no decay, no memory of earlier fills); it is applied in full to the fill price.
    """

    eta: float = 1.0
    daily_volume_window: int = 20
    default_sigma: float | None = None
    rounding: str = "nearest"
    _volumes: deque[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_rounding(self.rounding)
        if self.eta < 0 or self.daily_volume_window < 1:
            raise ValueError("eta must be >= 0 and daily_volume_window >= 1")
        self._volumes = deque(maxlen=self.daily_volume_window)

    def on_daily_volume(self, volume_raw: int) -> None:
        """Record one day's total traded volume (raw size)."""
        if volume_raw < 0:
            raise ValueError("a daily volume cannot be negative")
        self._volumes.append(volume_raw)

    @property
    def adv_raw(self) -> float | None:
        return sum(self._volumes) / len(self._volumes) if self._volumes else None

    def impact_bps(self, ctx: ImpactContext) -> float:
        adv = ctx.adv_raw if ctx.adv_raw is not None else self.adv_raw
        sigma = ctx.sigma if ctx.sigma is not None else self.default_sigma
        if adv is None or sigma is None:
            raise ValueError("square-root impact needs ADV (ctx.adv_raw or on_daily_volume) and sigma")
        if adv <= 0:
            raise ValueError("ADV must be positive")
        return 1e4 * self.eta * sigma * math.sqrt(abs(ctx.size) / adv)

    def adjustment(self, ctx: ImpactContext) -> int:
        amount = abs(ctx.price) * self.impact_bps(ctx) / 1e4
        return _to_raw(ctx.side, ctx.side * amount, ctx.instrument, self.rounding)


@dataclass(slots=True)
class AlmgrenChrissImpact:
    """Almgren–Chriss linear impact: temporary ``h = eta · (q / T)`` and permanent ``g = gamma · q``.

    Units: ``q`` whole units (shares / contracts) of this fill, ``T`` seconds (``ctx.horizon_ns / 1e9``,
    the time over which the parent order is worked, or ``default_horizon_ns``), prices in the
    instrument's price units. So ``eta`` is price per (unit per second) and ``gamma`` price per unit.
    From the paper's per-day parameters: ``eta_per_second = eta_per_day · seconds per trading day``
    (e.g. 23,400 for a 6.5 h session); ``gamma`` is unchanged.

    A fill pays the temporary impact of its own rate plus the permanent impact of our *earlier* fills
    on the same instrument (the discrete Almgren–Chriss price path: trade ``k`` moves the price for
    trade ``k+1`` onwards). Historical data never sees our trades, so the model keeps that signed
    permanent offset per instrument itself; it does not decay (as in the model). ``reset()`` clears it
    (e.g. at the session end). ``temporary_raw`` / ``permanent_raw`` give the parts separately.
    """

    eta: float
    gamma: float = 0.0
    default_horizon_ns: int | None = None
    rounding: str = "nearest"
    _permanent: dict[str, float] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        _check_rounding(self.rounding)
        if self.eta < 0 or self.gamma < 0:
            raise ValueError("eta and gamma must be >= 0")

    @staticmethod
    def _units(ctx: ImpactContext) -> float:
        return abs(ctx.size) / 10**ctx.instrument.size_precision

    def temporary_raw(self, ctx: ImpactContext) -> float:
        """Unsigned temporary impact of this fill, raw price units (not rounded)."""
        horizon = ctx.horizon_ns if ctx.horizon_ns is not None else self.default_horizon_ns
        if horizon is None or horizon <= 0:
            raise ValueError("Almgren-Chriss impact needs a positive horizon (ctx.horizon_ns or default_horizon_ns)")
        rate = self._units(ctx) / (horizon / 1e9)
        return self.eta * rate * 10**ctx.instrument.price_precision

    def permanent_raw(self, ctx: ImpactContext) -> float:
        """Unsigned permanent impact this fill leaves behind, raw price units (not rounded)."""
        return self.gamma * self._units(ctx) * 10**ctx.instrument.price_precision

    def adjustment(self, ctx: ImpactContext) -> int:
        iid = str(ctx.instrument.id)
        offset = self._permanent.get(iid, 0.0)  # signed: + after our buys
        delta = offset + ctx.side * self.temporary_raw(ctx)
        self._permanent[iid] = offset + ctx.side * self.permanent_raw(ctx)
        return _to_raw(ctx.side, delta, ctx.instrument, self.rounding)

    def permanent_offset_raw(self, instrument_id: str) -> float:
        """The signed permanent price offset our fills have left on an instrument (raw, unrounded)."""
        return self._permanent.get(str(instrument_id), 0.0)

    def reset(self) -> None:
        self._permanent.clear()


@dataclass(slots=True)
class ParticipationCap:
    """Our fills may be at most ``max_share`` of the market's traded volume per interval.

    Rolling window: within any window ``(t - interval_ns, t]``, our filled size ≤ ``max_share`` × the
    market volume recorded in that window (``on_market_volume``), rounded down to ``lot_size_raw``. The
    data never contains our trades, so our fills are not counted as market volume. For bars use
    ``interval_ns`` = the bar interval and feed each bar's volume: the cap is then per bar, as in the
    simulated venue's ``participation``. Assumption: volume and our fills at the same time stamp share
    the window (a trade at ``t`` can be joined at ``t``).
    """

    max_share: float
    interval_ns: int
    lot_size_raw: int = 1
    _market: deque[tuple[int, int]] = field(init=False, repr=False, default_factory=deque)
    _ours: deque[tuple[int, int]] = field(init=False, repr=False, default_factory=deque)
    _market_sum: int = field(init=False, repr=False, default=0)
    _ours_sum: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if not 0 < self.max_share <= 1:
            raise ValueError("max_share must be in (0, 1]")
        if self.interval_ns <= 0 or self.lot_size_raw <= 0:
            raise ValueError("interval_ns and lot_size_raw must be positive")

    def _expire(self, ts_ns: int) -> None:
        cutoff = ts_ns - self.interval_ns
        while self._market and self._market[0][0] <= cutoff:
            self._market_sum -= self._market.popleft()[1]
        while self._ours and self._ours[0][0] <= cutoff:
            self._ours_sum -= self._ours.popleft()[1]

    def on_market_volume(self, ts_ns: int, size_raw: int) -> None:
        if size_raw < 0:
            raise ValueError("volume cannot be negative")
        self._expire(ts_ns)
        self._market.append((ts_ns, size_raw))
        self._market_sum += size_raw

    def allowed(self, ts_ns: int) -> int:
        """Raw size we may still fill at ``ts_ns`` (a multiple of ``lot_size_raw``, >= 0)."""
        self._expire(ts_ns)
        room = math.floor(self.max_share * self._market_sum) - self._ours_sum
        return max(room - room % self.lot_size_raw, 0)

    def on_fill(self, ts_ns: int, size_raw: int) -> None:
        self._expire(ts_ns)
        self._ours.append((ts_ns, size_raw))
        self._ours_sum += size_raw

    def take(self, ts_ns: int, wanted_raw: int) -> int:
        """Fill as much of ``wanted_raw`` as the cap allows, record it, and return it."""
        qty = min(max(wanted_raw, 0), self.allowed(ts_ns))
        if qty:
            self.on_fill(ts_ns, qty)
        return qty
