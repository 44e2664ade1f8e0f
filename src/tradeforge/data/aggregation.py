"""Bar aggregation: one definition, an incremental aggregator (live and backtest) and a vectorized twin.

:class:`BarAggregator` consumes trades (or quotes, for mid-price time bars) one at a time and emits
close-stamped :class:`Bar` events; :func:`aggregate_trades` builds the same bars from
:class:`TradeColumns` in one go, and tests check that both agree bar for bar.

Bar kinds (:class:`BarSpec`):

- **time** bars of ``step`` ns cover ``[start, start + step)`` with ``start`` on the grid
  ``origin_ns + k * step`` of ``ts_event`` (exchange time, so a live feed re-stamping ``ts_init``
  builds the same bars as the backtest). A bar is emitted when the first event of a later interval
  arrives or when a timer calls :meth:`BarAggregator.flush` at or after the interval end, never
  before; it is stamped ``ts_event = ts_init = interval end``. Intervals without events give no bar.
  An event older than the open interval (its interval was already emitted) is *late*: it is counted
  in :attr:`BarAggregator.late` and not aggregated.
- **tick** bars close on every ``step``-th trade.
- **volume** bars close on the first trade that brings the bar's volume (raw size units) to at
  least ``step``; **value** (dollar/notional) bars likewise with the exact notional
  ``price x size x multiplier`` as money raw (1e-9 units of the quote currency).
  **A trade is never split across bars**: it is an atomic print with one price and one time, and
  splitting it would invent prints. A bar's volume (value) is therefore ``>= step`` and less than
  ``step`` plus the size (value) of its last trade; the sum of bar volumes is the traded volume.

Information bars (tick/volume/value) are stamped at their last trade (``ts_event``/``ts_init`` of that
trade, ``interval_ns`` 0). The incomplete bar at the end of the data is not emitted (it is not
finished); :attr:`BarAggregator.pending_volume` tells what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np

from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.model.data import Bar, Data, QuoteTick, TradeTick
from tradeforge.model.fixed import MONEY_PRECISION, parse_raw
from tradeforge.model.instruments import Instrument
from tradeforge.model.timeutil import NANOS_PER_MINUTE, NANOS_PER_SECOND

__all__ = ["BarAggregator", "BarKind", "BarSpec", "aggregate_quotes", "aggregate_trades", "bars_to_columns"]


class BarKind(Enum):
    TIME = "time"
    TICK = "tick"
    VOLUME = "volume"
    VALUE = "value"


@dataclass(frozen=True)
class BarSpec:
    """What closes a bar: ``step`` is ns (time), trades (tick), raw size (volume) or money raw (value)."""

    kind: BarKind
    step: int
    source: Literal["trade", "mid"] = "trade"
    origin_ns: int = 0

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise ValueError(f"bar step must be positive, got {self.step}")
        if self.source not in ("trade", "mid"):
            raise ValueError(f"bar source must be 'trade' or 'mid', got {self.source!r}")
        if self.source == "mid" and self.kind is not BarKind.TIME:
            raise ValueError("mid-price bars are time bars only (quotes carry no traded volume)")

    @classmethod
    def time(cls, *, seconds: int = 0, minutes: int = 0, source: Literal["trade", "mid"] = "trade",
             origin_ns: int = 0) -> BarSpec:
        return cls(BarKind.TIME, seconds * NANOS_PER_SECOND + minutes * NANOS_PER_MINUTE, source, origin_ns)

    @classmethod
    def ticks(cls, n: int) -> BarSpec:
        return cls(BarKind.TICK, n)

    @classmethod
    def volume(cls, instrument: Instrument, quantity: str | int) -> BarSpec:
        """Volume bars of ``quantity`` (human units, e.g. ``"0.5"``) of the instrument."""
        return cls(BarKind.VOLUME, parse_raw(str(quantity), instrument.size_precision, "bar volume"))

    @classmethod
    def value(cls, amount: str | int) -> BarSpec:
        """Notional bars of ``amount`` of the quote currency (e.g. ``"100000"`` dollars)."""
        return cls(BarKind.VALUE, parse_raw(str(amount), MONEY_PRECISION, "bar value"))


class BarAggregator:
    """Incremental bars of one instrument: feed events in ``ts_init`` order, collect the bars returned."""

    def __init__(self, instrument: Instrument, spec: BarSpec) -> None:
        self.instrument = instrument
        self.instrument_id = str(instrument.id)
        self.spec = spec
        self.late = 0  # time bars: events whose interval had already been emitted
        self._factor = instrument.notional_factor
        self._open = self._high = self._low = self._close = 0
        self._volume = 0  # raw size, or -1 for mid bars
        self._acc = 0  # what the close rule counts: trades, volume or value
        self._count = 0
        self._start = 0  # time bars: start of the open interval
        self._last_event = 0
        self._last_init = 0
        self._emitted_end = None  # time bars: end of the last emitted interval

    @property
    def pending_volume(self) -> int:
        """Volume of the open (not yet emitted) bar."""
        return self._volume if self._count else 0

    def update(self, event: Data) -> Bar | None:
        """Handle a trade (or a quote, for mid bars); other events are ignored. Returns a finished bar."""
        if type(event) is TradeTick:
            if self.spec.source == "trade":
                return self.on_trade(event.price, event.size, event.ts_event, event.ts_init)
        elif type(event) is QuoteTick and self.spec.source == "mid":
            return self.on_price((event.bid + event.ask) // 2, -1, event.ts_event, event.ts_init)
        return None

    def on_trade(self, price: int, size: int, ts_event: int, ts_init: int) -> Bar | None:
        return self.on_price(price, size, ts_event, ts_init)

    def on_price(self, price: int, size: int, ts_event: int, ts_init: int) -> Bar | None:
        spec = self.spec
        if spec.kind is BarKind.TIME:
            step = spec.step
            start = ts_event - (ts_event - spec.origin_ns) % step
            out = None
            if self._count and start > self._start:
                out = self._emit_time()
            elif (self._count and start < self._start) or (
                    not self._count and self._emitted_end is not None and start + step <= self._emitted_end):
                self.late += 1
                return None
            if not self._count:
                self._start = start
            self._add(price, size, ts_event, ts_init)
            return out
        self._add(price, size, ts_event, ts_init)
        if spec.kind is BarKind.TICK:
            self._acc += 1
        elif spec.kind is BarKind.VOLUME:
            self._acc += size
        else:
            self._acc += price * size * self._factor
        if self._acc >= spec.step:
            bar = Bar(self.instrument_id, self._open, self._high, self._low, self._close, self._volume,
                      self._last_event, self._last_init, 0)
            self._count = 0
            self._acc = 0
            return bar
        return None

    def _add(self, price: int, size: int, ts_event: int, ts_init: int) -> None:
        if self._count:
            if price > self._high:
                self._high = price
            elif price < self._low:
                self._low = price
            if size >= 0:
                self._volume += size
        else:
            self._open = self._high = self._low = price
            self._volume = size if size >= 0 else -1
        self._close = price
        self._count += 1
        self._last_event = ts_event
        self._last_init = ts_init

    def _emit_time(self) -> Bar:
        end = self._start + self.spec.step
        self._count = 0
        self._emitted_end = end
        return Bar(self.instrument_id, self._open, self._high, self._low, self._close, self._volume, end, end,
                   self.spec.step)

    def flush(self, ts: int) -> Bar | None:
        """Timer hook: emit the open time bar if its interval has ended by ``ts`` (else nothing)."""
        if self.spec.kind is BarKind.TIME and self._count and ts >= self._start + self.spec.step:
            return self._emit_time()
        return None


# --------------------------------------------------------------------------------------------
# Vectorized
# --------------------------------------------------------------------------------------------


def _empty(instrument_id: str, interval_ns: int) -> BarColumns:
    z = np.zeros(0, dtype=np.int64)
    return BarColumns(instrument_id, z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), interval_ns)


def _reduce(instrument_id: str, price: np.ndarray, size: np.ndarray | None, starts: np.ndarray, ends: np.ndarray,
            ts_event: np.ndarray, ts_init: np.ndarray, interval_ns: int) -> BarColumns:
    """OHLCV of the groups ``[starts[k], ends[k])`` (contiguous, non-empty, covering what they cover)."""
    if not len(starts):
        return _empty(instrument_id, interval_ns)
    high = np.maximum.reduceat(price, starts)
    low = np.minimum.reduceat(price, starts)
    vol = np.add.reduceat(size, starts) if size is not None else np.full(len(starts), -1, dtype=np.int64)
    # reduceat reduces up to the next start; trim the last group to its end
    last = len(starts) - 1
    tail = slice(int(starts[last]), int(ends[last]))
    high[last], low[last] = price[tail].max(), price[tail].min()
    if size is not None:
        vol[last] = size[tail].sum()
    return BarColumns(instrument_id, ts_event, ts_init, price[starts], high, low, price[ends - 1], vol, interval_ns)


def _time_groups(ts: np.ndarray, spec: BarSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept rows, group starts, group ends in kept rows); late rows (bucket behind the max) dropped."""
    bucket = (ts - spec.origin_ns) // spec.step
    keep = np.flatnonzero(bucket == np.maximum.accumulate(bucket)) if len(ts) else np.zeros(0, np.int64)
    b = bucket[keep]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(b)) + 1)) if len(b) else np.zeros(0, np.int64)
    ends = np.append(starts[1:], len(b))
    return keep, starts, ends


