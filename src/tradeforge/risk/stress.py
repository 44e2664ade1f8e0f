"""Stress scenarios and maintenance margin, valued on the risk books (money raw).

A :class:`StressScenario` shocks prices by a return per instrument id, else per sector, else by its
``"*"`` shock (0 without one); its P&L is each position's value at mark times its shock
(:func:`tradeforge.risk.var.stress`). Maintenance margin is the margin a margined position must keep
at mark (``Instrument.margin_maint_bps``); equity below it is a margin call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tradeforge.model.fixed import MONEY_SCALE
from tradeforge.risk.state import RiskState
from tradeforge.risk.var import stress


@dataclass(frozen=True, slots=True)
class StressScenario:
    """A named set of shocks: returns (``-0.2`` = prices fall 20 %) by instrument id, sector or ``"*"``."""

    name: str
    shocks: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, s in self.shocks.items():
            if not -1.0 <= s <= 10.0:
                raise ValueError(f"stress scenario {self.name!r}: shock {key!r} = {s} is not a return in [-1, 10]")


def position_values(state: RiskState) -> dict[str, float]:
    """Each held instrument's position value at mark (qty x mark x multiplier, money units)."""
    out: dict[str, float] = {}
    for iid, ir in state.inst.items():
        q = ir.total.qty
        if q and ir.mark is not None:
            out[iid] = q * ir.mark * ir.factor / MONEY_SCALE
    return out


def scenario_pnl(state: RiskState, scenario: StressScenario) -> int:
    """P&L of ``scenario`` on the current positions (money raw; negative is a loss)."""
    sectors = {iid: ir.sector for iid, ir in state.inst.items()}
    return round(stress(position_values(state), scenario.shocks, sectors) * MONEY_SCALE)


def maintenance_margin(state: RiskState) -> int:
    """Maintenance margin of all margined positions at mark (money raw)."""
    total = 0
    for ir in state.inst.values():
        q = ir.total.qty
        if q and not ir.cash_settled and ir.mark is not None:
            bps = ir.inst.margin_maint_bps or 0
            notional = q * ir.mark * ir.factor
            total += (notional if notional > 0 else -notional) * bps // 10_000
    return total
