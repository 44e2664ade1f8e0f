"""Trading states per scope, the kill switch, breach actions, orderly unwind and the audit trail."""

from __future__ import annotations

import pytest

from tests.execution._harness import EQUITY, EQUITY_B, MINUTE, Harness, Scripted, money
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType, TradingState
from tradeforge.model.events import OrderDenied
from tradeforge.risk.audit import AuditLog, read_audit, replay
from tradeforge.risk.breach import Action, Monitor
from tradeforge.risk.events import RiskEvent
from tradeforge.risk.unwind import UNWIND_TAG

pytestmark = pytest.mark.usefixtures("risk_path")

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A, B = "AAA.SIM", "BBB.SIM"
QUIET = (100, 100.5, 99.5, 100, 1000)


def test_halting_a_strategy_cancels_only_its_orders_and_denies_only_it() -> None:
    h = Harness([EQUITY, EQUITY_B])
    seen: list[RiskEvent] = []
    h.engine.bus.subscribe("events.risk.*", seen.append)

    def s1(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["rest"] = s.submit_order(s.f.limit(A, BUY, 5, "90.00"))
        if i == 2:
            h.engine.risk.kill("strategy", "S1", who="alice", why="runaway strategy")
            s.saved["after"] = s.submit_order(s.f.limit(A, BUY, 5, "90.00"))

    def s2(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["rest"] = s.submit_order(s.f.limit(A, BUY, 5, "90.00"))
        if i == 3:
            s.saved["after"] = s.submit_order(s.f.limit(A, BUY, 5, "91.00"))

    a = h.strategy(s1, strategy_id="S1")
    b = h.strategy(s2, strategy_id="S2")
    h.bars([QUIET] * 5)
    h.run()
    assert a.saved["rest"].status is OrderStatus.CANCELED
    assert b.saved["rest"].status is OrderStatus.ACCEPTED
    (d,) = a.of(OrderDenied, a.saved["after"].client_order_id)
    assert d.reason == "trading_state: trading is halted for strategy S1"
    assert b.saved["after"].status is OrderStatus.ACCEPTED
    kinds = [e.kind for e in seen]
    assert "kill" in kinds and "state" in kinds and "denied" in kinds
    kill = next(e for e in seen if e.kind == "kill")
    assert (kill.scope, kill.key, kill.who, kill.why) == ("strategy", "S1", "alice", "runaway strategy")
    assert h.engine.risk.states.snapshot() == {"system": "ACTIVE", "strategy S1": "HALTED"}


def test_kill_switch_needs_who_and_why() -> None:
    h = Harness()
    with pytest.raises(ValueError, match="who and why"):
        h.engine.risk.kill(who="", why="x")


def test_reducing_instrument_scope_and_resume() -> None:
    h = Harness([EQUITY, EQUITY_B])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            h.engine.risk.set_trading_state(TradingState.REDUCING, "instrument", A, who="ops", why="news")
            s.saved["a"] = s.submit_order(s.f.market(A, BUY, 1))
            s.saved["b"] = s.submit_order(s.f.market(B, BUY, 1))
        if i == 2:
            h.engine.risk.resume("instrument", A, who="ops", why="news digested")
            s.saved["a2"] = s.submit_order(s.f.market(A, BUY, 1))

    s = h.strategy(script, instruments=[A])
    h.bars([QUIET] * 4, A)
    h.bars([QUIET] * 4, B)
    h.run()
    (d,) = s.of(OrderDenied, s.saved["a"].client_order_id)
    assert "REDUCING for instrument AAA.SIM" in d.reason
    assert s.saved["b"].status is OrderStatus.FILLED
    assert s.saved["a2"].status is OrderStatus.FILLED


def _unwind_run(hard: int | None, drop_to: float) -> tuple[Harness, Scripted]:
    h = Harness(cash=1_000_000)
    risk = h.engine.risk
    risk.add_monitor(Monitor("daily_loss", "strategy", money(1_000), Action.UNWIND, key="S",
                             hard=None if hard is None else money(hard)))
    risk.unwind_horizon_ns = 10 * MINUTE
    risk.unwind_interval_ns = 2 * MINUTE
    risk.unwind_participation = 0.5

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 1000))
        if i == 4:  # in REDUCING now: new risk is denied
            s.saved["add"] = s.submit_order(s.f.market(A, BUY, 10))

    s = h.strategy(script)
    rows = [QUIET, QUIET, (100, 100, drop_to, drop_to, 1000)]
    rows += [(drop_to, drop_to + 0.5, drop_to - 0.5, drop_to, 1000)] * 20
    h.bars(rows)
    h.run()
    return h, s


