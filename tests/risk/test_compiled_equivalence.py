"""The compiled decision path decides exactly as the plug-in path: the same first denying check and the
same reason, over random sequences of orders, modifies, fills, cancels, prices, time (throttle windows,
day rolls) and trading-state changes, with every standard check configured with tight limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.execution._harness import EQUITY, EQUITY_B, FUTURE
from tradeforge.model.data import Bar
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType, TradingState
from tradeforge.model.events import OrderCanceled, OrderFilled, OrderPendingCancel, OrderUpdated
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.model.orders import Order
from tradeforge.portfolio.portfolio import Portfolio
from tradeforge.risk.checks import BuyingPower, MaxOrderNotional, MaxOrderQuantity, PriceCollar
from tradeforge.risk.checks_flow import MaxOpenOrders, Throttle
from tradeforge.risk.checks_limits import ConcentrationLimit, ExposureLimit, LossLimit, PositionLimit
from tradeforge.risk.checks_order import (
    DuplicateOrderCheck,
    LotTickCheck,
    MaxAdvPct,
    MinOrderSize,
    ReferenceCollar,
    RestrictedList,
    SelfTradeCheck,
)
from tradeforge.risk.compiled_math import prod_gt
from tradeforge.risk.engine import RiskEngine
from tradeforge.risk.scope import Limit, ScopedLimits

S = 1_000_000_000
M = 10**9
DAY = 86_400 * S
T0 = 1_700_000_000 * S
PROVIDER = InstrumentProvider([instrument_from_dict(d, "sim") for d in (EQUITY, EQUITY_B, FUTURE)])
IDS = ("AAA.SIM", "BBB.SIM", "6EH5.SIM")
BASE = {"AAA.SIM": 10_000, "BBB.SIM": 5_000, "6EH5.SIM": 108_000}  # raw prices
STRATS = ("s0", "s1", "s2")


def _sl(*limits: tuple[Any, ...]) -> ScopedLimits:
    return ScopedLimits([Limit(*x) for x in limits])


def _checks() -> list[Any]:
    return [
        LotTickCheck(),
        RestrictedList(restricted={"ZZZ.SIM"}),
        MinOrderSize(_sl(("portfolio", 2 * M)), _sl(("instrument", 50 * M, "AAA.SIM"))),
        MaxOrderQuantity(40 * M, {"BBB.SIM": 30 * M}),
        MaxOrderNotional(2_000 * M, {}),
        PriceCollar(800),
        ReferenceCollar(_sl(("portfolio", 500), ("strategy", 200, "s1")), reference="last", max_age_ns=3_600 * S,
                        bands={"BBB.SIM": (4_000, 6_000)}),
        PositionLimit(_sl(("instrument", 60 * M), ("strategy", 40 * M)), _sl(("account", 50 * M)),
                      _sl(("portfolio", 70 * M), ("venue", 80 * M))),
        ExposureLimit(_sl(("sector", 6_000 * M), ("strategy", 4_000 * M)), _sl(("account", 3_000 * M),
                                                                              ("portfolio", 5_000 * M))),
        ConcentrationLimit(_sl(("instrument", 3_000), ("sector", 5_000))),
        LossLimit(_sl(("strategy", 300 * M)), _sl(("portfolio", 500 * M)), ScopedLimits([])),
        Throttle(_sl(("strategy", 4), ("venue", 9)), window_ns=S),
        Throttle(_sl(("instrument", 12)), window_ns=60 * S, messages=True),
        MaxOpenOrders(_sl(("strategy", 5), ("instrument", 7))),
        DuplicateOrderCheck(2 * S),
        SelfTradeCheck(),
        MaxAdvPct(_sl(("portfolio", 2_000))),
        BuyingPower(allow_short_cash_settled=True),
    ]


class Pair:
    """The same engine twice: plug-in path and compiled path, fed the same events."""

    def __init__(self, cash: int) -> None:
        self.engines: list[RiskEngine] = []
        self.pfs: list[Portfolio] = []
        for compiled in (False, True):
            pf = Portfolio("USD", cash)
            for iid in IDS:
                pf.register_instrument(PROVIDER.get(iid))
            eng = RiskEngine(pf, PROVIDER.get, _checks(), sectors={"AAA.SIM": "tech", "BBB.SIM": "tech"},
                             accounts={"s0": "a", "s1": "a", "s2": "b"}, compiled=compiled)
            eng.state.marked = True
            self.engines.append(eng)
            self.pfs.append(pf)
        self.now = T0
        self.open: list[Order] = []
        self.n = 0

    def decide(self, order: Order) -> str | None:
        ref, fast = (e.check(order, tuple, self.now) for e in self.engines)
        assert ref == fast, (order, ref, fast)
        assert self.engines[1].compiled_active and not self.engines[0].compiled_active
        return ref

    def event(self, ev: Any) -> None:
        for e in self.engines:
            e.on_order_event(ev)

    def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "order":
            _, i, s, buy, qty, off, market, reduce_only = op
            iid = IDS[i]
            self.n += 1
            o = Order(f"o{self.n}", STRATS[s], iid, OrderSide.BUY if buy else OrderSide.SELL,
                      OrderType.MARKET if market else OrderType.LIMIT, qty, self.now,
                      price=None if market else BASE[iid] + off, reduce_only=reduce_only)
            if self.decide(o) is None:
                o.status = OrderStatus.ACCEPTED
                for e in self.engines:
                    e.state.release(o, e.state.instrument(iid).mark)
                    e._record_message(o, self.now, True)
                self.open.append(o)
        elif kind == "fill" and self.open:
            o = self.open[op[1] % len(self.open)]
            q = max(1, o.leaves_qty * op[2] // 100)
            px = o.price if o.price is not None else BASE[o.instrument_id]
            o.filled_qty += q
            if o.leaves_qty == 0:
                o.status = OrderStatus.FILLED
                self.open.remove(o)
            f = OrderFilled(o.client_order_id, o.strategy_id, o.instrument_id, self.now, self.now, "", f"x{self.n}-{q}",
                            o.side, q, px, q, "USD")
            self.n += 1
            for pf in self.pfs:
                pf.apply_fill(f)
            self.event(f)
        elif kind == "cancel" and self.open:
            o = self.open.pop(op[1] % len(self.open))
            self.event(OrderPendingCancel(o.client_order_id, o.strategy_id, o.instrument_id, self.now, self.now))
            o.status = OrderStatus.CANCELED
            self.event(OrderCanceled(o.client_order_id, o.strategy_id, o.instrument_id, self.now, self.now))
        elif kind == "modify" and self.open:
            o = self.open[op[1] % len(self.open)]
            if o.price is None:
                return
            prop = Order(o.client_order_id, o.strategy_id, o.instrument_id, o.side, o.order_type,
                         o.filled_qty + op[2], o.ts_init, price=o.price + op[3], reduce_only=o.reduce_only)
            prop.filled_qty = o.filled_qty
            if self.decide(prop) is None:
                o.quantity, o.price = prop.quantity, prop.price
                self.event(OrderUpdated(o.client_order_id, o.strategy_id, o.instrument_id, self.now, self.now))
        elif kind == "bar":
            iid = IDS[op[1]]
            px = BASE[iid] + op[2]
            bar = Bar(iid, px, px, px, px, op[3], self.now, self.now, 60 * S)
            for e, pf in zip(self.engines, self.pfs, strict=True):
                pf.on_bar(bar)
                e.on_bar(bar)
        elif kind == "time":
            self.now += op[1]
        elif kind == "state":
            _, scope, key, state = op
            for e in self.engines:
                e.set_trading_state(state, scope, key, who="test", why="test")


ops = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 2), st.integers(0, 2), st.booleans(), st.integers(1, 45),
              st.integers(-120, 120), st.booleans(), st.booleans()),
    st.tuples(st.just("fill"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("modify"), st.integers(0, 20), st.integers(1, 30), st.integers(-60, 60)),
    st.tuples(st.just("bar"), st.integers(0, 2), st.integers(-300, 300), st.integers(0, 400)),
    st.tuples(st.just("time"), st.sampled_from([1_000, 300 * 10**6, S, 61 * S, 3_600 * S, DAY])),
    st.tuples(st.just("state"), st.sampled_from([("system", ""), ("strategy", "s1"), ("instrument", "AAA.SIM"),
                                                  ("account", "b")]).map(lambda x: x),
              st.sampled_from([TradingState.ACTIVE, TradingState.REDUCING, TradingState.ACTIVE,
                               TradingState.HALTED])).map(lambda t: ("state", t[1][0], t[1][1], t[2])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=5, max_size=120), st.sampled_from([10_000 * M, 2_000 * M, 300 * M]))
def test_compiled_path_decides_as_the_plugin_path(script: list[tuple[Any, ...]], cash: int) -> None:
    p = Pair(cash)
    for iid in IDS:  # a first price (and yesterday's volume) for most runs
        p.step(("bar", IDS.index(iid), 0, 1_000))
    p.step(("time", DAY))
    for op in script:
        p.step(op)
    ref, fast = p.engines
    assert fast.denials == ref.denials and fast.passed == ref.passed
    assert fast.audit.records() == ref.audit.records()


@pytest.mark.parametrize("vals", [(2**62, 10_000, 500, 2**62), (-(2**63), -1, 2**62, 3), (7, 3, -21, -1)])
def test_prod_gt_is_exact(vals: tuple[int, int, int, int]) -> None:
    a, b, c, d = vals
    assert prod_gt(a, b, c, d) == (a * b > c * d)
    assert prod_gt(c, d, a, b) == (c * d > a * b)


def test_custom_check_keeps_the_plugin_path() -> None:
    class Custom:
        name = "custom"

        def check(self, order: Order, ctx: Any) -> str | None:
            return None

    eng = RiskEngine(Portfolio("USD", 10**12), PROVIDER.get, [*_checks(), Custom()])
    o = Order("c1", "s0", "AAA.SIM", OrderSide.BUY, OrderType.LIMIT, 5, T0, price=10_000)
    eng.check(o, tuple, T0)
    assert not eng.compiled_active
    with pytest.raises(ValueError, match="compiled=True"):
        RiskEngine(Portfolio("USD", 10**12), PROVIDER.get, [Custom()], compiled=True).check(o, tuple, T0)


def test_duplicate_table_purges_in_place_and_grows_and_still_decides_as_the_plugin_path() -> None:
    """Thousands of sent orders within and across the duplicate window: the compiled table is purged
    of expired entries in place and grows while many are live; decisions stay the plug-in path's."""
    checks: list[Any] = [DuplicateOrderCheck(1_000_000)]  # 1 ms window
    engines = [RiskEngine(Portfolio("USD", 10**15), PROVIDER.get, checks if c else [DuplicateOrderCheck(1_000_000)],
                          compiled=c) for c in (False, True)]
    for pf_e in engines:
        pf_e.portfolio.register_instrument(PROVIDER.get("AAA.SIM"))
    now = T0
    decisions: list[list[str | None]] = [[], []]
    for n in range(6_000):
        now += 2_000 if n < 3_000 else 500  # ~500, then ~2,000 orders live in the window
        o = Order(f"d{n}", "s0", "AAA.SIM", OrderSide.BUY, OrderType.LIMIT, 1 + n % 400, now,
                  price=10_000 + n % 3)
        for k, e in enumerate(engines):
            r = e.check(o, tuple, now)
            decisions[k].append(r)
            if r is None:
                e._record_message(o, now, True)
    assert engines[1].compiled_active
    assert decisions[0] == decisions[1] and any(d is not None for d in decisions[0])
    assert engines[1]._fast is not None and engines[1]._fast.books.arena.t["dup"].shape[0] >= 4_096
