"""The compiled L3 replay (kernel book + flow runs, ``ReplayVenueConfig(compiled=True)``) gives exactly
the reference venue's results: every order event at the same clock time, the recorded executions,
fill reasons, the equity curve -- on the real samples (LOBSTER AMZN, CME MBO), the synthetic flow and
random flows with random orders of ours (hypothesis), with and without latency legs."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
from tradeforge.data.databento import load_dbn_mbo
from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
from tradeforge.model.data import QuoteTick
from tradeforge.model.enums import OrderSide, OrderStatus, TimeInForce
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.strategy.base import Strategy
from tradeforge.venues.latency import ConstantLatency
from tradeforge.venues.replay.flow import FlowAction as A
from tradeforge.venues.replay.flow import OrderFlow, _flow, flow_from_lobster, flow_from_mbo
from tradeforge.venues.replay.kbook import KernelBook, compilable
from tradeforge.venues.replay.synthetic import synthetic_flow
from tradeforge.venues.replay.venue import ReplayVenueConfig

ROOT = Path(__file__).resolve().parents[3]
L3 = ROOT / "data" / "l3"
MM = str(ROOT / "examples/strategies/passive_market_maker.py") + ":PassiveMarketMaker"
IID = "XYZ.SIM"
_BUSY = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL)
LATENCY = ConstantLatency(50_000, 50_000, 50_000)


class Chaos(Strategy):
    """Random orders of ours (seeded): limits (post-only, IOC, FOK, DAY) near and through the touch,
    markets, stops, cancels and modifies, on quotes and on a timer; records the venue's queue position
    of each open order whenever it acts (``seen``)."""

    def on_start(self) -> None:
        self.iid = self.params["instrument"]
        self.inst = self.instrument(self.iid)
        self.rng = random.Random(self.params["seed"])
        self.tick = self.params["tick"]
        self.bid = self.ask = 0
        self.seen: list[tuple[int, list[float | None]]] = []
        self.subscribe_quotes(self.iid)
        self.set_timer("poke", self.params["every_ns"])

    def on_quote(self, quote: QuoteTick) -> None:
        self.bid, self.ask = quote.bid, quote.ask
        self._act()

    def on_timer(self, event: Any) -> None:
        if self.bid:
            self._act()

    def _act(self) -> None:
        rng = self.rng
        venue = self.params["venue"]
        self.seen.append((self.clock.timestamp_ns(),
                          [venue.queue_ahead(o.client_order_id) for o in self.open_orders(self.iid)]))
        if rng.random() < 0.4:
            return
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        sign = 1 if side is OrderSide.BUY else -1
        ref = self.bid if side is OrderSide.BUY else self.ask
        qty = self.inst.make_quantity(rng.choice((1, 2, 3, 5)) * self.params["lot"])
        f = self.order_factory
        kind = rng.random()
        open_orders = self.open_orders(self.iid)
        if kind < 0.45 and len(open_orders) < 8:
            price = self.inst.make_price(ref + sign * rng.randint(-3, 2) * self.tick)
            tif = rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY))
            self.submit_order(f.limit(self.iid, side, qty, price, time_in_force=tif, post_only=rng.random() < 0.3))
        elif kind < 0.52:
            self.submit_order(f.market(self.iid, side, qty))
        elif kind < 0.62 and len(open_orders) < 8:
            trig = ref + sign * rng.randint(0, 3) * self.tick
            make = self.inst.make_price
            if rng.random() < 0.5:
                self.submit_order(f.stop_market(self.iid, side, qty, make(trig)))
            else:
                self.submit_order(f.stop_limit(self.iid, side, qty, make(trig + sign * self.tick), make(trig)))
        elif kind < 0.8 and open_orders:
            self.cancel_order(rng.choice(open_orders))
        elif open_orders:
            order = rng.choice(open_orders)
            if order.price is not None and order.status not in _BUSY:
                new_price = order.price + rng.randint(-2, 2) * self.tick
                new_qty = order.quantity + rng.randint(-1, 2) * self.params["lot"] if rng.random() < 0.5 else None
                if new_qty is not None and new_qty <= order.filled_qty:
                    new_qty = None
                self.modify_order(order, quantity=new_qty, price=new_price)


def _replay(provider: InstrumentProvider, flow: OrderFlow, compiled: bool, strategy: tuple[type, dict] | None,
            latency: ConstantLatency | None = None) -> dict[str, Any]:
    inst = provider.get(flow.instrument_id)
    engine = BacktestEngine(provider, "USD", 10**15)
    venue = engine.add_replay_venue(ReplayVenueConfig(inst.venue, "l3", latency=latency, compiled=compiled))
    venue.record_trades = True
    engine.add_order_flow(flow, latency, market_data=strategy is not None)
    events: list[tuple[int, Any]] = []
    engine.bus.subscribe("events.order.*", lambda e: events.append((engine.clock.timestamp_ns(), e)))
    strat = None
    if strategy is not None:
        cls, params = strategy
        strat = cls("s", {**params, "venue": venue})
        engine.add_strategy(strat)
    result = engine.run()
    assert isinstance(venue.books[flow.instrument_id], KernelBook) == (compiled and compilable(flow))
    c = result.curve
    return {"events": events, "trades": venue.trades, "reasons": dict(venue.fill_reasons),
            "curve": (list(c.ts), list(c.equity), list(c.gross)), "unexplained": venue.books[flow.instrument_id].unexplained,
            "queue_positions": getattr(strat, "seen", None)}


def _assert_same(provider: InstrumentProvider, flow: OrderFlow, strategy: tuple[type, dict] | None,
                 latency: ConstantLatency | None = None) -> dict[str, Any]:
    ref = _replay(provider, flow, False, strategy, latency)
    fast = _replay(provider, flow, True, strategy, latency)
    for key in ref:
        assert fast[key] == ref[key], key
    return ref


def _provider(iid: str = IID, tick: str = "1") -> InstrumentProvider:
    return InstrumentProvider([instrument_from_dict(
        {"id": iid, "kind": "equity", "currency": "USD", "tick_size": tick, "lot_size": "1"}, "t")])


@pytest.fixture(scope="module")
def amzn() -> OrderFlow:
    msgs, _ = read_lobster_messages(L3 / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz")
    ob, _ = read_lobster_orderbook(L3 / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz")
    return flow_from_lobster(msgs, ob, "AMZN.XNAS").take(slice(0, 25_000))


@pytest.mark.parametrize("latency", [None, LATENCY])
def test_amzn_with_the_market_maker_and_random_orders(amzn: OrderFlow, latency) -> None:
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml")
    cls = load_strategy_class(MM)
    ref = _assert_same(provider, amzn, (cls, {"instrument": "AMZN.XNAS", "quantity": 100}), latency)
    assert sum(ref["reasons"].values()) > 0 and len(ref["trades"]) > 1000
    tick = provider.get("AMZN.XNAS").tick_size_raw
    chaos = _assert_same(provider, amzn.take(slice(0, 8_000)),
                         (Chaos, {"instrument": "AMZN.XNAS", "seed": 3, "tick": tick, "lot": 100,
                                   "every_ns": 100_000_000}), latency)
    assert len(chaos["events"]) > 100


def test_cme_mbo_with_the_market_maker() -> None:
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/cme_mbo.toml")
    es = flow_from_mbo(load_dbn_mbo(L3 / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", instrument=provider.get("ESH4.GLBX"))[0])
    cls = load_strategy_class(MM)
    for latency in (None, ConstantLatency(200_000, 300_000, 300_000)):
        ref = _assert_same(provider, es.take(slice(0, 40_000)), (cls, {"instrument": "ESH4.GLBX", "quantity": 1}), latency)
        assert ref["reasons"].get("queue", 0) > 0


def test_synthetic_flow_alone_and_with_the_market_maker() -> None:
    provider = _provider("SYN.XNAS", "0.0001")
    syn = synthetic_flow(30_000, 11, "SYN.XNAS", start_ns=10**15, mid=2_000_000)
    _assert_same(provider, syn, None)
    ref = _assert_same(provider, syn, (load_strategy_class(MM), {"instrument": "SYN.XNAS", "quantity": 100}))
    assert ref["reasons"]


def test_equity_samples_of_a_run_from_the_first_message() -> None:
    flow = _flow(IID, "l3", [1, 1, 2], [A.ADD] * 3, [1, -1, 1], [99, 101, 98], [5] * 3, [1, 2, 3])
    ref = _assert_same(_provider(), flow, None)  # one sample (1) from the kernel, the last (2) at the end
    assert ref["curve"][0] == [1, 2]


def test_a_flow_the_kernel_cannot_replay_goes_message_by_message() -> None:
    flow = _flow(IID, "l3", [1, 2], [A.ADD, A.ADD], [1, 0], [100, 101], [5, 5], [1, 2])
    assert not compilable(flow)
    _assert_same(_provider(), flow, None)


_ACTIONS = [A.ADD] * 5 + [A.CANCEL, A.DELETE, A.DELETE, A.EXECUTE, A.EXECUTE, A.REPLACE, A.MODIFY, A.MODIFY,
                          A.FILL, A.FILL, A.TRADE, A.REVEAL, A.PRINT, A.CLEAR]
_message = st.tuples(
    st.integers(0, 3), st.sampled_from(_ACTIONS), st.sampled_from((1, -1, 1, -1, 0)), st.integers(95, 105),
    st.integers(1, 6), st.integers(1, 25), st.integers(1, 30),
)


def _random_flow(rows: list[tuple[int, int, int, int, int, int, int]]) -> OrderFlow:
    ts, act, side, price, size, oid, nid = [], [], [], [], [], [], []
    t = 1_000_000
    for gap, a, sd, px, sz, o, n in rows:
        t += gap * 1_000
        if a in (A.ADD, A.REPLACE, A.MODIFY, A.REVEAL, A.CANCEL, A.DELETE, A.EXECUTE) and sd == 0:
            sd = 1
        if a == A.FILL and sd == 0 and px % 3:
            sd = -1
        ts.append(t)
        act.append(int(a))
        side.append(sd)
        price.append(px)
        size.append(sz * (1 if a == A.REVEAL else 10))
        oid.append(o)
        nid.append(n)
    return _flow(IID, "l3", ts, act, side, price, size, oid, nid)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_message, min_size=20, max_size=250), seed=st.integers(0, 10**6), lat=st.booleans())
def test_random_flows_and_random_orders_give_identical_reports(rows, seed, lat) -> None:
    flow = _random_flow(rows)
    # a book to quote from: a few resting orders first
    base = _flow(IID, "l3", [1_000_000] * 4, [A.ADD] * 4, [1, 1, -1, -1], [99, 98, 101, 102], [30, 40, 30, 40],
                 [1001, 1002, 1003, 1004])
    flow = OrderFlow(IID, "l3", *(np.concatenate([getattr(base, c), getattr(flow, c)]) for c in
                                  ("ts_event", "action", "side", "price", "size", "order_id", "new_id")))
    assert compilable(flow)
    latency = ConstantLatency(1_500, 2_000, 500) if lat else None
    _assert_same(_provider(), flow, (Chaos, {"instrument": IID, "seed": seed, "tick": 1, "lot": 10,
                                             "every_ns": 2_500}), latency)


def test_two_compiled_flows_interleave_in_merge_order(amzn: OrderFlow) -> None:
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml")
    for inst in InstrumentProvider.from_toml(ROOT / "data/instruments/cme_mbo.toml"):
        provider.add(inst)
    es = flow_from_mbo(load_dbn_mbo(L3 / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", instrument=provider.get("ESH4.GLBX"))[0])
    es = es.take(slice(0, 15_000))
    # put both days on one clock so that their messages interleave
    shift = int(amzn.ts_event[0]) - int(es.ts_event[0])
    es = OrderFlow(es.instrument_id, "l3", es.ts_event + shift, es.action, es.side, es.price, es.size, es.order_id,
                   es.new_id)
    cls = load_strategy_class(MM)

    def replay(compiled: bool) -> dict[str, Any]:
        engine = BacktestEngine(provider, "USD", 10**16)
        venues = [engine.add_replay_venue(ReplayVenueConfig(name, "l3", latency=LATENCY, compiled=compiled))
                  for name in ("XNAS", "GLBX")]
        for v in venues:
            v.record_trades = True
        engine.add_order_flow(amzn.take(slice(0, 15_000)), LATENCY)
        engine.add_order_flow(es, LATENCY)
        engine.add_strategy(cls("a", {"instrument": "AMZN.XNAS", "quantity": 100}))
        engine.add_strategy(cls("e", {"instrument": "ESH4.GLBX", "quantity": 1}))
        events: list[tuple[int, Any]] = []
        engine.bus.subscribe("events.order.*", lambda e: events.append((engine.clock.timestamp_ns(), e)))
        c = engine.run().curve
        assert [isinstance(v.books[iid], KernelBook) for v, iid in zip(venues, ("AMZN.XNAS", "ESH4.GLBX"), strict=True)] \
            == [compiled, compiled]
        return {"events": events, "trades": [v.trades for v in venues], "curve": (list(c.ts), list(c.equity)),
                "reasons": [dict(v.fill_reasons) for v in venues]}

    ref, fast = replay(False), replay(True)
    assert all(ref["reasons"]) and ref == fast
