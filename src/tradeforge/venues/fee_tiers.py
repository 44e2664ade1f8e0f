"""Volume-tiered maker/taker fees, as crypto exchanges and many equity venues bill them.

``TieredBpsFee`` implements the ``FeeModel`` protocol of ``venues/fees.py`` (``commission(ctx) -> int``,
money raw at 1e-9, rounded half-up to the currency's minor unit like ``BpsFee``). The rate is that of
the highest tier whose ``min_volume_raw`` the account's trailing traded notional has reached.
Negative ``maker_bps`` is a rebate (the commission is then negative: money received).

Volume: ``on_fill(notional_raw, ts_ns)`` records a fill's notional (money raw, always counted
positive). The trailing window is ``window_ns`` (30 days by default) and rolls continuously at each
recorded fill or ``advance_to`` — real venues usually recompute the tier once a day from the
previous 30 days; that is a difference of at most a day in when a tier switches. Without time stamps
(``ts_ns=None`` and no ``now_ns``) the volume only accumulates. ``initial_volume_raw`` is the volume the
account brings into the run (never expiring unless ``initial_volume_ts_ns`` says when it was
traded); volume recorded without a time stamp never expires either. One instance per venue: tiers and volumes are per venue.

The existing simulated venue calls ``commission`` exactly once per fill and nothing else; with
``track_fills=True`` the model records each priced fill itself (after pricing it at the tier reached
*before* the fill), using ``now_ns`` for its time stamp.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tradeforge.model.enums import LiquiditySide
from tradeforge.model.timeutil import NANOS_PER_DAY
from tradeforge.venues.fees import BpsFee, FeeContext

#: money raw per one unit of the account currency (1e-9 precision)
MONEY_UNIT_RAW = 10**9


@dataclass(frozen=True, slots=True)
class FeeTier:
    """From ``min_volume_raw`` (trailing notional, money raw) on: these maker / taker bps."""

    min_volume_raw: int
    maker_bps: float
    taker_bps: float


class TieredBpsFee:
    """Maker/taker bps by trailing traded volume (see the module doc)."""

    def __init__(
        self,
        tiers: Sequence[FeeTier],
        *,
        window_ns: int | None = 30 * NANOS_PER_DAY,
        minimum_raw: int = 0,
        round_to_minor: bool = True,
        initial_volume_raw: int = 0,
        initial_volume_ts_ns: int | None = None,
        track_fills: bool = False,
        now_ns: Callable[[], int] | None = None,
    ) -> None:
        if not tiers:
            raise ValueError("a tiered fee needs at least one tier")
        ordered = sorted(tiers, key=lambda t: t.min_volume_raw)
        if ordered[0].min_volume_raw != 0:
            raise ValueError("the first tier must start at volume 0")
        if len({t.min_volume_raw for t in ordered}) != len(ordered):
            raise ValueError("two tiers start at the same volume")
        if window_ns is not None and window_ns <= 0:
            raise ValueError("window_ns must be positive (or None: no expiry)")
        self.tiers = tuple(ordered)
        self.window_ns = window_ns
        self.track_fills = track_fills
        self._now = now_ns
        self._models = [BpsFee(t.maker_bps, t.taker_bps, minimum_raw, round_to_minor) for t in ordered]
        self._fills: deque[tuple[int, int]] = deque()  # (ts_ns, notional) of time-stamped volume
        self._volume = 0  # time-stamped volume in the window plus volume without a time stamp
        if initial_volume_raw:
            self._volume = abs(initial_volume_raw)
            if initial_volume_ts_ns is not None:
                self._fills.append((initial_volume_ts_ns, abs(initial_volume_raw)))

    @property
    def volume_raw(self) -> int:
        """Trailing traded notional (money raw) as of the last update."""
        return self._volume

    @property
    def tier_index(self) -> int:
        i = 0
        for k, tier in enumerate(self.tiers):
            if self._volume >= tier.min_volume_raw:
                i = k
        return i

    @property
    def tier(self) -> FeeTier:
        return self.tiers[self.tier_index]

    def advance_to(self, ts_ns: int) -> None:
        """Drop the volume older than the window as of ``ts_ns``."""
        if self.window_ns is None:
            return
        cutoff = ts_ns - self.window_ns
        while self._fills and self._fills[0][0] <= cutoff:
            self._volume -= self._fills.popleft()[1]

    def on_fill(self, notional_raw: int, ts_ns: int | None = None) -> None:
        """Record a fill's notional (money raw, sign ignored) at ``ts_ns`` (default: ``now_ns()``)."""
        if ts_ns is None and self._now is not None:
            ts_ns = self._now()
        if ts_ns is not None:
            self.advance_to(ts_ns)
        size = abs(notional_raw)
        self._volume += size
        if ts_ns is not None:  # volume without a time stamp never expires
            self._fills.append((ts_ns, size))

    def commission(self, ctx: FeeContext) -> int:
        if self._now is not None:
            self.advance_to(self._now())
        fee = self._models[self.tier_index].commission(ctx)
        if self.track_fills:
            self.on_fill(ctx.instrument.notional_raw(abs(ctx.fill_px), ctx.fill_qty))
        return fee

    def rate_bps(self, liquidity_side: LiquiditySide) -> float:
        t = self.tier
        return t.maker_bps if liquidity_side is LiquiditySide.MAKER else t.taker_bps
