"""The risk gate through the engine: every denial is an ``OrderDenied`` with the check's reason, is
counted per check, and the venue never sees the order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tests.execution._harness import EQUITY, EQUITY_B, FUTURE, Harness, Scripted, money
from tradeforge.model.enums import OrderSide, OrderStatus, TradingState
from tradeforge.model.events import OrderAccepted, OrderDenied, OrderFilled
from tradeforge.model.orders import Order
from tradeforge.risk.checks import BuyingPower, MaxOrderNotional, MaxOrderQuantity, PriceCollar, RiskCheck

pytestmark = pytest.mark.usefixtures("risk_path")

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A, B = "AAA.SIM", "BBB.SIM"
QUIET = (100, 100.5, 99.5, 100)
HIGH = (101, 101.5, 100.5, 101)  # never trades down to 100


def _assert_denied(h: Harness, s: Scripted, order: Order, check: str, text: str = "") -> None:
    assert order.status is OrderStatus.DENIED
    (d,) = s.of(OrderDenied, order.client_order_id)
    assert d.reason.startswith(f"{check}: "), d.reason
    assert text in d.reason
    assert order not in h.sent
    assert not s.of(OrderAccepted, order.client_order_id)
    assert s.kinds_for(order.client_order_id) == ["OrderDenied"]


def _assert_passed(h: Harness, order: Order) -> None:
    assert order.status is not OrderStatus.DENIED
    assert order in h.sent


Make = Callable[[Scripted], Order]


@pytest.mark.parametrize(("checks", "state", "make", "name", "text"), [
    ([], TradingState.HALTED, lambda s: s.f.market(A, BUY, 10), "trading_state", "trading is halted"),
    ([], TradingState.ACTIVE, lambda s: s.f.market(A, SELL, 10, reduce_only=True), "reduce_only",
     "would increase the position"),
    ([MaxOrderQuantity(5 * 10**9, {})], TradingState.ACTIVE, lambda s: s.f.market(A, BUY, 10),
     "max_order_quantity", "quantity 10 exceeds max 5"),
    ([MaxOrderNotional(money(500), {})], TradingState.ACTIVE, lambda s: s.f.market(A, BUY, 10),
     "max_order_notional", "notional 1000.000000000 exceeds max 500.000000000"),
    ([PriceCollar(100)], TradingState.ACTIVE, lambda s: s.f.limit(A, BUY, 10, "102.00"),
     "price_collar", "price 102.00 is outside the 100 bps collar around 100.00"),
    ([PriceCollar(100)], TradingState.ACTIVE, lambda s: s.f.stop_market(A, SELL, 10, "98.99"),
     "price_collar", "trigger price 98.99"),
    ([BuyingPower()], TradingState.ACTIVE, lambda s: s.f.market(A, BUY, 10), "buying_power",
     "insufficient buying power: needs 1010.000000000, available 500.000000000"),
])
def test_each_check_denies_with_reason_and_venue_never_sees_it(
    checks: list[RiskCheck], state: TradingState, make: Make, name: str, text: str
) -> None:
    h = Harness(cash=500, risk_checks=checks, trading_state=state)
    s = h.strategy({0: lambda s, _b: s.saved.__setitem__("o", s.submit_order(make(s)))})
    h.bars([QUIET, QUIET, (100, 110, 90, 100)])
    h.run()
    _assert_denied(h, s, s.saved["o"], name, text)
    assert h.sent == []
    assert h.engine.risk.denials == Counter({name: 1})
    assert h.engine.risk.passed == 0
    assert not s.of(OrderFilled)
    assert h.engine.portfolio.cash == money(500)


@pytest.mark.parametrize(("check", "text"), [
    (PriceCollar(100), "no reference price (no market data seen yet)"),
    (MaxOrderNotional(money(10**6), {}), "no reference price to value the order"),
    (BuyingPower(), "no reference price to value the order"),
])
def test_checks_needing_a_reference_price_deny_without_one(check: RiskCheck, text: str) -> None:
    h = Harness(risk_checks=[check])
    # submitted from on_start: no market data has been seen yet
    s = h.strategy(start=lambda s: s.saved.__setitem__("o", s.submit_order(s.f.market(A, BUY, 10))))
    h.bars([QUIET, QUIET])
    h.run()
    _assert_denied(h, s, s.saved["o"], check.name, text)
    assert h.engine.risk.denials == Counter({check.name: 1})


def test_price_collar_passes_inside_the_band() -> None:
    h = Harness(risk_checks=[PriceCollar(100)])
    s = h.strategy({0: lambda s, _b: (
        s.saved.__setitem__("in", s.submit_order(s.f.limit(A, BUY, 10, "101.00"))),  # exactly 100 bps
        s.saved.__setitem__("out", s.submit_order(s.f.limit(A, SELL, 10, "98.99"))),
    )})
    h.bars([QUIET, HIGH])
    h.run()
    _assert_passed(h, s.saved["in"])
    _assert_denied(h, s, s.saved["out"], "price_collar")


def test_halted_denies_everything_even_reducing_orders() -> None:
    h = Harness()

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 10))
        elif i == 2:
            h.engine.risk.set_trading_state(TradingState.HALTED)
            s.saved["reduce"] = s.submit_order(s.f.market(A, SELL, 5))
            s.saved["close"] = s.close_position(A)
            s.saved["add"] = s.submit_order(s.f.limit(A, BUY, 1, "99.00"))

    s = h.strategy(script)
    h.bars([QUIET] * 4)
    h.run()
    for name in ("reduce", "close", "add"):
        _assert_denied(h, s, s.saved[name], "trading_state", "halted")
    assert h.engine.risk.denials == Counter({"trading_state": 3})
    assert h.engine.portfolio.net_quantity(A) == 10


def test_reducing_lets_only_reducing_orders_through() -> None:
    h = Harness()

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 10))
        elif i == 2:
            h.engine.risk.set_trading_state(TradingState.REDUCING)
            s.saved["add"] = s.submit_order(s.f.market(A, BUY, 1))
            s.saved["flip"] = s.submit_order(s.f.market(A, SELL, 15))
            s.saved["cut"] = s.submit_order(s.f.market(A, SELL, 4))
        elif i == 3:
            s.saved["rest"] = s.submit_order(s.f.market(A, SELL, 6))
        elif i == 4:
            s.saved["short"] = s.submit_order(s.f.market(A, SELL, 1))

    s = h.strategy(script)
    h.bars([QUIET] * 6)
    h.run()
    for name in ("add", "flip", "short"):
        _assert_denied(h, s, s.saved[name], "trading_state", "REDUCING")
    for name in ("cut", "rest"):
        assert s.saved[name].status is OrderStatus.FILLED
    assert h.engine.portfolio.net_quantity(A) == 0
    assert h.engine.risk.denials == Counter({"trading_state": 3})


def test_buying_power_reserves_cash_for_open_orders() -> None:
    h = Harness(cash=10_000, risk_checks=[BuyingPower()])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["first"] = s.submit_order(s.f.limit(A, BUY, 60, "100.00"))  # reserves 6000
            s.saved["second"] = s.submit_order(s.f.limit(A, BUY, 50, "100.00"))  # 5000 > 4000 left
            s.saved["fits"] = s.submit_order(s.f.limit(A, BUY, 40, "100.00"))  # exactly the 4000 left
            s.saved["one_more"] = s.submit_order(s.f.limit(A, BUY, 1, "100.00"))
            s.saved["sell"] = s.submit_order(s.f.limit(A, SELL, 1, "150.00"))  # short sale
        elif i == 1:
            s.cancel_order(s.saved["first"])
            s.saved["after_cancel"] = s.submit_order(s.f.limit(A, BUY, 50, "100.00"))

    s = h.strategy(script)
    h.bars([HIGH, HIGH, HIGH])
    h.run()
    _assert_passed(h, s.saved["first"])
    _assert_denied(h, s, s.saved["second"], "buying_power", "needs 5000.000000000, available 4000.000000000")
    _assert_passed(h, s.saved["fits"])
    _assert_denied(h, s, s.saved["one_more"], "buying_power", "available 0.000000000")
    _assert_denied(h, s, s.saved["sell"], "buying_power", "short sale")
    _assert_passed(h, s.saved["after_cancel"])
    assert h.engine.risk.denials == Counter({"buying_power": 3})


def test_buying_power_values_market_orders_with_a_buffer() -> None:
    h = Harness(cash=10_000, risk_checks=[BuyingPower(market_buffer_bps=100)])
    s = h.strategy({
        0: lambda s, _b: s.saved.__setitem__("big", s.submit_order(s.f.market(A, BUY, 100))),  # 100 * 101 > 10000
        1: lambda s, _b: s.saved.__setitem__("ok", s.submit_order(s.f.market(A, BUY, 99))),  # 99 * 101 = 9999
    })
    h.bars([QUIET, QUIET, QUIET])
    h.run()
    _assert_denied(h, s, s.saved["big"], "buying_power", "needs 10100.000000000")
    assert s.saved["ok"].status is OrderStatus.FILLED


def test_cash_account_short_sale_of_equity_is_denied_but_selling_a_holding_is_not() -> None:
    h = Harness(risk_checks=[BuyingPower()])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["naked"] = s.submit_order(s.f.market(A, SELL, 10))
            s.submit_order(s.f.market(A, BUY, 10))
        elif i == 2:
            s.saved["too_much"] = s.submit_order(s.f.market(A, SELL, 15))
            s.saved["holding"] = s.submit_order(s.f.market(A, SELL, 10))

    s = h.strategy(script)
    h.bars([QUIET] * 4)
    h.run()
    _assert_denied(h, s, s.saved["naked"], "buying_power", "short sale of a cash-settled instrument")
    _assert_denied(h, s, s.saved["too_much"], "buying_power", "short sale")
    assert s.saved["holding"].status is OrderStatus.FILLED
    assert h.engine.portfolio.net_quantity(A) == 0


def test_buying_power_allows_shorting_margined_futures_within_margin() -> None:
    # 1.10000 * 125000 * 1.01 (buffer) * 5% margin = 6943.75 per contract
    h = Harness([FUTURE], cash=100_000, risk_checks=[BuyingPower()])
    fut = FUTURE["id"]
    s = h.strategy({0: lambda s, _b: (
        s.saved.__setitem__("big", s.submit_order(s.f.market(fut, SELL, 15))),  # 104156.25
        s.saved.__setitem__("ok", s.submit_order(s.f.market(fut, SELL, 14))),  # 97212.50
    )}, instruments=[fut])
    h.bars([(1.1, 1.1001, 1.0999, 1.1)] * 3, fut)
    h.run()
    _assert_denied(h, s, s.saved["big"], "buying_power", "needs 104156.250000000")
    assert s.saved["ok"].status is OrderStatus.FILLED
    assert h.engine.portfolio.net_quantity(fut) == -14


def _two_instrument_run(check: RiskCheck, orders: dict[str, tuple[str, int]]) -> tuple[Harness, Scripted]:
    h = Harness([EQUITY, EQUITY_B], risk_checks=[check])

    def step(s: Scripted, _b: object) -> None:
        for name, (iid, qty) in orders.items():
            s.saved[name] = s.submit_order(s.f.limit(iid, BUY, qty, "100.00"))

    s = h.strategy({1: step}, instruments=[A, B])  # index 1: both instruments have a first bar
    h.bars([HIGH, HIGH], A)
    h.bars([HIGH, HIGH], B)
    h.run()
    return h, s


def test_max_quantity_per_instrument_overrides_default() -> None:
    h, s = _two_instrument_run(
        MaxOrderQuantity(100 * 10**9, {B: 10 * 10**9}),
        {"a_ok": (A, 100), "a_big": (A, 101), "b_ok": (B, 10), "b_big": (B, 11)},
    )
    _assert_passed(h, s.saved["a_ok"])
    _assert_passed(h, s.saved["b_ok"])
    _assert_denied(h, s, s.saved["a_big"], "max_order_quantity", "quantity 101 exceeds max 100")
    _assert_denied(h, s, s.saved["b_big"], "max_order_quantity", "quantity 11 exceeds max 10")
    assert h.engine.risk.denials == Counter({"max_order_quantity": 2})
    assert h.engine.risk.passed == 2


def test_max_quantity_with_fractional_sizes() -> None:
    crypto = {"id": "BTCUSD.SIM", "kind": "crypto_spot", "currency": "USD", "tick_size": "0.01",
              "lot_size": "0.0001"}
    h = Harness([crypto], risk_checks=[MaxOrderQuantity(None, {"BTCUSD.SIM": 1_500_000_000})])  # 1.5 BTC
    s = h.strategy({0: lambda s, _b: (
        s.saved.__setitem__("ok", s.submit_order(s.f.market("BTCUSD.SIM", BUY, "1.5"))),
        s.saved.__setitem__("big", s.submit_order(s.f.market("BTCUSD.SIM", BUY, "1.5001"))),
    )}, instruments=["BTCUSD.SIM"])
    h.bars([QUIET, QUIET], "BTCUSD.SIM")
    h.run()
    assert s.saved["ok"].status is OrderStatus.FILLED
    _assert_denied(h, s, s.saved["big"], "max_order_quantity", "quantity 1.5001 exceeds max 1.5")


def test_max_notional_per_instrument_overrides_default() -> None:
    h, s = _two_instrument_run(
        MaxOrderNotional(money(10_000), {B: money(1_000)}),
        {"a_ok": (A, 100), "a_big": (A, 101), "b_ok": (B, 10), "b_big": (B, 11)},
    )
    _assert_passed(h, s.saved["a_ok"])
    _assert_passed(h, s.saved["b_ok"])
    _assert_denied(h, s, s.saved["a_big"], "max_order_notional", "notional 10100.000000000")
    _assert_denied(h, s, s.saved["b_big"], "max_order_notional", "exceeds max 1000.000000000")
    assert h.engine.risk.denials == Counter({"max_order_notional": 2})


def test_modify_passes_the_risk_gate_again() -> None:
    h = Harness(risk_checks=[MaxOrderQuantity(50 * 10**9, {})])
    s = h.strategy({
        0: lambda s, _b: s.saved.__setitem__("o", s.submit_order(s.f.limit(A, BUY, 10, "99.00"))),
        1: lambda s, _b: s.modify_order(s.saved["o"], quantity=60),
    })
    h.bars([QUIET, QUIET, QUIET])
    h.run()
    o = s.saved["o"]
    assert o.quantity == 10 and o.status is OrderStatus.ACCEPTED
    (err,) = h.errors
    assert err.source == "risk" and "max_order_quantity" in err.message
    assert h.engine.risk.denials == Counter({"max_order_quantity": 1})
    assert "OrderPendingUpdate" not in s.kinds_for(o.client_order_id)
