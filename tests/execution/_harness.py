"""Test harness: a backtest engine on synthetic data, driven by a scripted strategy.

``Harness`` builds a :class:`BacktestEngine` with one or more instruments on one simulated venue
("SIM"), spies on what the venue is sent, and records every ``ErrorEvent``. ``Scripted`` is a strategy
that runs a callback per market data event (so a test can submit / cancel / modify at given bars) and
records every order and position event it receives, in arrival order.

Prices and quantities in rows are human numbers (``100.25``); they are converted exactly to raw
integers at the instrument's precisions. Bar ``k`` is stamped ``start + k * step``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.backtest.result import BacktestResult
from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.model.calendar import SessionCalendar
from tradeforge.model.data import Data
from tradeforge.model.enums import OmsType, OrderStatus, TradingState
from tradeforge.model.events import ErrorEvent, OrderEvent, PositionEvent
from tradeforge.model.fixed import parse_raw
from tradeforge.model.instruments import Instrument, InstrumentProvider, instrument_from_dict
from tradeforge.model.orders import Order
from tradeforge.model.timeutil import NANOS_PER_SECOND, parse_timestamp_ns
from tradeforge.risk.checks import RiskCheck
from tradeforge.strategy.base import Strategy
from tradeforge.venues.fees import FeeModel
from tradeforge.venues.simulated import SimulatedVenueConfig
from tradeforge.venues.slippage import SlippageModel

T0 = parse_timestamp_ns("2024-01-02T14:30:00")
MINUTE = 60 * NANOS_PER_SECOND

EQUITY: dict[str, Any] = {"id": "AAA.SIM", "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"}
EQUITY_B: dict[str, Any] = {"id": "BBB.SIM", "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"}
FUTURE: dict[str, Any] = {
    "id": "6EH5.SIM", "kind": "future", "currency": "USD", "tick_size": "0.00005", "lot_size": "1",
    "multiplier": 125000, "margin_init_bps": 500, "expiry": "2030-03-17",
}

Human = int | float | str | Decimal


def money(x: Human) -> int:
    """Money raw (1e-9) from a human amount."""
    return parse_raw(x if isinstance(x, int | Decimal) else str(x), 9, "money")


def _raw(x: Human, precision: int) -> int:
    return parse_raw(x if isinstance(x, int | Decimal) else str(x), precision)


# a script is either {data index: fn(strategy, data)} or fn(strategy, data index, data)
Script = dict[int, Callable[["Scripted", Any], None]] | Callable[["Scripted", int, Any], None]


class Scripted(Strategy):
    """Runs ``script`` on each market data event; records all order and position events."""

    def __init__(
        self,
        strategy_id: str = "S",
        instruments: Sequence[str] = ("AAA.SIM",),
        *,
        kinds: Sequence[str] = ("bars",),
        script: Script | None = None,
        start: Callable[[Scripted], None] | None = None,
    ) -> None:
        super().__init__(strategy_id)
        self.instrument_ids = list(instruments)
        self.kinds = tuple(kinds)
        self.script = script
        self.start_cb = start
        self.data: list[Data] = []
        self.events: list[OrderEvent | PositionEvent] = []
        self.statuses: list[tuple[str, str, OrderStatus]] = []  # (order id, event type, status after it)
        self.saved: dict[str, Any] = {}  # scratch space for scripts (orders by name, ...)

    def on_start(self) -> None:
        for iid in self.instrument_ids:
            for kind in self.kinds:
                getattr(self, f"subscribe_{kind}")(iid)
        if self.start_cb is not None:
            self.start_cb(self)

    def _on_data(self, data: Any) -> None:
        i = len(self.data)
        self.data.append(data)
        script = self.script
        if script is None:
            return
        if callable(script):
            script(self, i, data)
        else:
            fn = script.get(i)
            if fn is not None:
                fn(self, data)

    def on_bar(self, bar: Any) -> None:
        self._on_data(bar)

    def on_quote(self, quote: Any) -> None:
        self._on_data(quote)

    def on_trade(self, trade: Any) -> None:
        self._on_data(trade)

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)
        order = self.ctx.trading.order(event.client_order_id)
        if order is not None:
            self.statuses.append((event.client_order_id, type(event).__name__, order.status))

    def on_position_event(self, event: PositionEvent) -> None:
        self.events.append(event)

    # -- queries for tests --
    @property
    def f(self):
        return self.order_factory

    def of(self, cls: type, client_order_id: str | None = None) -> list[Any]:
        """Recorded events of type ``cls`` (optionally for one order)."""
        return [
            e for e in self.events
            if isinstance(e, cls) and (client_order_id is None or getattr(e, "client_order_id", None) == client_order_id)
        ]

    def status_trail(self, client_order_id: str) -> list[OrderStatus]:
        """The order's status right after each of its events reached the strategy."""
        return [st for cid, _, st in self.statuses if cid == client_order_id]

    def kinds_for(self, client_order_id: str) -> list[str]:
        """Names of the order event types one order received, in order."""
        return [
            type(e).__name__ for e in self.events
            if isinstance(e, OrderEvent) and e.client_order_id == client_order_id
        ]


