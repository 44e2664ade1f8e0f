"""Stress scenarios (valued in reports, watched with breach actions, configured in TOML) and the
maintenance-margin call."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.execution._harness import EQUITY, EQUITY_B, FUTURE, Harness, Scripted, money
from tradeforge.model.enums import OrderSide
from tradeforge.model.fixed import MONEY_SCALE
from tradeforge.model.instruments import InstrumentError, instrument_from_dict
from tradeforge.risk.breach import Action, Monitor
from tradeforge.risk.config import LimitConfig, StressConfig, build_risk
from tradeforge.risk.events import RiskEvent
from tradeforge.risk.stress import StressScenario, maintenance_margin, position_values, scenario_pnl

BUY, SELL = OrderSide.BUY, OrderSide.SELL
A, B, F = "AAA.SIM", "BBB.SIM", "6EH5.SIM"
QUIET = (100, 100.5, 99.5, 100, 1000)


def _two_stock_book() -> Harness:
    """Long 100 AAA (sector tech) and short 50 BBB (sector energy) at 100."""
    h = Harness([EQUITY, EQUITY_B], cash=1_000_000)
    h.engine.risk.state.sectors.update({A: "tech", B: "energy"})

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(A, BUY, 100))
            s.submit_order(s.f.market(B, SELL, 50))

    h.strategy(script, instruments=[A, B])
    h.bars([QUIET] * 3, A)
    h.bars([QUIET] * 3, B)
    return h


def test_scenario_pnl_takes_the_instrument_then_the_sector_then_the_default_shock() -> None:
    h = _two_stock_book()
    h.run()
    st = h.engine.risk.state
    assert position_values(st) == {A: 10_000.0, B: -5_000.0}
    by_id = StressScenario("by_id", {A: -0.2, "*": 0.5})
    by_sector = StressScenario("by_sector", {"tech": -0.1, "energy": 0.3})
    default = StressScenario("crash", {"*": -0.25})
    assert scenario_pnl(st, by_id) == money(10_000 * -0.2 + -5_000 * 0.5)
    assert scenario_pnl(st, by_sector) == money(10_000 * -0.1 + -5_000 * 0.3)
    assert scenario_pnl(st, default) == money((10_000 - 5_000) * -0.25)
    assert scenario_pnl(st, StressScenario("none", {})) == 0


def test_reports_value_every_scenario_and_the_margins() -> None:
    h = Harness([FUTURE], cash=100_000)
    risk = h.engine.risk
    risk.var.scenarios = [StressScenario("euro_down", {F: -0.05}), StressScenario("euro_up", {"*": 0.02})]

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(F, BUY, 2))

    h.strategy(script, instruments=[F])
    h.bars([(1.1, 1.1005, 1.0995, 1.1, 1000)] * 3, F)
    h.run()
    rep = risk.risk_report()
    value = 2 * 125_000 * 1.1
    assert rep.stress == {"euro_down": pytest.approx(-0.05 * value), "euro_up": pytest.approx(0.02 * value)}
    # FUTURE has 5 % initial margin and, without margin_maint_bps, the same maintenance margin
    assert rep.margin == rep.maintenance_margin == round(value * 0.05 * MONEY_SCALE)


def test_margin_call_fires_when_equity_falls_below_maintenance_margin() -> None:
    spec = {**FUTURE, "margin_init_bps": 1_000, "margin_maint_bps": 800}
    h = Harness([spec], cash=30_000)
    risk = h.engine.risk
    seen: list[RiskEvent] = []
    h.engine.bus.subscribe("events.risk.*", seen.append)
    risk.add_monitor(Monitor("margin_call", "portfolio", 0, Action.REDUCE_ONLY))

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.submit_order(s.f.market(F, BUY, 2))  # 275,000 notional: 27,500 initial, 22,000 maintenance

    h.strategy(script, instruments=[F])
    # each 0.01 fall loses 2 x 125,000 x 0.01 = 2,500; equity 30,000 - loss vs maintenance ~8 % of notional
    closes = [1.1, 1.1, 1.1, 1.09, 1.08, 1.07, 1.06]
    h.bars([(c, round(c + 0.0005, 5), round(c - 0.0005, 5), c, 1000) for c in closes], F)
    h.run()
    breach = [e for e in seen if e.kind == "breach"]
    assert len(breach) == 1 and breach[0].detail.startswith("margin_call ")
    assert risk.breaches["margin_call"] == 1
    assert risk.actions["reduce_only"] == 1
    assert "REDUCING" in risk.states.snapshot().values()
    pf = h.engine.portfolio
    assert maintenance_margin(risk.state) > pf.equity()  # still under water at the end: no second breach


def test_stress_loss_limit_takes_its_action_and_names_the_scenario() -> None:
    h = _two_stock_book()
    risk = h.engine.risk
    crash = StressScenario("tech_crash", {"tech": -0.3})
    risk.add_monitor(Monitor("stress_loss:tech_crash", "portfolio", money(2_000), Action.ALERT, scenario=crash))
    h.run()
    assert risk.breaches["stress_loss:tech_crash"] == 1  # loss 3,000 on the 10,000 long
    assert risk.actions["alert"] == 1


def test_monitor_rejects_a_stress_metric_without_its_scenario() -> None:
    with pytest.raises(ValueError, match="needs its stress scenario"):
        Monitor("stress_loss:x", "portfolio", 1, Action.ALERT)
    with pytest.raises(ValueError, match="unknown metric"):
        Monitor("stress_loss", "portfolio", 1, Action.ALERT, scenario=StressScenario("x"))
    with pytest.raises(ValueError, match="watched for the portfolio"):
        Monitor("margin_call", "strategy", 0, Action.ALERT)


def test_toml_stress_and_margin_call_build_monitors_and_report_scenarios() -> None:
    text = b"""
