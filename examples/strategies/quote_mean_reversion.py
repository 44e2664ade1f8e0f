"""Quote-driven mean reversion: when the mid falls ``entry_bps`` below its EMA, buy at the bid with a
bracket (take-profit above, stop below); one position at a time. A user strategy file: the same
file runs in backtest, paper and live."""

from __future__ import annotations

from tradeforge.model.data import QuoteTick
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderEvent
from tradeforge.strategy.base import Strategy
from tradeforge.strategy.indicators import ExponentialMovingAverage


class QuoteMeanReversion(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.iid = p["instrument"]
        self.inst = self.instrument(self.iid)
        self.ema = ExponentialMovingAverage(int(p.get("ema", 20)))
        self.entry_bps = float(p.get("entry_bps", 2))
        self.tp_bps = float(p.get("take_profit_bps", 4))
        self.stop_bps = float(p.get("stop_bps", 6))
        self.quantity = p["quantity"]
        self.register_indicator_for_quotes(self.iid, self.ema)
        self.subscribe_quotes(self.iid)
        self.subscribe_trades(self.iid)
        self.trades_seen = 0
        self.active = False

    def on_trade(self, trade) -> None:
        self.trades_seen += 1

    def on_quote(self, quote: QuoteTick) -> None:
        if not self.ema.initialized or self.active or self.position_quantity(self.iid):
            return
        mid = (quote.bid + quote.ask) / 2
        if mid < self.ema.value * (1 - self.entry_bps / 10_000):
            tick = self.inst.tick_size_raw
            entry = quote.bid
            tp = int(entry * (1 + self.tp_bps / 10_000)) // tick * tick
            sl = int(entry * (1 - self.stop_bps / 10_000)) // tick * tick
            p = self.inst.make_price
            orders = self.order_factory.bracket(
                self.iid, OrderSide.BUY, self.quantity, entry_price=p(entry), take_profit=p(tp), stop_loss=p(sl)
            )
            self.active = True
            self.submit_order_list(orders)

    def on_order_event(self, event: OrderEvent) -> None:
        if not self.open_orders(self.iid) and not self.position_quantity(self.iid):
            self.active = False

    def on_stop(self) -> None:
        self.cancel_all_orders(self.iid)