class Harness:
    """One engine, one venue "SIM", instruments from dict specs."""

    def __init__(
        self,
        specs: Iterable[dict[str, Any]] = (EQUITY,),
        *,
        cash: Human = 1_000_000,
        participation: float = 1.0,
        limit_fill: str = "through",
        latency_ns: int = 0,
        calendar: SessionCalendar | None = None,
        down: tuple[tuple[int, int], ...] = (),
        reject_rate: float = 0.0,
        fee: FeeModel | None = None,
        slippage: SlippageModel | None = None,
        risk_checks: list[RiskCheck] | None = None,
        trading_state: TradingState = TradingState.ACTIVE,
        oms_type: OmsType = OmsType.NETTING,
        check_invariant: bool = True,
    ) -> None:
        insts = [instrument_from_dict(dict(s), "test") for s in specs]
        self.instruments: dict[str, Instrument] = {i.id: i for i in insts}
        self.default_id = insts[0].id
        self.engine = BacktestEngine(
            InstrumentProvider(insts), "USD", money(cash), oms_type=oms_type, risk_checks=risk_checks,
            trading_state=trading_state, check_invariant=check_invariant,
        )
        self.venue = self.engine.add_venue(
            SimulatedVenueConfig("SIM", participation, limit_fill, latency_ns, calendar, down, reject_rate, seed=7),
            fee, slippage,
        )
        self.sent: list[Order] = []  # every order the venue was asked to work
        venue_submit = self.venue.submit

        def spy(order: Order) -> None:
            self.sent.append(order)
            venue_submit(order)

        self.venue.submit = spy  # type: ignore[method-assign]
        self.errors: list[ErrorEvent] = []
        self.engine.bus.subscribe("events.error", self.errors.append)

    # -- conversions --
    def inst(self, iid: str | None = None) -> Instrument:
        return self.instruments[iid or self.default_id]

    def px(self, x: Human, iid: str | None = None) -> int:
        return _raw(x, self.inst(iid).price_precision)

    def qty(self, x: Human, iid: str | None = None) -> int:
        return _raw(x, self.inst(iid).size_precision)

    # -- assembly --
    def strategy(self, script: Script | None = None, **kw: Any) -> Scripted:
        kw.setdefault("instruments", [self.default_id])
        s = Scripted(kw.pop("strategy_id", "S"), script=script, **kw)
        self.engine.add_strategy(s)
        return s

    @staticmethod
    def _ts(n: int, start: int, step: int) -> np.ndarray:
        return start + np.arange(n, dtype=np.int64) * step

    def bars(
        self, rows: Sequence[Sequence[Human]], iid: str | None = None, *, start: int = T0, step: int = MINUTE,
    ) -> BarColumns:
        """Rows ``(open, high, low, close)`` or ``(open, high, low, close, volume)``; volume -1 = unknown."""
        inst = self.inst(iid)
        p, s = inst.price_precision, inst.size_precision
        cols = [np.array([_raw(r[k], p) for r in rows], dtype=np.int64) for k in range(4)]
        vol = np.array([_raw(r[4], s) if len(r) > 4 else -1 for r in rows], dtype=np.int64)
        ts = self._ts(len(rows), start, step)
        bc = BarColumns(inst.id, ts, ts.copy(), *cols, vol, step)
        self.engine.add_data(bc)
        return bc

    def bars_raw(
        self, iid: str, o: np.ndarray, hi: np.ndarray, lo: np.ndarray, c: np.ndarray, volume: np.ndarray | None = None,
        *, start: int = T0, step: int = MINUTE,
    ) -> BarColumns:
        """Bars from raw int64 arrays (for generated data)."""
        n = len(o)
        vol = np.full(n, -1, dtype=np.int64) if volume is None else np.asarray(volume, dtype=np.int64)
        ts = self._ts(n, start, step)
        arrays = [np.asarray(x, dtype=np.int64) for x in (o, hi, lo, c)]
        bc = BarColumns(self.inst(iid).id, ts, ts.copy(), *arrays, vol, step)
        self.engine.add_data(bc)
        return bc

    def quotes(
        self, rows: Sequence[Sequence[Human]], iid: str | None = None, *, start: int = T0, step: int = MINUTE,
    ) -> QuoteColumns:
        """Rows ``(bid, ask)`` or ``(bid, ask, bid_size, ask_size)``; size 0 = not given."""
        inst = self.inst(iid)
        p, s = inst.price_precision, inst.size_precision
        bid = np.array([_raw(r[0], p) for r in rows], dtype=np.int64)
        ask = np.array([_raw(r[1], p) for r in rows], dtype=np.int64)
        bs = np.array([_raw(r[2], s) if len(r) > 2 else 0 for r in rows], dtype=np.int64)
        az = np.array([_raw(r[3], s) if len(r) > 3 else 0 for r in rows], dtype=np.int64)
        ts = self._ts(len(rows), start, step)
        qc = QuoteColumns(inst.id, ts, ts.copy(), bid, ask, bs, az)
        self.engine.add_data(qc)
        return qc

    def trades(
        self, rows: Sequence[Sequence[Human]], iid: str | None = None, *, start: int = T0, step: int = MINUTE,
    ) -> TradeColumns:
        """Rows ``(price, size)``."""
        inst = self.inst(iid)
        p, s = inst.price_precision, inst.size_precision
        price = np.array([_raw(r[0], p) for r in rows], dtype=np.int64)
        size = np.array([_raw(r[1], s) for r in rows], dtype=np.int64)
        ts = self._ts(len(rows), start, step)
        tc = TradeColumns(
            inst.id, ts, ts.copy(), price, size, np.zeros(len(rows), dtype=np.int64),
            np.arange(len(rows), dtype=np.int64),
        )
        self.engine.add_data(tc)
        return tc

    def run(self) -> BacktestResult:
        return self.engine.run()

    # -- queries --
    def order(self, client_order_id: str) -> Order:
        o = self.engine.execution.order(client_order_id)
        assert o is not None, client_order_id
        return o

    def bar_ts(self, k: int, start: int = T0, step: int = MINUTE) -> int:
        return start + k * step
