"""A deliberately reckless strategy: it exists to make every risk control fire (see docs/risk.md).

Mode ``"reckless"`` (default), per bar of each instrument, on a fixed schedule of bar counts:
- buys ``quantity`` at market every bar, doubling after each losing bar (martingale): position,
  exposure, concentration, buying-power and loss limits stop it, and a loss breach unwinds it;
- every ``fat_every`` bars a fat-finger order of ``fat_multiple`` x ``quantity`` (max size, % ADV);
- every ``burst_every`` bars a burst of ``burst`` passive limit orders (rate throttles, max open orders);
- every ``dup_every`` bars the same limit order twice (duplicate detection);
- every ``collar_every`` bars a limit order 30% away from the market (price collar);
- every ``tiny_every`` bars an order of one lot (minimum size);
- every ``restricted_every`` bars a buy of ``restricted`` (restricted list), when given;
- every ``timer_minutes`` of engine time a limit buy of the first instrument, market open or not
  (a stale reference price when the market is closed).

Mode ``"mirror"`` rests a sell limit 4% above the last close on each instrument every bar, so the
reckless strategy's market buys would trade against it (self-trade prevention).
"""

from __future__ import annotations

from contextlib import suppress

from tradeforge.model.data import Bar
from tradeforge.model.enums import OrderSide
from tradeforge.model.fixed import FixedPointError
from tradeforge.strategy.base import Strategy

BUY, SELL = OrderSide.BUY, OrderSide.SELL


class Reckless(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.mode = p.get("mode", "reckless")
        self.ids = list(p["instruments"])
        self.qty = int(p.get("quantity", 1))
        self.max_qty = int(p.get("max_quantity", 10_000))
        self.every = {k: int(p.get(f"{k}_every", d)) for k, d in (
            ("fat", 7), ("burst", 5), ("dup", 11), ("collar", 13), ("tiny", 17), ("restricted", 19))}
        self.fat_multiple = int(p.get("fat_multiple", 100))
        self.burst = int(p.get("burst", 12))
        self.restricted = p.get("restricted")
        self.n: dict[str, int] = {}
        self.size: dict[str, int] = {}
        self.last_close: dict[str, int] = {}
        for iid in self.ids:
            self.subscribe_bars(iid)
        if p.get("timer_minutes"):  # also trade on a clock, market open or not (stale references)
            self.set_timer("poke", int(p["timer_minutes"]) * 60_000_000_000)

    def on_timer(self, event: object) -> None:
        iid = self.ids[0]
        close = self.last_close.get(iid)
        if close is not None and self.mode == "reckless":
            self._send(lambda: self.order_factory.limit(iid, BUY, self.qty, self._px(iid, close * 995 // 1000)))

    def _px(self, iid: str, raw: int) -> object:
        inst = self.instrument(iid)
        tick = inst.tick_size_raw
        return inst.make_price(max(tick, raw // tick * tick))

    def _send(self, make: object) -> None:
        with suppress(FixedPointError, ValueError):  # a size the instrument cannot take: refused before risk
            self.submit_order(make())  # type: ignore[operator]

    def on_bar(self, bar: Bar) -> None:
        iid = bar.instrument_id
        f = self.order_factory
        n = self.n[iid] = self.n.get(iid, 0) + 1
        close = bar.close
        if self.mode == "mirror":
            for o in self.open_orders(iid):
                self.cancel_order(o)
            self._send(lambda: f.limit(iid, SELL, self.qty, self._px(iid, close * 104 // 100)))
            return
        prev = self.last_close.get(iid)
        size = self.size.get(iid, self.qty)
        if prev is not None and close < prev:
            size = min(size * 2, self.max_qty)  # double down after a losing bar
        self.size[iid] = size
        self.last_close[iid] = close
        self._send(lambda: f.market(iid, BUY, size))
        ev = self.every
        if n % ev["fat"] == 0:
            self._send(lambda: f.market(iid, BUY, size * self.fat_multiple))
        if n % ev["burst"] == 0:
            for k in range(self.burst):
                self._send(lambda k=k: f.limit(iid, BUY, self.qty + k, self._px(iid, close * 998 // 1000)))
        if n % ev["dup"] == 0:
            for _ in range(2):
                self._send(lambda: f.limit(iid, BUY, self.qty, self._px(iid, close * 997 // 1000)))
        if n % ev["collar"] == 0:
            self._send(lambda: f.limit(iid, BUY, self.qty, self._px(iid, close * 13 // 10)))
        if n % ev["tiny"] == 0:
            self._send(lambda: f.market(iid, BUY, 1))
        if self.restricted and n % ev["restricted"] == 0:
            self._send(lambda: f.market(self.restricted, BUY, self.qty))