[[limit]]
type = "margin_call"
value = "5000"
action = "unwind"

[[stress]]
name = "crash"
shocks = { "*" = "-20%", "tech" = "-35%" }
limit = "250000"
action = "reduce_only"

[[stress]]
name = "rally"
shocks = { "AAA.SIM" = 15 }
"""
    raw = msgspec.toml.decode(text, type=dict)
    limits = [msgspec.convert(x, LimitConfig) for x in raw["limit"]]
    stress = [msgspec.convert(x, StressConfig) for x in raw["stress"]]
    _checks, options = build_risk(limits, base=Path("."), stress=stress)
    by_metric = {m.metric: m for m in options["monitors"]}
    assert by_metric["margin_call"].limit == -money(5_000) and by_metric["margin_call"].action is Action.UNWIND
    crash = by_metric["stress_loss:crash"]
    assert crash.limit == money(250_000) and crash.action is Action.REDUCE_ONLY
    assert crash.scenario == StressScenario("crash", {"*": -0.2, "tech": -0.35})
    names = [s.name for s in options["var_options"]["scenarios"]]
    assert names == ["crash", "rally"] and options["var_options"]["scenarios"][1].shocks == {A: 0.15}


@pytest.mark.parametrize(("stress", "message"), [
    ([{"name": "x", "shocks": {"*": "-20"}}], "not a percent"),
    ([{"name": "x", "shocks": {"*": "-2000%"}}], "not a return"),
    ([{"name": "x", "shocks": {}}, {"name": "x", "shocks": {}}], "unique"),
    ([{"name": "x", "shocks": {}, "hard": "1"}], "hard needs a limit"),
])
def test_bad_stress_tables_name_the_scenario_and_field(stress: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_risk([], base=Path("."), stress=[msgspec.convert(x, StressConfig) for x in stress])


def test_margin_call_must_be_a_portfolio_breach_action() -> None:
    deny = LimitConfig(type="margin_call", value="0")
    with pytest.raises(ValueError, match="margin_call"):
        build_risk([deny], base=Path("."))
    with pytest.raises(ValueError, match="margin_call"):
        build_risk([LimitConfig(type="margin_call", value="0", scope="strategy", action="alert")], base=Path("."))


def test_maintenance_margin_defaults_to_initial_and_cannot_exceed_it() -> None:
    inst = instrument_from_dict(dict(FUTURE), "t")
    assert inst.margin_maint_bps == inst.margin_init_bps == 500
    assert instrument_from_dict({**FUTURE, "margin_maint_bps": 400}, "t").margin_maint_bps == 400
    with pytest.raises(InstrumentError, match="margin_maint_bps"):
        instrument_from_dict({**FUTURE, "margin_maint_bps": 600}, "t")