def test_loss_breach_unwinds_in_passive_slices_over_the_horizon() -> None:
    h, s = _unwind_run(hard=None, drop_to=98.5)
    risk = h.engine.risk
    (u,) = risk.unwinds.values()
    assert u.done and not u.aggressive
    assert h.engine.portfolio.net_quantity(A) == 0
    sent = [o for o in h.sent if UNWIND_TAG in o.tags]
    assert len(sent) >= 3  # sliced, not dumped at once
    assert all(o.order_type is OrderType.LIMIT and o.reduce_only and o.side is SELL for o in sent)
    assert max(o.quantity for o in sent) <= 500  # participation cap: 50% of a 1000-share bar
    assert "REDUCING" in s.of(OrderDenied, s.saved["add"].client_order_id)[0].reason
    assert risk.breaches["daily_loss"] == 1 and risk.actions["unwind"] == 1
    assert risk.states.get("strategy", "S") is TradingState.REDUCING


def test_hard_limit_escalates_the_unwind_to_market_orders() -> None:
    h, _ = _unwind_run(hard=2_000, drop_to=97.5)
    (u,) = h.engine.risk.unwinds.values()
    assert u.aggressive and u.done
    assert any(o.order_type is OrderType.MARKET for o in u.orders)
    assert h.engine.portfolio.net_quantity(A) == 0


def test_audit_log_is_append_only_jsonl_and_replays_the_states(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    h = Harness([EQUITY, EQUITY_B])
    h.engine.risk.audit = AuditLog(path, flush_every=2)

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 1))
            h.engine.risk.set_trading_state(TradingState.REDUCING, "venue", "SIM", who="ops", why="venue degraded")
            s.submit_order(s.f.market(A, BUY, 1))
            h.engine.risk.kill("account", "default", who="bob", why="margin call")
            h.engine.risk.resume("venue", "SIM", who="ops", why="venue ok")

    h.strategy(script)
    h.bars([QUIET] * 2)
    h.run()
    h.engine.risk.audit.close()
    recs = read_audit(path)
    assert [r.seq for r in recs] == list(range(1, len(recs) + 1))
    assert [r.kind for r in recs][:2] == ["accepted", "state"]
    rep = replay(recs)
    assert rep.states.snapshot() == h.engine.risk.states.snapshot() == {"system": "ACTIVE", "account default": "HALTED"}
    assert rep.accepted == h.engine.risk.passed and rep.denied == h.engine.risk.denials
    kill = next(r for r in recs if r.kind == "kill")
    assert (kill.who, kill.why, kill.ts) == ("bob", "margin call", h.bar_ts(0))


def test_post_trade_checks_run_on_the_fill_not_on_the_next_price() -> None:
    """A fill that breaches a limit is caught right after the OMS has handled it (a clock alert), before
    the next market data reaches anyone -- not only when the next price arrives."""
    h = Harness()
    risk = h.engine.risk
    risk.add_monitor(Monitor("position", "instrument", 5 * 10**9, Action.ALERT, key=A))
    seen_before_next_bar: list[int] = []

    def probe(_bar: object) -> None:  # runs before every other handler of the bar
        seen_before_next_bar.append(risk.breaches["position"])

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 10))  # fills at the next bar's open

    h.strategy(script)
    h.engine.bus.subscribe(f"data.bars.{A}", probe, priority=10_000)
    h.bars([QUIET] * 3)
    h.run()
    # bar 1: the fill happens in the venue's handler, after the probe; bar 2: the breach was already found
    assert seen_before_next_bar == [0, 0, 1]
    assert risk.breaches["position"] == 1
