"""Risk events published on the bus (``events.risk.{kind}``) for strategies, dashboards and alerts."""

from __future__ import annotations

import msgspec


class RiskEvent(msgspec.Struct, frozen=True, gc=False):
    """A denial, a trading-state change, a limit breach (or its clearing), an action taken, a kill.

    ``kind``: ``denied``, ``state``, ``breach``, ``cleared``, ``action``, ``kill``, ``unwind``.
    """

    kind: str
    scope: str
    key: str
    detail: str
    ts_event: int
    ts_init: int
    who: str = ""
    why: str = ""


class RiskReport(msgspec.Struct, frozen=True, gc=False):
    """Portfolio risk figures (money raw): P&L, exposure, VaR and expected shortfall by method (money
    units), stress-scenario P&L by name (money units), initial and maintenance margin (money raw)."""

    ts_event: int
    equity: int
    pnl_day: int
    gross: int
    net: int
    var: dict[str, float] = {}
    es: dict[str, float] = {}
    stress: dict[str, float] = {}
    margin: int = 0
    maintenance_margin: int = 0
