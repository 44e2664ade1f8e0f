"""Long/flat SMA crossover over any number of instruments, on bars or on quote mids.

Rule (per instrument): when the fast SMA crosses above the slow SMA (it was at or below it on the
previous update, and is above now) and we are flat, buy; whenever the fast SMA is below the slow SMA
and we are long, sell everything. Entering only on the cross means a signal missed for lack of cash
is not chased on every later bar. Orders are market orders; on bars they fill at the
next bar's open. SMAs run on raw integer prices, so their sums are exact.

Params:
    instruments: list of instrument ids, or "all" (every instrument the run knows that has data)
    fast, slow: SMA periods (bars or quotes)
    data: "bars" (default) or "quotes"
    quantity: fixed order quantity (string/number), or
    weight: fraction of current equity to put in each new position (sized at the last price)
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.model.data import Bar, QuoteTick
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import PositionEvent
from tradeforge.strategy.base import Strategy
from tradeforge.strategy.indicators import SimpleMovingAverage


class SmaCrossover(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.fast_n = int(p.get("fast", 10))
        self.slow_n = int(p.get("slow", 30))
        if not 0 < self.fast_n < self.slow_n:
            raise ValueError(f"{self.id}: need 0 < fast < slow, got fast={self.fast_n} slow={self.slow_n}")
        self.quantity = p.get("quantity")
        self.weight = Decimal(str(p["weight"])) if "weight" in p else None
        if (self.quantity is None) == (self.weight is None):
            raise ValueError(f"{self.id}: give exactly one of 'quantity' or 'weight'")
        instruments = p.get("instruments", [])
        if not isinstance(instruments, list) or not instruments:
            raise ValueError(f"{self.id}: 'instruments' must be a non-empty list of instrument ids")
        self.smas: dict[str, tuple[SimpleMovingAverage, SimpleMovingAverage]] = {}
        self.pending: set[str] = set()
        self.was_above: dict[str, bool] = {}
        self.long: set[str] = set()  # instruments this strategy holds long (from position events)
        self.committed: dict[str, int] = {}  # money raw an unfilled entry may still spend
        use_quotes = p.get("data", "bars") == "quotes"
        for iid in instruments:
            self.instrument(iid)  # unknown instrument -> clear error now
            fast, slow = SimpleMovingAverage(self.fast_n), SimpleMovingAverage(self.slow_n)
            self.smas[iid] = (fast, slow)
            if use_quotes:
                self.register_indicator_for_quotes(iid, fast)
                self.register_indicator_for_quotes(iid, slow)
                self.subscribe_quotes(iid)
            else:
                self.register_indicator_for_bars(iid, fast)
                self.register_indicator_for_bars(iid, slow)
                self.subscribe_bars(iid)

    def on_bar(self, bar: Bar) -> None:
        iid = bar.instrument_id
        fast, slow = self.smas[iid]
        if slow.count >= self.slow_n:
            self._decide(iid, fast.value, slow.value, bar.close)

    def on_quote(self, quote: QuoteTick) -> None:
        iid = quote.instrument_id
        fast, slow = self.smas[iid]
        if slow.count >= self.slow_n:
            self._decide(iid, fast.value, slow.value, (quote.bid + quote.ask) // 2)

    def _decide(self, iid: str, f: float, s: float, price: int) -> None:
        above = f > s
        was_above = self.was_above
        crossed_up = above and not was_above.get(iid, True)
        was_above[iid] = above
        if crossed_up:
            if iid not in self.pending and self.portfolio.net_quantity(iid) == 0:
                self._enter(iid, price)
        elif f < s and iid in self.long and iid not in self.pending:
            held = self.portfolio.net_quantity(iid)
            if held > 0:
                self.pending.add(iid)
                inst = self.instrument(iid)
                self.submit_order(self.order_factory.market(iid, OrderSide.SELL, inst.make_quantity(held)))

    def _enter(self, iid: str, price: int) -> None:
        qty = self._size(iid, price)
        if qty is None:
            return
        self.pending.add(iid)
        inst = self.instrument(iid)
        self.committed[iid] = inst.notional_raw(price, inst.quantity(qty)) * 102 // 100
        self.submit_order(self.order_factory.market(iid, OrderSide.BUY, qty))

    def on_position_event(self, event: PositionEvent) -> None:
        if event.signed_qty > 0:
            self.long.add(event.instrument_id)
        else:
            self.long.discard(event.instrument_id)

    def _size(self, iid: str, price: int) -> object | None:
        if self.quantity is not None:
            return self.quantity
        inst = self.instrument(iid)
        # never plan to spend cash that earlier, still unfilled entries may need (2% for gaps and fees)
        free = (self.portfolio.cash - sum(self.committed.values())) * 100 // 102
        budget = min(int(self.portfolio.equity() * self.weight), free)  # money raw
        unit_cost = inst.notional_raw(price, inst.lot_size_raw)
        lots = budget // unit_cost if unit_cost > 0 else 0
        if lots * inst.lot_size_raw < max(inst.min_quantity_raw, 1):
            return None
        return inst.make_quantity(lots * inst.lot_size_raw)

    def on_order_event(self, event) -> None:
        order = self.ctx.trading.order(event.client_order_id)
        if order is not None and order.is_closed:
            self.pending.discard(order.instrument_id)
            self.committed.pop(order.instrument_id, None)


__all__ = ["SmaCrossover"]
