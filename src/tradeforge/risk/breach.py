"""Post-trade monitoring: limits watched on every timestamp, and what to do when one is breached.

A :class:`Monitor` watches one metric of one scope (a key, or every key of the kind with ``"*"``)
against a limit, with a breach :class:`Action`. A breach fires its action once; it is logged as
cleared when the metric comes back within the limit. ``hard`` is the level at which an orderly
unwind escalates to aggressive orders.

Two portfolio metrics value the whole book: ``margin_call`` (maintenance margin minus equity: over a
limit of ``-buffer`` when equity falls within ``buffer`` of the maintenance margin) and
``stress_loss:{scenario}`` (the loss of a :class:`~tradeforge.risk.stress.StressScenario` on the
current positions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tradeforge.risk.checks_limits import loss
from tradeforge.risk.scope import ALL, INSTRUMENT, PORTFOLIO
from tradeforge.risk.state import Agg, RiskState
from tradeforge.risk.stress import StressScenario, maintenance_margin, scenario_pnl


class Action(Enum):
    """What a breach does to its scope."""

    ALERT = "alert"  # audit + risk event only
    REDUCE_ONLY = "reduce_only"  # the scope goes REDUCING: no new risk
    CANCEL = "cancel"  # cancel the scope's open orders
    HALT = "halt"  # the scope goes HALTED (open orders canceled)
    UNWIND = "unwind"  # REDUCING + an orderly de-risking schedule


METRICS = ("daily_loss", "drawdown", "rolling_loss", "gross_exposure", "net_exposure", "concentration", "position",
           "margin_call", "stress_loss")
STRESS_LOSS = "stress_loss"
_LOSS = {"daily_loss": "daily loss", "drawdown": "drawdown", "rolling_loss": "rolling loss"}


@dataclass
class Monitor:
    """``metric`` of scope ``kind``/``key`` over ``limit`` (money raw; bps for concentration; units at
    1e-9 for position) triggers ``action``; over ``hard`` escalates an unwind. A stress-loss monitor
    carries its ``scenario`` and is named ``stress_loss:{scenario name}``."""

    metric: str
    kind: str
    limit: int
    action: Action
    key: str = ALL
    hard: int | None = None
    breached: set[str] = field(default_factory=set)
    hard_breached: set[str] = field(default_factory=set)
    scenario: StressScenario | None = None

    def __post_init__(self) -> None:
        base = self.metric.partition(":")[0]
        if base not in METRICS or (":" in self.metric) != (base == STRESS_LOSS):
            raise ValueError(f"unknown metric {self.metric!r} (one of {list(METRICS)}; stress_loss:{{scenario}})")
        if base == STRESS_LOSS and (self.scenario is None or self.metric != f"{STRESS_LOSS}:{self.scenario.name}"):
            raise ValueError(f"monitor {self.metric!r} needs its stress scenario (named after the colon)")
        if base in ("margin_call", STRESS_LOSS) and self.kind != PORTFOLIO:
            raise ValueError(f"{base} is watched for the portfolio, not per {self.kind}")

    def targets(self, state: RiskState) -> list[Agg]:
        if self.kind == PORTFOLIO:
            return [state.portfolio]
        if self.key != ALL:
            a = state.agg(self.kind, self.key)
            return [] if a is None else [a]
        return list(state.aggs[self.kind].values())

    def value(self, agg: Agg, state: RiskState, equity: int) -> int:
        m = self.metric
        if self.scenario is not None:
            return -scenario_pnl(state, self.scenario)
        if m == "margin_call":
            return maintenance_margin(state) - equity
        if m in _LOSS:
            return loss(agg, _LOSS[m])
        if m == "gross_exposure":
            return agg.gross
        if m == "net_exposure":
            return abs(agg.net)
        if m == "concentration":
            return agg.gross * 10_000 // equity if equity > 0 else 2**62
        if self.kind != INSTRUMENT:
            raise ValueError("the position metric is watched per instrument")
        ir = state.inst[agg.key]
        return abs(ir.total.qty) * 10 ** (9 - ir.inst.size_precision)
