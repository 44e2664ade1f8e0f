"""Order flow: rate throttles (orders or messages per window) and the number of open orders.

A throttle keeps, per scope key, a deque of the times of the orders (or messages: new, modify,
cancel) sent in the trailing window; it is told about them by the engine as they happen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tradeforge.model.orders import Order
from tradeforge.risk.checks import RiskContext
from tradeforge.risk.scope import ScopedLimits, label

NS_PER_S = 1_000_000_000


@dataclass(slots=True)
class Throttle:
    """At most N orders (``messages=False``) or messages (new + modify + cancel) per ``window_ns``
    per scope key (a venue, a strategy, an instrument, an account, the portfolio)."""

    limits: ScopedLimits
    window_ns: int = NS_PER_S
    messages: bool = False
    name: str = ""
    _times: dict[tuple[str, str], deque[int]] = field(default_factory=dict)
    #: ``limits.ientries`` with, per entry, that kind's deques by key (the same deques as ``_times``:
    #: no ``(kind, key)`` tuple to build and hash per message); built on first use
    _plan: list[tuple[str, int, dict[str, Any], Any, dict[str, deque[int]]]] | None = field(
        default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            unit = f"{self.window_ns / NS_PER_S:g}s"
            self.name = f"{'message' if self.messages else 'order'}_rate_{unit}"

    def _build_plan(self) -> list[tuple[str, int, dict[str, Any], Any, dict[str, deque[int]]]]:
        by_kind: dict[str, dict[str, deque[int]]] = {}
        for (kind, key), q in self._times.items():
            by_kind.setdefault(kind, {})[key] = q
        plan = self._plan = [(kind, i, table, default, by_kind.setdefault(kind, {}))
                             for kind, i, table, default in self.limits.ientries]
        return plan

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        cut = ctx.now_ns - self.window_ns
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        for kind, i, table, default, queues in plan:
            key = sk[i]
            lim = table.get(key, default) if table else default
            if lim is None:
                continue
            q = queues.get(key)
            if q is None:
                continue
            while q and q[0] <= cut:
                q.popleft()
            if len(q) >= lim:
                what = "messages" if self.messages else "orders"
                return f"{len(q)} {what} in the last {self.window_ns / NS_PER_S:g} s for {label(kind, key)}, limit {lim}"
        return None

    def record(self, keys: RiskContext, now_ns: int, is_new: bool) -> None:
        """Count one message (``is_new``: a new order) for every configured scope of the order ``keys`` name."""
        sk = keys.keys
        if not (is_new or self.messages):
            return
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        for kind, i, _table, _default, queues in plan:
            key = sk[i]
            q = queues.get(key)
            if q is None:
                q = queues[key] = self._times[(kind, key)] = deque()
            q.append(now_ns)


@dataclass(slots=True)
class MaxOpenOrders:
    """At most N open orders per instrument, strategy, account, venue, sector or portfolio."""

    limits: ScopedLimits
    name: str = "max_open_orders"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        st = ctx.state
        assert st is not None
        if st.tracked_leaves(order.client_order_id):
            return None  # a modify of an order already counted
        for kind, i, table, default in self.limits.ientries:
            key = sk[i]
            lim = table.get(key, default) if table else default
            if lim is None:
                continue
            a = st.aggs[kind].get(key)
            n = 0 if a is None else a.open_count
            if n >= lim:
                return f"{n} open orders for {label(kind, key)}, limit {lim}"
        return None
