"""Each pre-trade control of the full risk engine through a backtest: it denies with a clear reason,
counts the denial, lets the permitted order through, and the venue never sees a denied order."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.execution._harness import EQUITY, EQUITY_B, MINUTE, Harness, Scripted, money
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType
from tradeforge.model.events import OrderDenied
from tradeforge.model.orders import Order
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
from tradeforge.risk.scope import Limit, ScopedLimits

pytestmark = pytest.mark.usefixtures("risk_path")

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A, B = "AAA.SIM", "BBB.SIM"
QUIET = (100, 100.5, 99.5, 100, 1000)
HIGH = (101, 101.5, 100.5, 101, 1000)  # never trades down to 100
NONE = ScopedLimits([])
U = 10**9  # one unit at 1e-9


def sl(*limits: tuple) -> ScopedLimits:
    return ScopedLimits([Limit(*x) for x in limits])


def denied_reason(s: Scripted, order: Order) -> str:
    assert order.status is OrderStatus.DENIED, order.status
    (d,) = s.of(OrderDenied, order.client_order_id)
    return d.reason


def run(h: Harness, script, rows=(HIGH,) * 4, **kw) -> Scripted:
    s = h.strategy(script, **kw)
    h.bars(list(rows))
    h.run()
    return s


def test_lot_tick_and_min_size() -> None:
    coarse = {**EQUITY, "tick_size": "0.05", "lot_size": "10"}
    h = Harness([coarse], risk_checks=[LotTickCheck(), MinOrderSize(sl(("strategy", 20 * U, "S")), sl(("portfolio", money(100))))])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 1:
            s.saved["tick"] = s.submit_order(Order("x1", "S", A, BUY, OrderType.LIMIT, 10, 0, price=10_001))
            s.saved["lot"] = s.submit_order(Order("x2", "S", A, BUY, OrderType.LIMIT, 15, 0, price=10_000))
            s.saved["small"] = s.submit_order(s.f.limit(A, BUY, 10, "100.00"))
            s.saved["ok"] = s.submit_order(s.f.limit(A, BUY, 20, "100.00"))

    s = run(h, script)
    assert "price 100.01 is off the tick grid" in denied_reason(s, s.saved["tick"])
    assert "quantity 15 is off the lot grid 10" in denied_reason(s, s.saved["lot"])
    assert "below the strategy S minimum 20" in denied_reason(s, s.saved["small"])
    assert s.saved["ok"] in h.sent
    assert h.engine.risk.denials == Counter({"lot_tick": 2, "min_order_size": 1})


def test_reference_collar_denies_stale_and_missing_references() -> None:
    collar = ReferenceCollar(sl(("portfolio", 100)), reference="last", max_age_ns=90 * 10**9)
    h = Harness([EQUITY, EQUITY_B], risk_checks=[collar])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:  # B has no data yet
            s.saved["missing"] = s.submit_order(s.f.limit(B, BUY, 1, "100.00"))
            s.saved["in"] = s.submit_order(s.f.limit(A, BUY, 1, "101.00"))
            s.saved["out"] = s.submit_order(s.f.limit(A, BUY, 1, "102.05"))
        if i == 3:  # A's last price is 3 minutes old (data of A stopped)
            s.saved["stale"] = s.submit_order(s.f.limit(A, BUY, 1, "101.00"))

    s = h.strategy(script, instruments=[A, B])
    h.bars([HIGH], A)
    h.bars([HIGH] * 4, B, start=h.bar_ts(0) + 1)
    h.run()
    assert "no last reference price" in denied_reason(s, s.saved["missing"])
    assert s.saved["in"] in h.sent
    assert "outside the portfolio 100 bps collar around the last 101.00" in denied_reason(s, s.saved["out"])
    assert "stale" in denied_reason(s, s.saved["stale"])


def test_position_limit_counts_open_orders_as_if_filled() -> None:
    pl = PositionLimit(long=sl(("instrument", 100 * U, A)), short=sl(("strategy", 20 * U, "S")), absolute=NONE)
    h = Harness(risk_checks=[pl])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["rest"] = s.submit_order(s.f.limit(A, BUY, 60, "99.00"))  # rests: HIGH never trades at 99
            s.saved["over"] = s.submit_order(s.f.limit(A, BUY, 41, "99.00"))
            s.saved["fits"] = s.submit_order(s.f.limit(A, BUY, 40, "99.00"))
            s.saved["short_ok"] = s.submit_order(s.f.limit(A, SELL, 20, "150.00"))
            s.saved["short_big"] = s.submit_order(s.f.limit(A, SELL, 1, "150.00"))

    s = run(h, script)
    assert "long position would reach 101 with open orders, over the instrument AAA.SIM limit 100" in denied_reason(
        s, s.saved["over"])
    assert s.saved["fits"] in h.sent and s.saved["short_ok"] in h.sent
    assert "short position would reach 21" in denied_reason(s, s.saved["short_big"])


def test_exposure_and_concentration() -> None:
    ex = ExposureLimit(gross=sl(("sector", money(15_000), "tech")), net=sl(("strategy", money(35_000), "S")))
    h = Harness([EQUITY, EQUITY_B], cash=100_000, risk_checks=[ex, ConcentrationLimit(sl(("instrument", 2_000)))])
    h.engine.risk.state.sectors.update({A: "tech", B: "energy"})

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 2:
            s.saved["a1"] = s.submit_order(s.f.market(A, BUY, 100))  # ~10,100 gross in tech
            s.saved["a2"] = s.submit_order(s.f.market(A, BUY, 50))  # tech 15,150 > 15,000
            s.saved["b1"] = s.submit_order(s.f.market(B, BUY, 250))  # net 35,350 > 35,000
            s.saved["b2"] = s.submit_order(s.f.market(B, BUY, 140))  # net 24,240: ok
            s.saved["b3"] = s.submit_order(s.f.market(B, BUY, 60))  # B alone 20,200 > 20% of equity
        if i == 6:  # A's second bar after the fill: the position exists, a cut always passes
            s.saved["a_sell"] = s.submit_order(s.f.market(A, SELL, 50))

    s = h.strategy(script, instruments=[A, B])
    h.bars([HIGH] * 4, A)
    h.bars([HIGH] * 4, B)
    h.run()
    assert s.saved["a1"].status is OrderStatus.FILLED
    assert "gross exposure would reach 15150.000000000, over the sector tech limit 15000" in denied_reason(s, s.saved["a2"])
    assert "net exposure would reach 35350" in denied_reason(s, s.saved["b1"])
    assert s.saved["b2"] in h.sent
    assert "instrument BBB.SIM would be" in denied_reason(s, s.saved["b3"])
    assert s.saved["a_sell"] in h.sent


def test_daily_loss_and_drawdown_block_new_risk_but_not_reductions() -> None:
    ll = LossLimit(daily=sl(("strategy", money(150), "S")), drawdown=NONE, rolling=NONE)
    h = Harness(risk_checks=[ll])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 100))
        if i == 3:
            s.saved["add"] = s.submit_order(s.f.market(A, BUY, 1))
            s.saved["cut"] = s.submit_order(s.f.market(A, SELL, 10))

    s = run(h, script, rows=[QUIET, QUIET, (100, 100, 98, 98), (98, 98, 98, 98), QUIET])
    assert "daily loss 200.000000000 of strategy S is over the limit 150" in denied_reason(s, s.saved["add"])
    assert s.saved["cut"].status is OrderStatus.FILLED


def test_order_rate_throttle_and_max_open_orders() -> None:
    th = Throttle(sl(("venue", 3, "SIM")), window_ns=MINUTE)
    h = Harness(risk_checks=[th, MaxOpenOrders(sl(("strategy", 4, "S")))])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i in (0, 1):
            s.saved[f"o{i}"] = [s.submit_order(s.f.limit(A, BUY, 1 + k, "90.00")) for k in range(4)]

    s = run(h, script)
    first, second = s.saved["o0"], s.saved["o1"]
    assert [o in h.sent for o in first] == [True, True, True, False]
    assert "3 orders in the last 60 s for venue SIM, limit 3" in denied_reason(s, first[3])
    # a minute later the window has room again, but the strategy has 3 open orders, limit 4
    assert [o in h.sent for o in second] == [True, False, False, False]
    assert "4 open orders for strategy S, limit 4" in denied_reason(s, second[1])
    assert h.engine.risk.denials == Counter({"order_rate_60s": 1, "max_open_orders": 3})


def test_duplicates_restricted_and_self_trade() -> None:
    rl = RestrictedList(restricted={B})
    h = Harness([EQUITY, EQUITY_B], risk_checks=[rl, DuplicateOrderCheck(30 * 10**9), SelfTradeCheck()])

    def s1(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["first"] = s.submit_order(s.f.limit(A, SELL, 5, "105.00"))
            s.saved["dup"] = s.submit_order(s.f.limit(A, SELL, 5, "105.00"))
            s.saved["other"] = s.submit_order(s.f.limit(A, SELL, 6, "105.00"))
            s.saved["restricted"] = s.submit_order(s.f.market(B, BUY, 1))

    def s2(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["cross"] = s.submit_order(s.f.limit(A, BUY, 1, "105.00"))
            s.saved["market"] = s.submit_order(s.f.market(A, BUY, 1))
            s.saved["below"] = s.submit_order(s.f.limit(A, BUY, 1, "104.99"))

    a = h.strategy(s1, strategy_id="S1", instruments=[A])
    b = h.strategy(s2, strategy_id="S2", instruments=[A])
    h.bars([QUIET] * 3, A)
    h.run()
    assert "same instrument, side, price and size as an order 0 s ago" in denied_reason(a, a.saved["dup"])
    assert a.saved["other"] in h.sent
    assert "BBB.SIM is on the restricted list" in denied_reason(a, a.saved["restricted"])
    assert "would trade against S1-1 of strategy S1" in denied_reason(b, b.saved["cross"])
    assert "would trade against" in denied_reason(b, b.saved["market"])
    assert b.saved["below"] in h.sent


def test_max_adv_pct_uses_completed_days() -> None:
    day = 86_400 * 10**9
    h = Harness(risk_checks=[MaxAdvPct(sl(("portfolio", 1_000)))])  # 10% of ADV

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["no_adv"] = s.submit_order(s.f.market(A, BUY, 1))
        if i == 2:
            s.saved["big"] = s.submit_order(s.f.market(A, BUY, 101))
            s.saved["ok"] = s.submit_order(s.f.market(A, BUY, 100))

    s = h.strategy(script)
    h.bars([QUIET] * 4, step=day)
    h.run()
    assert "no average daily volume" in denied_reason(s, s.saved["no_adv"])
    assert "more than 10% (portfolio) of the average daily volume 1000" in denied_reason(s, s.saved["big"])
    assert s.saved["ok"] in h.sent