def _threshold_ends(cum: np.ndarray, step: int) -> np.ndarray:
    """Exclusive ends of bars closing at the first row where the amount since the last close is >= step."""
    ends = []
    base = 0
    n = len(cum)
    while True:
        j = int(np.searchsorted(cum, base + step, side="left"))  # first row with cum >= base + step
        if j >= n:
            break
        ends.append(j + 1)
        base = int(cum[j])
    return np.array(ends, dtype=np.int64)


def aggregate_trades(trades: TradeColumns, instrument: Instrument, spec: BarSpec) -> BarColumns:
    """The bars :class:`BarAggregator` emits for these trades (time bars: including the last one)."""
    if spec.source != "trade":
        raise ValueError("aggregate_trades needs a spec with source='trade'")
    iid = trades.instrument_id
    price, size = trades.price.astype(np.int64), trades.size.astype(np.int64)
    if spec.kind is BarKind.TIME:
        keep, starts, ends = _time_groups(trades.ts_event, spec)
        p, s = price[keep], size[keep]
        closes = (trades.ts_event[keep][starts] - (trades.ts_event[keep][starts] - spec.origin_ns) % spec.step
                  + spec.step) if len(starts) else np.zeros(0, np.int64)
        return _reduce(iid, p, s, starts, ends, closes, closes.copy(), spec.step)
    n = len(price)
    if spec.kind is BarKind.TICK:
        ends = np.arange(spec.step, n + 1, spec.step, dtype=np.int64)
    elif spec.kind is BarKind.VOLUME:
        ends = _threshold_ends(np.cumsum(size), spec.step)
    else:
        big = float(np.abs(price).max(initial=0)) * float(size.sum()) * instrument.notional_factor >= 2.0**62
        if big:  # exact Python integers where int64 could overflow
            cum = np.cumsum(price.astype(object) * size.astype(object) * instrument.notional_factor)
        else:
            cum = np.cumsum(price * size * instrument.notional_factor)
        ends = _threshold_ends(cum, spec.step)
    starts = np.concatenate(([0], ends[:-1])).astype(np.int64) if len(ends) else np.zeros(0, np.int64)
    return _reduce(iid, price, size, starts, ends, trades.ts_event[ends - 1], trades.ts_init[ends - 1], 0)


