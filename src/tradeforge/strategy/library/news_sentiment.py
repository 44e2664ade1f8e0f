"""Long/flat on news sentiment: buy a stock whose decayed headline sentiment is high, sell when it fades.

Headlines arrive as ``CustomData`` on ``data.custom.{data_type}`` (payload: a
:class:`~tradeforge.data.alt.NewsHeadline`), in ``ts_init`` order merged with the bars, so the strategy
only ever knows headlines received before the bar it acts on. Each headline adds its sentiment to the
score of every ticker it names; scores decay with ``half_life_days``. On a bar: flat and score >=
``entry`` -> buy ``weight`` of equity (market, fills at the next open); long and score <= ``exit`` ->
sell everything.

Params: instruments, data_type ("news_headline"), venue ("XNYS"), half_life_days (3), entry (0.5),
exit (0.0), weight (0.1)
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from tradeforge.model.data import Bar, CustomData
from tradeforge.model.enums import OrderSide
from tradeforge.strategy.base import Strategy

DAY_NS = 86_400 * 10**9


class NewsSentiment(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.ids: list[str] = list(p.get("instruments", []))
        if not self.ids:
            raise ValueError(f"{self.id}: 'instruments' must be a non-empty list of instrument ids")
        self.venue = str(p.get("venue", "XNYS"))
        self.half_life_ns = float(p.get("half_life_days", 3)) * DAY_NS
        self.entry = float(p.get("entry", 0.5))
        self.exit = float(p.get("exit", 0.0))
        self.weight = Decimal(str(p.get("weight", "0.1")))
        self.score: dict[str, float] = dict.fromkeys(self.ids, 0.0)
        self.score_ts: dict[str, int] = dict.fromkeys(self.ids, 0)
        self.pending: set[str] = set()
        self.headlines_seen: list[tuple[int, int]] = []  # (headline ts_init, clock time when seen)
        self.decisions: list[tuple[int, str, float, int]] = []  # (bar ts, instrument, score, headlines seen)
        for iid in self.ids:
            self.instrument(iid)
            self.subscribe_bars(iid)
        self.subscribe_data(str(p.get("data_type", "news_headline")))

    def _decayed(self, iid: str, ts: int) -> float:
        dt = ts - self.score_ts[iid]
        return self.score[iid] * math.exp(-math.log(2) * dt / self.half_life_ns) if dt > 0 else self.score[iid]

    def on_data(self, data: CustomData) -> None:
        h: Any = data.payload
        now = self.clock.timestamp_ns()
        self.headlines_seen.append((data.ts_init, now))
        for t in h.tickers:
            iid = f"{t}.{self.venue}"
            if iid in self.score:
                self.score[iid] = self._decayed(iid, now) + float(h.sentiment)
                self.score_ts[iid] = now

    def on_bar(self, bar: Bar) -> None:
        iid = bar.instrument_id
        s = self._decayed(iid, bar.ts_init)
        self.decisions.append((bar.ts_init, iid, s, len(self.headlines_seen)))
        if iid in self.pending:
            return
        held = self.portfolio.net_quantity(iid)
        inst = self.instrument(iid)
        if held == 0 and s >= self.entry:
            budget = min(int(self.portfolio.equity() * self.weight), self.portfolio.cash * 100 // 102)
            unit = inst.notional_raw(bar.close, inst.lot_size_raw)
            lots = budget // unit if unit > 0 else 0
            if lots * inst.lot_size_raw >= max(inst.min_quantity_raw, 1):
                self.pending.add(iid)
                qty = inst.make_quantity(lots * inst.lot_size_raw)
                self.submit_order(self.order_factory.market(iid, OrderSide.BUY, qty))
        elif held > 0 and s <= self.exit:
            self.pending.add(iid)
            self.submit_order(self.order_factory.market(iid, OrderSide.SELL, inst.make_quantity(held)))

    def on_order_event(self, event: Any) -> None:
        order = self.ctx.trading.order(event.client_order_id)
        if order is not None and order.is_closed:
            self.pending.discard(order.instrument_id)


__all__ = ["NewsSentiment"]
