"""Post-trade monitoring: limits watched on every timestamp, and what to do when one is breached.

A :class:`Monitor` watches one metric of one scope (a key, or every key of the kind with ``"*"``)
against a limit, with a breach :class:`Action`. A breach fires its action once; it is logged as
cleared when the metric comes back within the limit. ``hard`` is the level at which an orderly
unwind escalates to aggressive orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tradeforge.risk.checks_limits import loss
from tradeforge.risk.scope import ALL, INSTRUMENT, PORTFOLIO
from tradeforge.risk.state import Agg, RiskState


class Action(Enum):
    """What a breach does to its scope."""

    ALERT = "alert"  # audit + risk event only
    REDUCE_ONLY = "reduce_only"  # the scope goes REDUCING: no new risk
    CANCEL = "cancel"  # cancel the scope's open orders
    HALT = "halt"  # the scope goes HALTED (open orders canceled)
    UNWIND = "unwind"  # REDUCING + an orderly de-risking schedule


METRICS = ("daily_loss", "drawdown", "rolling_loss", "gross_exposure", "net_exposure", "concentration", "position")
_LOSS = {"daily_loss": "daily loss", "drawdown": "drawdown", "rolling_loss": "rolling loss"}


@dataclass
class Monitor:
    """``metric`` of scope ``kind``/``key`` over ``limit`` (money raw; bps for concentration; units at
    1e-9 for position) triggers ``action``; over ``hard`` escalates an unwind."""

    metric: str
    kind: str
    limit: int
    action: Action
    key: str = ALL
    hard: int | None = None
    breached: set[str] = field(default_factory=set)
    hard_breached: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r} (one of {list(METRICS)})")

    def targets(self, state: RiskState) -> list[Agg]:
        if self.kind == PORTFOLIO:
            return [state.portfolio]
        if self.key != ALL:
            a = state.agg(self.kind, self.key)
            return [] if a is None else [a]
        return list(state.aggs[self.kind].values())

    def value(self, agg: Agg, state: RiskState, equity: int) -> int:
        m = self.metric
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
