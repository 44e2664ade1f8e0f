"""Portfolio VaR on a schedule: marks sampled every period, VaR/ES recomputed and published.

Every ``interval_ns`` of engine time the monitor closes one period of returns from the risk books'
marks (instruments seen so far; one fixed list from the first sample on), then values the current
exposures with historical, parametric (EWMA) and Monte Carlo (seeded) VaR, values the configured
stress scenarios and the margins, and publishes a :class:`~tradeforge.risk.events.RiskReport` on
``events.risk.report``. :meth:`VarMonitor.report` computes one on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tradeforge.core.clock import TimeEvent
from tradeforge.model.fixed import MONEY_SCALE
from tradeforge.risk.events import RiskReport
from tradeforge.risk.state import RiskState
from tradeforge.risk.stress import StressScenario, maintenance_margin, scenario_pnl
from tradeforge.risk.var import ReturnHistory, ewma_factor, historical_var, monte_carlo_var, parametric_var


class VarMonitor:
    def __init__(
        self, state: RiskState, equity: Callable[[], int], alpha: float = 0.99, window: int = 250,
        lam: float = 0.94, mc_paths: int = 1000, seed: int = 0, min_periods: int = 20,
        scenarios: Sequence[StressScenario] = (),
    ) -> None:
        self.state = state
        self.equity = equity
        self.alpha = alpha
        self.window = window
        self.lam = lam
        self.mc_paths = mc_paths
        self.seed = seed
        self.min_periods = min_periods
        self.scenarios = list(scenarios)
        self.history: ReturnHistory | None = None
        self.reports: list[RiskReport] = []
        self._runs = 0

    def sample(self) -> None:
        """Close one period of returns at the current marks."""
        if self.history is None:
            ids = sorted(i for i, ir in self.state.inst.items() if ir.mark is not None)
            if not ids:
                return
            self.history = ReturnHistory(ids, self.window)
        inst = self.state.inst
        marks = [inst[i].mark for i in self.history.instruments]
        self.history.update(np.array([np.nan if m is None else float(m) for m in marks]))

    def exposures(self) -> np.ndarray:
        assert self.history is not None
        inst = self.state.inst
        out = np.zeros(len(self.history.instruments))
        for k, iid in enumerate(self.history.instruments):
            ir = inst[iid]
            if ir.total.qty and ir.mark is not None:
                out[k] = ir.total.qty * ir.mark * ir.factor / MONEY_SCALE
        return out

    def report(self, now_ns: int) -> RiskReport:
        """P&L, exposure and (with enough history) VaR/ES by method, in account currency units."""
        p = self.state.portfolio
        var: dict[str, float] = {}
        es: dict[str, float] = {}
        r = self.history.returns() if self.history is not None else np.zeros((0, 0))
        if len(r) >= self.min_periods:
            w = self.exposures()
            a = ewma_factor(r, self.lam)
            self._runs += 1
            for res in (historical_var(r, w, self.alpha), parametric_var(w, alpha=self.alpha, factor=a),
                        monte_carlo_var(w, alpha=self.alpha, n=self.mc_paths, seed=self.seed + self._runs, factor=a)):
                var[res.method] = round(res.var, 2) + 0.0  # no -0.0
                es[res.method] = round(res.es, 2) + 0.0
        stress = {s.name: scenario_pnl(self.state, s) / MONEY_SCALE for s in self.scenarios}
        rep = RiskReport(now_ns, self.equity(), p.cash_flow + p.net - p.day_start, p.gross, p.net, var, es, stress,
                         self.state.margin_used, maintenance_margin(self.state))
        self.reports.append(rep)
        return rep

    def on_timer(self, event: TimeEvent, publish: Callable[[RiskReport], None]) -> None:
        self.sample()
        publish(self.report(event.ts_event))
