"""The compiled decision path of :class:`~tradeforge.risk.engine.RiskEngine`.

Per order: two dict lookups (the instrument's books, the order's scope keys with their combo row),
the tracked-order lookup, then one call of :func:`~tradeforge.risk.compiled_kernel.decide` with scalar
arguments. A pass costs no allocation but its audit tuple. A denial names the plug-in check at the
returned position and asks it for the reason (throttles and duplicates, whose state lives only in
the arena, get theirs from the kernel's numbers): the text is the plug-in path's by construction,
and a plug-in that would pass is a bug reported loudly (:class:`CompiledMismatch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from tradeforge.model.enums import OrderType, TradingState
from tradeforge.model.orders import Order
from tradeforge.risk.audit import AuditLog
from tradeforge.risk.checks import RiskCheck, RiskContext
from tradeforge.risk.checks_flow import Throttle
from tradeforge.risk.checks_order import DuplicateOrderCheck
from tradeforge.risk.compiled_books import CompiledBooks, entry_point
from tradeforge.risk.compiled_kernel import (
    HALTED,
    LIMIT_TYPE,
    MARKET_TYPE,
    OTHER_TYPE,
    REDUCING,
    WHERE_ACCOUNT,
    WHERE_OTHER,
    WHERE_STRATEGY,
    decide,
)
from tradeforge.risk.compiled_layout import H_OUT0, H_OUT1, H_OUT2, NONE
from tradeforge.risk.compiled_plan import Plan
from tradeforge.risk.scope import ACCOUNT, SCOPE_KINDS, STRATEGY, label
from tradeforge.risk.state import RiskState
from tradeforge.risk.trading_state import TradingStates

NS_PER_S = 1_000_000_000
_LIMIT = OrderType.LIMIT
_MARKET_TYPES = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TRAILING_STOP_MARKET)
_ACTIVE, _REDUCING, _HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


class Gate(Protocol):
    """What the compiled path reads and calls of the engine it decides for
    (:class:`~tradeforge.risk.engine.RiskEngine`)."""

    state: RiskState
    states: TradingStates
    checks: list[RiskCheck]
    portfolio: Any
    audit: AuditLog
    audit_accepted: bool
    passed: int
    _bus: Any

    def _new_day(self, now_ns: int) -> None: ...

    def _context(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int) -> tuple[RiskContext, int]: ...

    def _denied(self, order: Order, name: str, reason: str, now_ns: int) -> str: ...


class CompiledMismatch(RuntimeError):
    """The compiled kernel denied an order its plug-in check passes (a bug: the paths must agree)."""


class CompiledPath:
    """Decides orders for ``engine`` with the kernel; ``n_checks`` is the check count it was built for."""

    def __init__(self, engine: Gate, plan: Plan) -> None:
        self.engine = engine
        self.state = engine.state
        self.plan = plan
        self.n_checks = len(engine.checks)
        self.books = CompiledBooks(engine.state, plan)
        self.records = bool(plan.rings) or plan.duplicate is not None
        self._decide = entry_point(decide, 19)
        self._uses_pf_price = plan.uses_pf_price
        self._uses_money = plan.uses_money
        self._uses_margin = plan.uses_margin

    def check(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int) -> str | None:
        """As :meth:`RiskEngine.check <tradeforge.risk.engine.RiskEngine.check>`, with the kernel."""
        eng = self.engine
        st = self.state
        if now_ns >= st.next_day_ns:
            eng._new_day(now_ns)
        iid = order.instrument_id
        ir = st.inst.get(iid)
        if ir is None:
            ir = st.instrument(iid)
        sid = order.strategy_id
        sk = ir.scope_keys.get(sid)
        if sk is None or sk.combo < 0:
            sk = self.books.combo(ir, sid)
        t = st.tracked.get(order.client_order_id)
        price = order.price
        trigger = order.trigger_price
        plast = NONE
        pf = eng.portfolio
        if self._uses_pf_price or (price is None and trigger is None):
            p = pf.last_price(iid)
            if p is not None:
                plast = p
        states = eng.states
        if not states._any or states.system is _HALTED:
            state = states.system
            where = WHERE_OTHER
        else:
            state, scope = states.effective(sid, iid, ir.venue, sk.account)
            where = WHERE_STRATEGY if scope.startswith(STRATEGY) else (
                WHERE_ACCOUNT if scope.startswith(ACCOUNT) else WHERE_OTHER)
        cash = equity = margin = reserved = 0
        if self._uses_money:
            cash = pf.cash
            equity = cash + pf._value  # Portfolio.equity(), inlined
            if self._uses_margin:
                margin = st.margin_used if st.marked else pf.margin_used()
                reserved = st.portfolio_reserved if t is None else st.portfolio_reserved - t.cost
        ot = order.order_type
        r = self._decide(
            self.books.a, sk.combo, now_ns, order.quantity, order.filled_qty, order.side,
            NONE if price is None else price, NONE if trigger is None else trigger,
            LIMIT_TYPE if ot is _LIMIT else (MARKET_TYPE if ot in _MARKET_TYPES else OTHER_TYPE),
            order.reduce_only, 0 if t is None else t.leaves, -1 if t is None else t.row, plast, cash, equity,
            margin, reserved, 0 if state is _ACTIVE else (REDUCING if state is _REDUCING else HALTED), where,
            NONE if eng._bus is not None else pf.net_quantity(iid),
        )
        if r:
            return self._deny(order, open_orders, now_ns, r - 1)
        eng.passed += 1
        if eng.audit_accepted:
            eng.audit.accepted(now_ns, order.client_order_id)
        return None

    def _deny(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int, step: int) -> str:
        eng = self.engine
        check = eng.checks[step]
        ctx, _ = eng._context(order, open_orders, now_ns)
        a = self.books.arena
        if type(check) is Throttle:
            kind = self.plan.entries[a[H_OUT0]][0]
            what = "messages" if check.messages else "orders"
            reason: str | None = (f"{a[H_OUT1]} {what} in the last {check.window_ns / NS_PER_S:g} s for "
                                  f"{label(SCOPE_KINDS[kind], ctx.keys[kind])}, limit {a[H_OUT2]}")
        elif type(check) is DuplicateOrderCheck:
            reason = f"same instrument, side, price and size as an order {(now_ns - a[H_OUT0]) / NS_PER_S:g} s ago"
        else:
            reason = check.check(order, ctx)
            if reason is None:
                raise CompiledMismatch(f"compiled {check.name} denied {order.client_order_id}, the check passes it")
        return eng._denied(order, check.name, reason, now_ns)

    def record(self, order: Order, now: int, is_new: bool) -> None:
        """A sent order (``is_new``) or a modify/cancel message, for the throttles and duplicates."""
        if not self.records:
            return
        st = self.state
        ir = st.inst.get(order.instrument_id)
        if ir is None:
            ir = st.instrument(order.instrument_id)
        sk = ir.scope_keys.get(order.strategy_id)
        if sk is None or sk.combo < 0:
            sk = self.books.combo(ir, order.strategy_id)
        price, trigger = order.price, order.trigger_price
        self.books.record(sk.combo, now, is_new, order.side, NONE if price is None else price,
                          NONE if trigger is None else trigger, order.quantity)