def aggregate_quotes(quotes: QuoteColumns, spec: BarSpec) -> BarColumns:
    """Mid-price time bars (``(bid + ask) // 2``, volume -1), as :class:`BarAggregator` emits them."""
    if spec.kind is not BarKind.TIME or spec.source != "mid":
        raise ValueError("aggregate_quotes needs a time spec with source='mid'")
    mid = (quotes.bid.astype(np.int64) + quotes.ask.astype(np.int64)) // 2
    keep, starts, ends = _time_groups(quotes.ts_event, spec)
    ts = quotes.ts_event[keep]
    closes = ts[starts] - (ts[starts] - spec.origin_ns) % spec.step + spec.step if len(starts) else ts[:0]
    return _reduce(quotes.instrument_id, mid[keep], None, starts, ends, closes, closes.copy(), spec.step)


def bars_to_columns(bars: list[Bar], instrument_id: str, interval_ns: int = 0) -> BarColumns:
    """Bars from the incremental aggregator as columns (to compare with the vectorized result)."""
    def col(name: str) -> np.ndarray:
        return np.array([getattr(b, name) for b in bars], dtype=np.int64)

    return BarColumns(instrument_id, col("ts_event"), col("ts_init"), col("open"), col("high"), col("low"),
                      col("close"), col("volume"), interval_ns)
