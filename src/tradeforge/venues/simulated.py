"""A simulated venue that fills from bars, top-of-book quotes and trade prints (first version).

Conventions (each one a choice a user must know):

- **Bars** are close-stamped, so an order decided on a bar can only meet the *next* bar: market
  orders fill at its open (plus slippage). A limit fills when the bar trades *through* its price
  (``limit_fill="through"``, the default; ``"touch"`` also fills at equality), at the open if the bar
  gaps beyond it. Stops trigger when the bar reaches the trigger and fill at the trigger, or at the
  open when the bar gaps through it. Fill size is capped at ``participation`` of the bar's volume,
  shared by the orders in priority order; the rest waits for the next bar. When two or more resting
  orders would fill differently depending on whether the bar reached its high or its low first, every
  fill of that bar carries ``ambiguous=True`` (see ``bar_path.py``).
- **Quotes**: with ``latency_ns == 0`` an order meets the quote in force when it arrives; market
  orders take the ask (buy) / bid (sell) up to the displayed size (size 0 = not given = unlimited).
  A resting limit fills at its price when the opposite quote reaches it.
- **Trades**: a resting limit fills at its price when a print trades through it, up to the print's size.
- With ``latency_ns > 0`` an order only meets data stamped at or after its arrival time, and a bar
  only if it arrived before the bar opened (the path inside a bar is unknown). The first market
  data an order meets is its arrival: a marketable limit then takes liquidity at the touch; after
  that it rests and fills as a maker at its own price.
- A venue can be **down** for given windows (new orders, cancels and modifies are rejected, nothing
  matches; resting orders wait) and can **reject** a seeded random share of new orders.
- **Costs**: fees from the fee model (per unit, bps, volume tiers; negative maker rates are
  rebates); an optional **impact** model moves every taker fill's price against us (square-root or
  Almgren–Chriss, ``impact.py``; a square-root model learns ADV from the bars' daily volumes); an
  optional **participation cap** limits fills driven by trade prints to a share of the traded
  volume in a rolling window.
- IOC / FOK act on the first market data the order meets; DAY orders expire at the close of their
  session on the venue's calendar (an order sent after the close works in the next session; without
  a calendar, at the end of the UTC day); GTD orders at their expire time. On bars an order that expires inside a bar still
  has that bar to fill; one that expired before the bar opened does not.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from tradeforge.model.calendar import SessionCalendar, day_order_end
from tradeforge.model.data import Bar, QuoteTick, TradeTick
from tradeforge.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.model.timeutil import NANOS_PER_DAY
from tradeforge.venues.bar_path import PathOrder, fill_is_ambiguous
from tradeforge.venues.base import Report
from tradeforge.venues.fees import FeeContext, FeeModel, NoFee
from tradeforge.venues.impact import ImpactContext, ImpactModel, ParticipationCap
from tradeforge.venues.slippage import NoSlippage, SlippageModel

_MARKET_LIKE = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED, OrderType.TRAILING_STOP_MARKET)
_UNLIMITED = 1 << 62


@dataclass(slots=True)
class SimulatedVenueConfig:
    name: str
    participation: float = 1.0  # share of bar volume one bar can fill (0..1]
    limit_fill: str = "through"  # or "touch"
    latency_ns: int = 0
    calendar: SessionCalendar | None = None  # DAY orders expire at their session's close (else UTC midnight)
    down: tuple[tuple[int, int], ...] = ()  # [start, end) ns windows when the venue is unreachable
    reject_rate: float = 0.0  # share of new orders the venue rejects at random (seeded)
    seed: int = 0


class _Working:
    """Venue-side state of one order."""

    __slots__ = ("active_ns", "expiry_ns", "order", "rested", "trail", "triggered")

    def __init__(self, order: Order, active_ns: int, day_end_ns: int | None = None) -> None:
        self.order = order
        self.active_ns = active_ns
        self.rested = False  # has met the market once without filling completely (now a maker)
        tif = order.time_in_force
        if tif is TimeInForce.GTD:
            self.expiry_ns: int | None = order.expire_time_ns
        elif tif is TimeInForce.DAY:
            self.expiry_ns = day_end_ns
        else:
            self.expiry_ns = None
        self.triggered = order.order_type in (OrderType.MARKET, OrderType.LIMIT)
        self.trail: int | None = order.trigger_price


class SimulatedVenue:
    """Fills orders against the market data it is fed (bars, quotes, trades)."""

    def __init__(
        self,
        config: SimulatedVenueConfig,
        instruments: Callable[[str], Instrument],
        now_ns: Callable[[], int],
        fee_model: FeeModel | None = None,
        slippage: SlippageModel | None = None,
        impact: ImpactModel | None = None,
        participation_cap: ParticipationCap | None = None,
    ) -> None:
        self.name = config.name
        self.impact = impact
        self._cap_proto = participation_cap
        self._caps: dict[str, ParticipationCap] = {}
        self._day_volume: dict[str, tuple[int, int]] = {}  # instrument -> (UTC day, volume so far)
        self._bar_volume: int | None = None
        self.config = config
        self._instrument = instruments
        self._now = now_ns
        self.fee_model = fee_model or NoFee()
        self.slippage = slippage or NoSlippage()
        self._report: Report = _no_report
        self._working: dict[str, list[_Working]] = {}  # per instrument, in priority (arrival) order
        self._by_id: dict[str, _Working] = {}
        self._last_quote: dict[str, QuoteTick] = {}
        self._last_price: dict[str, int] = {}
        self._order_count = 0
        self._exec_count = 0
        self._bar_ambiguous = False  # fills of the bar being matched depend on the intra-bar path
        self._rng = random.Random(config.seed)

    def connect(self, report: Report) -> None:
        self._report = report

    # -- commands --
    def is_down(self, ts: int) -> bool:
        """Whether the venue is unreachable at ``ts`` (one of its ``down`` windows)."""
        return any(start <= ts < end for start, end in self.config.down)

    def submit(self, order: Order) -> None:
        now = self._now()
        if self.config.down and self.is_down(now):
            self._emit(OrderRejected(*_ids(order), now, now, reason="venue is down"))
            return
        if self.config.reject_rate and self._rng.random() < self.config.reject_rate:
            self._emit(OrderRejected(*_ids(order), now, now, reason="rejected by the venue (simulated)"))
            return
        if order.post_only and self._would_take(order):
            self._emit(OrderRejected(*_ids(order), now, now, reason="post-only order would take liquidity"))
            return
        self._order_count += 1
        self._emit(OrderAccepted(*_ids(order), now, now, venue_order_id=f"{self.name}-{self._order_count}"))
        day_end = self._day_end(order.ts_init) if order.time_in_force is TimeInForce.DAY else None
        w = _Working(order, now + self.config.latency_ns, day_end)
        if order.order_type is OrderType.TRAILING_STOP_MARKET and w.trail is None:
            ref = self._last_price.get(order.instrument_id)
            if ref is not None:
                # a sell stop trails below the market, a buy stop above it (as in _update_trails)
                w.trail = ref + order.side * order.trailing_offset  # type: ignore[operator]
        self._working.setdefault(order.instrument_id, []).append(w)
        self._by_id[order.client_order_id] = w
        quote = self._last_quote.get(order.instrument_id)
        if quote is not None and self.config.latency_ns == 0:
            self._match_quote(w, quote, now)

    def _day_end(self, ts: int) -> int:
        """When a DAY order created at ``ts`` expires (see :func:`day_order_end`)."""
        return day_order_end(self.config.calendar, ts)

    def cancel(self, order: Order) -> None:
        now = self._now()
        if self.config.down and self.is_down(now):
            self._emit(OrderCancelRejected(*_ids(order), now, now, reason="venue is down"))
            return
        w = self._by_id.get(order.client_order_id)
        if w is None:
            self._emit(OrderCancelRejected(*_ids(order), now, now, reason="order is not working at the venue"))
            return
        self._remove(w)
        self._emit(OrderCanceled(*_ids(order), now, now))

    def modify(self, order: Order, quantity: int | None, price: int | None, trigger_price: int | None) -> None:
        now = self._now()
        if self.config.down and self.is_down(now):
            self._emit(OrderModifyRejected(*_ids(order), now, now, reason="venue is down"))
            return
        w = self._by_id.get(order.client_order_id)
        if w is None:
            self._emit(OrderModifyRejected(*_ids(order), now, now, reason="order is not working at the venue"))
            return
        if quantity is not None and quantity <= order.filled_qty:
            self._emit(OrderModifyRejected(*_ids(order), now, now, reason="new quantity is not above the filled quantity"))
            return
        if trigger_price is not None:
            w.trail = trigger_price
        self._emit(OrderUpdated(*_ids(order), now, now, quantity=quantity, price=price, trigger_price=trigger_price))

    def working_orders(self, instrument_id: str) -> list[Order]:
        return [w.order for w in self._working.get(instrument_id, ())]

    # -- market data (hot path: returns at once when nothing works on the instrument) --
    def on_bar(self, bar: Bar) -> None:
        iid = bar.instrument_id
        self._last_price[iid] = bar.close
        if self.impact is not None and bar.volume >= 0:
            self._count_daily_volume(iid, bar.ts_init, bar.volume)
        working = self._working.get(iid)
        if not working or (self.config.down and self.is_down(bar.ts_init)):
            return  # nothing to match, or the venue is down: resting orders wait
        ts = bar.ts_init
        open_ts = ts - bar.interval_ns  # an order must be at the venue when the bar opens to meet it
        budget = _UNLIMITED if bar.volume < 0 else int(bar.volume * self.config.participation)
        inst = self._instrument(iid)
        budget -= budget % inst.lot_size_raw if budget != _UNLIMITED else 0
        live = [w for w in working if w.active_ns <= open_ts]
        self._bar_ambiguous = len(live) > 1 and _ambiguous(bar, live, self.config.limit_fill)
        self._bar_volume = bar.volume if bar.volume >= 0 else None
        for w in live:
            if w.order.client_order_id not in self._by_id:
                continue
            # an order that was not alive for the whole bar cannot use it (the path inside is unknown)
            if self._expire_if_due(w, ts, alive_through=True):
                continue
            budget = self._match_bar(w, bar, inst, budget)
            if w.order.client_order_id in self._by_id:
                self._expire_if_due(w, ts)  # expires exactly at the bar's close: it had the bar
        self._bar_ambiguous = False
        self._bar_volume = None
        self._update_trails(iid, bar.high, bar.low)

    def on_quote(self, quote: QuoteTick) -> None:
        iid = quote.instrument_id
        self._last_quote[iid] = quote
        self._last_price[iid] = (quote.bid + quote.ask) // 2
        working = self._working.get(iid)
        if not working or (self.config.down and self.is_down(quote.ts_init)):
            return
        ts = quote.ts_init
        for w in list(working):
            if w.active_ns > ts or w.order.client_order_id not in self._by_id:
                continue
            if self._expire_if_due(w, ts):
                continue
            self._match_quote(w, quote, ts)
        self._update_trails(iid, quote.bid, quote.ask)

    def on_trade(self, trade: TradeTick) -> None:
        iid = trade.instrument_id
        self._last_price[iid] = trade.price
        if self._cap_proto is not None:
            cap = self._caps.get(iid)
            if cap is None:
                cap = self._caps[iid] = dataclasses.replace(
                    self._cap_proto, lot_size_raw=self._instrument(iid).lot_size_raw
                )
            cap.on_market_volume(trade.ts_init, trade.size)
        working = self._working.get(iid)
        if not working or (self.config.down and self.is_down(trade.ts_init)):
            return
        ts = trade.ts_init
        size_left = trade.size
        for w in list(working):
            if w.active_ns > ts or w.order.client_order_id not in self._by_id:
                continue
            if self._expire_if_due(w, ts):
                continue
            size_left = self._match_trade(w, trade, size_left)
        self._update_trails(iid, trade.price, trade.price)

    # -- matching --
    def _match_bar(self, w: _Working, bar: Bar, inst: Instrument, budget: int) -> int:
        order = w.order
        buy = order.side is OrderSide.BUY
        o, h, lo = bar.open, bar.high, bar.low
        ts = bar.ts_init
        if not w.triggered:
            trig = w.trail if w.trail is not None else order.trigger_price
            if trig is None:
                return budget
            if order.order_type is OrderType.MARKET_IF_TOUCHED:
                hit = lo <= trig if buy else h >= trig
                level = min(o, trig) if buy else max(o, trig)
            else:  # stops and trailing stops
                hit = h >= trig if buy else lo <= trig
                level = max(o, trig) if buy else min(o, trig)
            if not hit:
                if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                    self._cancel_rest(w, ts, "IOC/FOK trigger not reached")
                return budget
            self._trigger(w, ts)
            if order.order_type is OrderType.STOP_LIMIT:
                # the limit works from the trigger level on; fill there if the limit allows
                px = order.price
                if (buy and level <= px) or (not buy and level >= px):  # type: ignore[operator]
                    return self._fill(w, level, budget, ts, LiquiditySide.TAKER)
                return budget
            fill_px = self.slippage.adjust(inst, int(order.side), level)
            return self._fill(w, fill_px, budget, ts, LiquiditySide.TAKER)
        if order.order_type in _MARKET_LIKE:
            return self._fill(w, self.slippage.adjust(inst, int(order.side), o), budget, ts, LiquiditySide.TAKER)
        px = order.price
        assert px is not None
        touch = self.config.limit_fill == "touch"
        if buy:
            if o <= px:
                return self._fill(w, o, budget, ts, LiquiditySide.MAKER)
            if lo < px or (touch and lo == px):
                return self._fill(w, px, budget, ts, LiquiditySide.MAKER)
        else:
            if o >= px:
                return self._fill(w, o, budget, ts, LiquiditySide.MAKER)
            if h > px or (touch and h == px):
                return self._fill(w, px, budget, ts, LiquiditySide.MAKER)
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._cancel_rest(w, ts, "IOC/FOK limit not marketable")
        return budget

    def _match_quote(self, w: _Working, q: QuoteTick, ts: int) -> None:
        order = w.order
        buy = order.side is OrderSide.BUY
        inst = self._instrument(order.instrument_id)
        if not w.triggered:
            trig = w.trail if w.trail is not None else order.trigger_price
            if trig is None:
                return
            if order.order_type is OrderType.MARKET_IF_TOUCHED:
                hit = q.ask <= trig if buy else q.bid >= trig
            else:
                hit = q.ask >= trig if buy else q.bid <= trig
            if not hit:
                if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                    self._cancel_rest(w, ts, "IOC/FOK trigger not reached")
                return
            self._trigger(w, ts)
        touch_px, size = (q.ask, q.ask_size) if buy else (q.bid, q.bid_size)
        budget = size if size > 0 else _UNLIMITED
        if order.order_type in _MARKET_LIKE:
            self._fill(w, self.slippage.adjust(inst, int(order.side), touch_px), budget, ts, LiquiditySide.TAKER)
            return
        px = order.price
        assert px is not None
        if (buy and touch_px <= px) or (not buy and touch_px >= px):
            if w.rested and order.order_type is OrderType.LIMIT:
                self._fill(w, px, budget, ts, LiquiditySide.MAKER)
            else:
                self._fill(w, touch_px, budget, ts, LiquiditySide.TAKER)
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._cancel_rest(w, ts, "IOC/FOK limit not marketable")
        w.rested = True

    def _match_trade(self, w: _Working, t: TradeTick, size_left: int) -> int:
        order = w.order
        buy = order.side is OrderSide.BUY
        ts = t.ts_init
        if not w.triggered:
            trig = w.trail if w.trail is not None else order.trigger_price
            if trig is None:
                return size_left
            if order.order_type is OrderType.MARKET_IF_TOUCHED:
                hit = t.price <= trig if buy else t.price >= trig
            else:
                hit = t.price >= trig if buy else t.price <= trig
            if not hit:
                return size_left
            self._trigger(w, ts)
        inst = self._instrument(order.instrument_id)
        if order.order_type in _MARKET_LIKE:
            if order.instrument_id in self._last_quote:
                return size_left  # quotes drive market fills when the venue has them
            return self._fill(w, self.slippage.adjust(inst, int(order.side), t.price), size_left, ts, LiquiditySide.TAKER)
        px = order.price
        assert px is not None
        through = t.price < px if buy else t.price > px
        if through and size_left > 0:
            return self._fill(w, px, size_left, ts, LiquiditySide.MAKER)
        return size_left

    def _fill(self, w: _Working, price: int, budget: int, ts: int, liquidity: LiquiditySide) -> int:
        order = w.order
        inst = self._instrument(order.instrument_id)
        leaves = order.leaves_qty
        qty = min(leaves, budget)
        cap = self._caps.get(order.instrument_id)
        if cap is not None:
            qty = min(qty, cap.allowed(ts))
        qty -= qty % inst.lot_size_raw
        if order.time_in_force is TimeInForce.FOK and qty < leaves:
            self._cancel_rest(w, ts, "FOK could not fill in full")
            return budget
        if qty <= 0:
            if order.time_in_force is TimeInForce.IOC:
                self._cancel_rest(w, ts, "IOC found no liquidity")
            return budget
        self._exec_count += 1
        if cap is not None:
            cap.on_fill(ts, qty)
        if self.impact is not None and liquidity is LiquiditySide.TAKER:
            price += self.impact.adjustment(
                ImpactContext(inst, int(order.side), qty, price, interval_volume_raw=self._bar_volume, ts_ns=ts)
            )
        commission = self.fee_model.commission(FeeContext(inst, qty, price, liquidity))
        done = qty == leaves
        if done:
            self._remove(w)
        self._emit(
            OrderFilled(
                *_ids(order), ts, ts,
                venue_order_id=order.venue_order_id,
                execution_id=f"{self.name}-E{self._exec_count}",
                side=order.side, last_qty=qty, last_px=price, commission=commission, currency=inst.currency,
                liquidity_side=liquidity, position_id=order.position_id, ambiguous=self._bar_ambiguous,
            )
        )
        if not done and order.time_in_force is TimeInForce.IOC:
            self._cancel_rest(w, ts, "IOC remainder")
        return budget - qty if budget != _UNLIMITED else budget

    def _count_daily_volume(self, iid: str, ts: int, volume: int) -> None:
        """Feed finished days' volumes to an impact model that learns ADV (square-root)."""
        day = ts // NANOS_PER_DAY
        prev = self._day_volume.get(iid)
        if prev is not None and prev[0] != day:
            learn = getattr(self.impact, "on_daily_volume", None)
            if learn is not None:
                learn(prev[1])
            prev = None
        self._day_volume[iid] = (day, (prev[1] if prev else 0) + volume)

    def _trigger(self, w: _Working, ts: int) -> None:
        w.triggered = True
        self._emit(OrderTriggered(*_ids(w.order), ts, ts))

    def _cancel_rest(self, w: _Working, ts: int, reason: str) -> None:
        if w.order.client_order_id in self._by_id:
            self._remove(w)
            self._emit(OrderCanceled(*_ids(w.order), ts, ts, reason=reason))

    def _expire_if_due(self, w: _Working, ts: int, alive_through: bool = False) -> bool:
        """Expire ``w`` if its time is up at ``ts`` (``alive_through``: strictly before ``ts``).

        The event's ``ts_event`` is the expiry time itself; ``ts_init`` is when the venue saw it.
        """
        exp = w.expiry_ns
        if exp is None or (ts <= exp if alive_through else ts < exp):
            return False
        self._remove(w)
        self._emit(OrderExpired(*_ids(w.order), exp, self._now()))
        return True

    def _update_trails(self, iid: str, high: int, low: int) -> None:
        for w in self._working.get(iid, ()):
            order = w.order
            if order.order_type is OrderType.TRAILING_STOP_MARKET and not w.triggered:
                offset = order.trailing_offset or 0
                if order.side is OrderSide.SELL:
                    cand = high - offset
                    if w.trail is None or cand > w.trail:
                        w.trail = cand
                else:
                    cand = low + offset
                    if w.trail is None or cand < w.trail:
                        w.trail = cand

    def _would_take(self, order: Order) -> bool:
        q = self._last_quote.get(order.instrument_id)
        if q is None or order.price is None:
            return False
        return order.price >= q.ask if order.side is OrderSide.BUY else order.price <= q.bid

    def _remove(self, w: _Working) -> None:
        self._by_id.pop(w.order.client_order_id, None)
        lst = self._working.get(w.order.instrument_id)
        if lst is not None and w in lst:
            lst.remove(w)

    def _emit(self, event: OrderEvent) -> None:
        self._report(event)


