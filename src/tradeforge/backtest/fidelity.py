"""Run one strategy over the same order flow at several simulation fidelities and compare the fills.

Each setup is a :class:`~tradeforge.venues.replay.venue.ReplayVenueConfig` (L3, L2 with a queue model,
L1); the flow is derived once (:func:`~tradeforge.venues.replay.market_view.derive`), so every run sees
exactly the same market. Per run: orders, fills, filled quantity, the fill rate of passive quotes,
P&L, fees, the end position and the *markout* -- the mid price ``markout_ns`` after each fill against
the fill price, signed so that positive is good for us; a model that fills too easily fills the
orders the market was about to run over, and the markout shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderUpdated
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.strategy.base import Strategy
from tradeforge.venues.fees import FeeModel
from tradeforge.venues.latency import LatencyModel
from tradeforge.venues.replay.flow import OrderFlow
from tradeforge.venues.replay.market_view import DerivedFlows, derive
from tradeforge.venues.replay.venue import ReplayVenueConfig


@dataclass(frozen=True)
class FidelityRun:
    """The outcome of one run (money in account currency units, quantities in instrument units)."""

    label: str
    orders: int
    fills: int
    filled_qty: float
    maker_share: float
    fill_rate: float  # filled quantity / quantity quoted (each submit or price modify quotes anew)
    pnl: float
    fees: float
    end_position: float
    markout: float  # mean signed mid move after our fills, in price units (positive: good for us)
    events: int
    seconds: float
    reasons: dict[str, float]  # filled quantity by mechanism (queue / through / cross / take)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_fidelities(
    instruments: InstrumentProvider,
    flow: OrderFlow,
    setups: list[tuple[str, ReplayVenueConfig]],
    make_strategy: Callable[[], Strategy],
    *,
    currency: str = "USD",
    starting_cash_raw: int = 10**15,
    feed_latency: LatencyModel | None = None,
    fee_model: Callable[[], FeeModel] | None = None,
    markout_ns: int = 1_000_000_000,
    derived: DerivedFlows | None = None,
) -> list[FidelityRun]:
    """Run ``make_strategy()`` once per setup on ``flow`` and summarize each run."""
    derived = derived or derive(flow)
    inst = instruments.get(flow.instrument_id)
    out = []
    for label, config in setups:
        engine = BacktestEngine(instruments, currency, starting_cash_raw)
        venue = engine.add_replay_venue(config, fee_model() if fee_model else None)
        engine.add_order_flow(flow, feed_latency, derived=derived)
        engine.add_strategy(make_strategy())
        started = time.perf_counter()
        result = engine.run()
        seconds = time.perf_counter() - started
        fills = result.fills
        qty = sum(f.last_qty for f in fills)
        maker = sum(f.last_qty for f in fills if f.liquidity_side.name == "MAKER")
        quoted = sum(o.quantity for o in result.orders) + _price_modifies(result.orders)
        lot = 10**inst.size_precision
        out.append(FidelityRun(
            label=label,
            orders=len(result.orders),
            fills=len(fills),
            filled_qty=qty / lot,
            maker_share=round(maker / qty, 4) if qty else 0.0,
            fill_rate=round(qty / quoted, 4) if quoted else 0.0,
            pnl=(result.final_equity_raw - starting_cash_raw) / 1e9,
            fees=sum(f.commission for f in fills) / 1e9,
            end_position=engine.portfolio.net_quantity(flow.instrument_id) / lot,
            markout=round(_markout(fills, derived, markout_ns) / 10**inst.price_precision, 6),
            events=sum(len(s) for s in engine.streams),
            seconds=round(seconds, 3),
            reasons={k: v / lot for k, v in sorted(venue.fill_reasons.items())},
        ))
    return out


def _price_modifies(orders: list) -> int:
    """Quantity re-quoted by price modifies (a price change sends the order to the back: a new quote)."""
    total = 0
    for o in orders:
        for e in o.events:
            if isinstance(e, OrderUpdated) and e.price is not None:
                total += o.quantity
    return total


def _markout(fills: list, derived: DerivedFlows, horizon_ns: int) -> float:
    """Mean of ``side * (mid(t + horizon) - fill price)`` over fills (raw price units)."""
    q = derived.quotes
    ok = (q.bid_size > 0) & (q.ask_size > 0)
    ts, mid = q.ts_event[ok], (q.bid[ok] + q.ask[ok]) / 2
    if not fills or not len(ts):
        return 0.0
    t = np.array([f.ts_event + horizon_ns for f in fills], dtype=np.int64)
    idx = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 1)
    side = np.array([1 if f.side is OrderSide.BUY else -1 for f in fills])
    px = np.array([f.last_px for f in fills], dtype=np.float64)
    qty = np.array([f.last_qty for f in fills], dtype=np.float64)
    return float(np.sum(side * (mid[idx] - px) * qty) / np.sum(qty))


def markdown_table(runs: list[FidelityRun]) -> str:
    """The runs as a Markdown table (the docs' comparison)."""
    head = ("setup", "orders", "fills", "filled qty", "fill rate", "P&L", "end pos", "markout",
            "queue / through / cross")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.orders} | {r.fills} | {r.filled_qty:g} | {r.fill_rate:.2%} | {r.pnl:,.2f} | "
            f"{r.end_position:g} | {r.markout:+.4f} | "
            f"{r.reasons.get('queue', 0):g} / {r.reasons.get('through', 0):g} / {r.reasons.get('cross', 0):g} |"
        )
    return "\n".join(lines)
