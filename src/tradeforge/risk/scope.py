"""Scopes: which slice of the book a limit, a trading state or an action applies to.

A scope is a kind (``instrument``, ``strategy``, ``account``, ``venue``, ``sector``, ``portfolio``)
and a key (an instrument id, a strategy id, ...; ``portfolio`` has the single key ``"*"``).
:class:`ScopedLimits` holds one limit type's values per scope kind: a value per key plus an optional
default for every other key of that kind. Checks walk its entries in a fixed order; the first scope
whose limit is exceeded names the denial.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

INSTRUMENT = "instrument"
STRATEGY = "strategy"
ACCOUNT = "account"
VENUE = "venue"
SECTOR = "sector"
PORTFOLIO = "portfolio"
SYSTEM = "system"  # the trading-state scope that covers everything (same as portfolio)

SCOPE_KINDS = (INSTRUMENT, STRATEGY, ACCOUNT, VENUE, SECTOR, PORTFOLIO)
#: attribute of :class:`~tradeforge.risk.checks.RiskContext` holding an order's key for each kind
SCOPE_ATTR = {
    INSTRUMENT: "iid", STRATEGY: "sid", ACCOUNT: "account", VENUE: "venue", SECTOR: "sector", PORTFOLIO: "pkey",
}
#: position of each kind's key in the scope-key tuple ``(iid, sid, account, venue, sector, "*")``
KEY_INDEX = {INSTRUMENT: 0, STRATEGY: 1, ACCOUNT: 2, VENUE: 3, SECTOR: 4, PORTFOLIO: 5}
ALL = "*"
DEFAULT_ACCOUNT = "default"
NO_SECTOR = "-"


class ScopeError(ValueError):
    """A scope kind or key is not valid for what it is used with."""


@dataclass(frozen=True, slots=True)
class Limit:
    """One configured limit value: ``value`` for ``scope`` kind and ``key`` (``"*"``: every key)."""

    scope: str
    value: Any
    key: str = ALL


class ScopeKeys:
    """An order's scope keys ``(iid, sid, account, venue, sector, "*")`` (see :data:`KEY_INDEX`), one
    object per combination, kept by the engine per instrument and strategy (no tuple per decision)."""

    __slots__ = ("account", "combo", "keys", "sector", "venue")

    def __init__(self, iid: str, sid: str, account: str, venue: str, sector: str) -> None:
        self.keys = (iid, sid, account, venue, sector, ALL)
        self.account = account
        self.venue = venue
        self.sector = sector
        self.combo = -1  # the compiled books' row for this (instrument, strategy), once made


class ScopedLimits:
    """One limit type's values by scope kind; ``entries`` is ``[(kind, ctx attribute, per key, default)]``."""

    __slots__ = ("entries", "ientries")

    def __init__(self, limits: Iterable[Limit], allowed: Iterable[str] = SCOPE_KINDS) -> None:
        allowed = tuple(allowed)
        per_kind: dict[str, tuple[dict[str, Any], list[Any]]] = {}
        for lim in limits:
            if lim.scope not in allowed:
                raise ScopeError(f"scope {lim.scope!r} is not one of {list(allowed)}")
            table, default = per_kind.setdefault(lim.scope, ({}, [None]))
            if lim.key == ALL or lim.scope == PORTFOLIO:
                default[0] = lim.value
            else:
                table[lim.key] = lim.value
        self.entries: list[tuple[str, str, dict[str, Any], Any]] = [
            (kind, SCOPE_ATTR[kind], per_kind[kind][0], per_kind[kind][1][0])
            for kind in SCOPE_KINDS if kind in per_kind
        ]
        #: ``[(kind, index of the key in an order's scope-key tuple, per key, default)]``: what the checks
        #: walk (a tuple index instead of an attribute lookup), the same tables as ``entries``
        self.ientries: list[tuple[str, int, dict[str, Any], Any]] = [
            (kind, KEY_INDEX[kind], table, default) for kind, _attr, table, default in self.entries
        ]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def value(self, kind: str, key: str) -> Any:
        """The limit for one scope key (its own value, else the kind's default, else ``None``)."""
        for k, _attr, table, default in self.entries:
            if k == kind:
                return table.get(key, default)
        return None


def label(kind: str, key: str) -> str:
    """``"strategy sma"``, ``"portfolio"``: how denials and the audit name a scope."""
    return kind if kind == PORTFOLIO or key == ALL else f"{kind} {key}"