_PATH_KIND = {
    OrderType.LIMIT: "limit", OrderType.STOP_MARKET: "stop", OrderType.STOP_LIMIT: "stop_limit",
    OrderType.MARKET_IF_TOUCHED: "mit", OrderType.TRAILING_STOP_MARKET: "stop",
}


def _ambiguous(bar: Bar, working: list[_Working], limit_fill: str) -> bool:
    """Whether the fills of these orders on ``bar`` depend on the order in which the bar visited its
    high and low (open-high-low-close versus open-low-high-close); market orders fill at the open."""
    orders = []
    for w in working:
        o = w.order
        kind = _PATH_KIND.get(o.order_type)
        if kind is None:
            continue
        if w.triggered and o.order_type is OrderType.STOP_LIMIT:
            kind = "limit"
        trigger = None if kind == "limit" else (w.trail if w.trail is not None else o.trigger_price)
        if kind != "limit" and trigger is None:
            continue
        orders.append(PathOrder(int(o.side), kind, o.price if kind in ("limit", "stop_limit") else None, trigger))
    if len(orders) < 2:
        return False
    return fill_is_ambiguous(bar.open, bar.high, bar.low, bar.close, orders, limit_fill)


def _ids(order: Order) -> tuple[str, str, str]:
    return order.client_order_id, order.strategy_id, order.instrument_id


def _no_report(event: OrderEvent) -> None:
    raise RuntimeError("venue is not connected to an execution engine")
