"""The risk gate: every order passes here before any venue sees it.

The execution engine calls :meth:`RiskEngine.check` for each new order and each modify; there is no
other way to a venue. Checks are plug-ins (see :mod:`tradeforge.risk.checks`); denials are counted
per check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from tradeforge.model.enums import TradingState
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.portfolio.portfolio import Portfolio
from tradeforge.risk.checks import ReduceOnlyCheck, RiskCheck, RiskContext, TradingStateCheck


class RiskEngine:
    """Runs the configured checks in order; the first denial wins."""

    def __init__(
        self,
        portfolio: Portfolio,
        instruments: Callable[[str], Instrument],
        checks: Iterable[RiskCheck] = (),
        trading_state: TradingState = TradingState.ACTIVE,
    ) -> None:
        self.portfolio = portfolio
        self._instruments = instruments
        self.checks: list[RiskCheck] = [TradingStateCheck(), ReduceOnlyCheck(), *checks]
        self.trading_state = trading_state
        self.denials: Counter[str] = Counter()
        self.passed = 0

    def add_check(self, check: RiskCheck) -> None:
        self.checks.append(check)

    def set_trading_state(self, state: TradingState) -> None:
        self.trading_state = state

    def increasing_quantity(self, order: Order) -> int:
        """How much of ``order`` would increase the absolute net position if it filled."""
        net = self.portfolio.net_quantity(order.instrument_id)
        signed = int(order.side) * order.leaves_qty
        if net == 0 or (net > 0) == (signed > 0):
            return abs(signed)
        return max(0, abs(signed) - abs(net))

    def check(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int) -> str | None:
        """``None`` if the order may go to its venue, else the denial reason ("check: why")."""
        ctx = RiskContext(
            instrument=self._instruments(order.instrument_id),
            instruments=self._instruments,
            portfolio=self.portfolio,
            open_orders=open_orders,
            trading_state=self.trading_state,
            now_ns=now_ns,
            increasing_qty=self.increasing_quantity(order),
        )
        for check in self.checks:
            reason = check.check(order, ctx)
            if reason is not None:
                self.denials[check.name] += 1
                return f"{check.name}: {reason}"
        self.passed += 1
        return None
