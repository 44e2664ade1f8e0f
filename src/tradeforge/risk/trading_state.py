"""Trading states per scope: the whole system, a strategy, an instrument, a venue or an account.

An order's effective state is the most restrictive of the system's and those of its strategy,
instrument, venue and account (HALTED > REDUCING > ACTIVE). With no scoped state set the lookup is
one attribute read.
"""

from __future__ import annotations

from tradeforge.model.enums import TradingState
from tradeforge.risk.scope import ACCOUNT, INSTRUMENT, PORTFOLIO, STRATEGY, SYSTEM, VENUE, ScopeError, label

STATE_SCOPES = (SYSTEM, STRATEGY, INSTRUMENT, VENUE, ACCOUNT)
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


class TradingStates:
    """The system state plus states by (scope kind, key); ACTIVE entries are not stored."""

    def __init__(self, system: TradingState = ACTIVE) -> None:
        self.system = system
        self.scoped: dict[str, dict[str, TradingState]] = {k: {} for k in (STRATEGY, INSTRUMENT, VENUE, ACCOUNT)}
        self._any = False

    def get(self, kind: str, key: str = "") -> TradingState:
        if kind in (SYSTEM, PORTFOLIO):
            return self.system
        return self._table(kind).get(key, ACTIVE)

    def _table(self, kind: str) -> dict[str, TradingState]:
        try:
            return self.scoped[kind]
        except KeyError:
            raise ScopeError(f"trading states apply to {list(STATE_SCOPES)}, not {kind!r}") from None

    def set(self, kind: str, key: str, state: TradingState) -> TradingState:
        """Set one scope's state; returns the previous one."""
        if kind in (SYSTEM, PORTFOLIO):
            old, self.system = self.system, state
            return old
        table = self._table(kind)
        old = table.get(key, ACTIVE)
        if state is ACTIVE:
            table.pop(key, None)
        else:
            table[key] = state
        self._any = any(self.scoped.values())
        return old

    def effective(self, sid: str, iid: str, venue: str, account: str) -> tuple[TradingState, str]:
        """The order's state and the scope it comes from (``""``: the system)."""
        state = self.system
        if not self._any or state is HALTED:
            return state, ""
        where = ""
        s = self.scoped
        for kind, key in ((STRATEGY, sid), (INSTRUMENT, iid), (VENUE, venue), (ACCOUNT, account)):
            st = s[kind].get(key)
            if st is HALTED:
                return HALTED, label(kind, key)
            if st is REDUCING and state is ACTIVE:
                state, where = REDUCING, label(kind, key)
        return state, where

    def snapshot(self) -> dict[str, str]:
        """``{"system": "ACTIVE", "strategy x": "HALTED", ...}`` (non-active scoped states only)."""
        out = {SYSTEM: self.system.value}
        for kind, table in self.scoped.items():
            for key in sorted(table):
                out[label(kind, key)] = table[key].value
        return out
