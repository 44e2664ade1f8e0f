"""Property tests: whatever a strategy does, no order or modify reaches a venue without an accepted
risk decision, and configured position and open-order limits hold at every moment, in-flight orders
included (they are counted as if filled)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.execution._harness import EQUITY, EQUITY_B, Harness, Scripted
from tradeforge.model.enums import OrderSide
from tradeforge.model.orders import Order
from tradeforge.risk.checks_flow import MaxOpenOrders
from tradeforge.risk.checks_limits import PositionLimit
from tradeforge.risk.scope import Limit, ScopedLimits

pytestmark = pytest.mark.usefixtures("risk_path")

IDS = ("AAA.SIM", "BBB.SIM")
POS_LIMIT = 50
OPEN_LIMIT = 4

action = st.one_of(
    st.tuples(st.just("market"), st.sampled_from(IDS), st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
              st.integers(1, 30)),
    st.tuples(st.just("limit"), st.sampled_from(IDS), st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
              st.integers(1, 30), st.integers(-300, 300)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("modify"), st.integers(0, 10), st.integers(1, 40)),
    st.tuples(st.just("halt"), st.sampled_from(["strategy", "instrument"]), st.booleans()),
)
closes = st.lists(st.integers(9_000, 11_000), min_size=4, max_size=10)  # cents


def _run(script: list[list[tuple[Any, ...]]], prices: list[int]) -> tuple[Harness, Scripted, list[str], Counter[str]]:
    pos = PositionLimit(ScopedLimits([]), ScopedLimits([]), ScopedLimits([Limit("instrument", POS_LIMIT * 10**9)]))
    h = Harness([EQUITY, EQUITY_B], risk_checks=[pos, MaxOpenOrders(ScopedLimits([Limit("strategy", OPEN_LIMIT)]))])
    modified: list[str] = []
    venue_modify = h.venue.modify

    def spy_modify(order: Order, *a: Any) -> None:
        modified.append(order.client_order_id)
        venue_modify(order, *a)

    h.venue.modify = spy_modify  # type: ignore[method-assign]
    violations: Counter[str] = Counter()

    def check_limits() -> None:
        pf = h.engine.portfolio
        for iid in IDS:
            if abs(pf.net_quantity(iid)) > POS_LIMIT:
                violations["position"] += 1
        if len(h.engine.execution.open_orders("S")) > OPEN_LIMIT:
            violations["open_orders"] += 1

    def step(s: Scripted, i: int, bar: Any) -> None:
        check_limits()
        if i % 2 or i // 2 >= len(script):
            return
        for act in script[i // 2]:
            opens = h.engine.execution.open_orders("S")
            kind = act[0]
            if kind == "market":
                s.submit_order(s.f.market(act[1], act[2], act[3]))
            elif kind == "limit":
                px = max(1, bar.close + act[4])
                s.submit_order(s.f.limit(act[1], act[2], act[3], f"{px / 100:.2f}"))
            elif kind == "cancel" and opens:
                s.cancel_order(opens[act[1] % len(opens)])
            elif kind == "modify" and opens:
                o = opens[act[1] % len(opens)]
                if o.status.value in ("ACCEPTED", "SUBMITTED"):
                    s.modify_order(o, quantity=o.filled_qty + act[2])
            elif kind == "halt":
                scope, key = act[1], ("S" if act[1] == "strategy" else IDS[0])
                risk = h.engine.risk
                if act[2]:
                    risk.kill(scope, key, who="prop-test", why="random")
                else:
                    risk.resume(scope, key, who="prop-test", why="random")
        check_limits()

    s = h.strategy(step, instruments=list(IDS))
    for iid in IDS:
        h.bars([(c / 100, (c + 60) / 100, (c - 60) / 100, c / 100, 1_000) for c in prices], iid)
    h.run()
    check_limits()
    return h, s, modified, violations


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(action, max_size=6), min_size=1, max_size=5), closes)
def test_nothing_reaches_a_venue_without_an_accepted_decision_and_limits_hold(
    script: list[list[tuple[Any, ...]]], prices: list[int],
) -> None:
    h, _s, modified, violations = _run(script, prices)
    accepted = Counter(r.order for r in h.engine.risk.audit.records() if r.kind == "accepted")
    sent = Counter(o.client_order_id for o in h.sent)
    # every venue submit and every venue modify had its own accepted decision
    for coid in set(sent) | set(modified):
        assert accepted[coid] >= sent[coid] + modified.count(coid), coid
    assert sum(accepted.values()) == h.engine.risk.passed
    assert not violations, violations
