"""A position: FIFO lots, exact realized P&L.

Quantities are raw integers (signed: long > 0, short < 0); money is raw at MONEY_PRECISION. Lots are
closed first-in-first-out, so realized P&L is an exact integer (no average-price rounding).
"""

from __future__ import annotations

from collections import deque


class Position:
    """Open lots of one instrument for one position id."""

    __slots__ = (
        "closed_ts_ns", "commissions", "cost_basis", "instrument_id", "lots", "net_qty", "notional_factor",
        "opened_ts_ns", "peak_qty", "position_id", "realized_pnl", "strategy_id",
    )

    def __init__(self, position_id: str, strategy_id: str, instrument_id: str, notional_factor: int, ts_ns: int):
        self.position_id = position_id
        self.strategy_id = strategy_id
        self.instrument_id = instrument_id
        self.notional_factor = notional_factor
        self.lots: deque[list[int]] = deque()  # [signed qty, price] per lot, oldest first
        self.net_qty = 0
        self.cost_basis = 0  # sum(lot qty * lot px) * factor, money raw (signed like qty)
        self.realized_pnl = 0  # money raw, net of commissions
        self.commissions = 0
        self.peak_qty = 0
        self.opened_ts_ns = ts_ns
        self.closed_ts_ns: int | None = None

    @property
    def is_open(self) -> bool:
        return self.net_qty != 0

    @property
    def avg_px(self) -> float:
        """Average open price in raw price units (display only)."""
        if not self.net_qty:
            return 0.0
        return self.cost_basis / self.notional_factor / self.net_qty

    def apply_fill(self, signed_qty: int, price: int, commission: int) -> int:
        """Apply a fill; return the realized P&L (before commission) it produced, exactly."""
        realized = 0
        lots = self.lots
        remaining = signed_qty
        factor = self.notional_factor
        while remaining and lots and (lots[0][0] > 0) != (remaining > 0):
            lot = lots[0]
            take = min(abs(lot[0]), abs(remaining))
            sign = 1 if lot[0] > 0 else -1
            realized += sign * take * (price - lot[1]) * factor
            self.cost_basis -= sign * take * lot[1] * factor
            lot[0] -= sign * take
            remaining += sign * take
            if lot[0] == 0:
                lots.popleft()
        if remaining:
            lots.append([remaining, price])
            self.cost_basis += remaining * price * factor
        self.net_qty += signed_qty
        self.peak_qty = max(self.peak_qty, abs(self.net_qty))
        self.commissions += commission
        self.realized_pnl += realized - commission
        return realized

    def unrealized_pnl(self, mark: int) -> int:
        return self.net_qty * mark * self.notional_factor - self.cost_basis
