"""A two-leg spread strategy driven by complex event processing (an example of the CEP engine).

The CEP graph (built in ``on_start`` on the node's bus, so identical in backtest and live): the
bars of ``y`` and ``x`` joined by time (as-of, within ``join_ns``) -> the log spread
``log y - log x`` -> a sliding count window (``window`` spreads: mean, sd, last) -> derived events
``spread_stats`` on ``data.custom.spread_stats``, which this strategy subscribes to. On each:
``z = (last - mean) / sd``; short the spread (sell y, buy x) at ``z >= entry_z``, long at
``z <= -entry_z``, flat at ``|z| <= exit_z``; ``notional`` per leg at the last prices. A second query
publishes ``up_streak`` events (``streak`` consecutive up closes of ``y``), counted in ``streaks``.

Params: ``y``, ``x`` (instrument ids), ``window`` (20), ``entry_z`` (2), ``exit_z`` (0.5),
``notional`` (10000), ``join_ns`` (1 s), ``streak`` (3).
"""

from __future__ import annotations

import math
from typing import Any

from tradeforge.model.data import CustomData
from tradeforge.model.enums import OrderSide
from tradeforge.strategy.base import Strategy, data_topic
from tradeforge.strategy.cep import CepEngine, Sliding


class CepSpread(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.y, self.x = str(p["y"]), str(p["x"])
        self.entry_z, self.exit_z = float(p.get("entry_z", 2.0)), float(p.get("exit_z", 0.5))
        if not 0 <= self.exit_z < self.entry_z:
            raise ValueError(f"{self.id}: need 0 <= exit_z < entry_z")
        self.notional = float(p.get("notional", 10_000))
        iy, ix = self.instrument(self.y), self.instrument(self.x)
        self.state = 0  # +1 long spread, -1 short, 0 flat
        self.stats: list[tuple[int, float]] = []  # (ts, z) of every derived event seen
        self.streaks = 0
        self.last_px: dict[str, float] = {}
        self.cep = cep = CepEngine(self.ctx.bus, priority=-1)  # after on_bar: last prices are current
        ys, xs = cep.source(data_topic("bars", self.y)), cep.source(data_topic("bars", self.x))
        (ys.join(xs, int(p.get("join_ns", 1_000_000_000)), mode="latest", name="legs")
           .map(lambda j: {"spread": math.log(iy.price_to_float(j.payload["left"].close))
                           - math.log(ix.price_to_float(j.payload["right"].close))}, name="spread")
           .window(Sliding(count=int(p.get("window", 20))), name="spread_stats",
                   mean=("mean", "spread"), sd=("std", "spread"), last=("last", "spread"), n=("count", None))
           .publish())
        closes = ys.map(lambda b: {"close": b.close}, name="y_close")
        prev: list[int] = []

        def up(ev: Any) -> bool:
            was, prev[:] = (prev[0] if prev else None), [ev.payload["close"]]
            return was is not None and ev.payload["close"] > was

        closes.consecutive(up, int(p.get("streak", 3)), name="up_streak").publish()
        self.subscribe_bars(self.y)
        self.subscribe_bars(self.x)
        self.subscribe_data("spread_stats")
        self.subscribe_data("up_streak")

    def on_bar(self, bar: Any) -> None:
        self.last_px[bar.instrument_id] = self.instrument(bar.instrument_id).price_to_float(bar.close)

    def on_data(self, data: CustomData) -> None:
        if data.data_type == "up_streak":
            self.streaks += 1
            return
        p = data.payload
        if p["n"] < int(self.params.get("window", 20)) or not p["sd"] > 0:
            return
        z = (p["last"] - p["mean"]) / p["sd"]
        self.stats.append((data.ts_init, z))
        if self.state == 0 and abs(z) >= self.entry_z:
            self._target(-1 if z > 0 else 1)
        elif self.state != 0 and abs(z) <= self.exit_z:
            self._target(0)

    def _target(self, state: int) -> None:
        if len(self.last_px) < 2:
            return
        for iid, sign in ((self.y, state), (self.x, -state)):
            want = sign * int(self.notional / self.last_px[iid])
            delta = want - self.position_quantity(iid) // 10 ** self.instrument(iid).size_precision
            if delta:
                side = OrderSide.BUY if delta > 0 else OrderSide.SELL
                self.submit_order(self.order_factory.market(iid, side, abs(delta)))
        self.state = state
