"""The portfolio: the one owner of cash, positions and P&L.

One shared cash account in one currency. Cash-settled instruments (equities, crypto spot) move their
full notional through cash; margined ones (futures, perpetuals, FX) move only realized P&L and fees.
Everything is exact integer money, and at every moment::

    equity == cash + sum(position value at mark)

where a cash-settled position is worth ``qty * mark * multiplier`` and a margined one its unrealized
P&L. The sum is kept incrementally (O(1) per price update); :meth:`check_invariant` recomputes it
from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeforge.model.data import Bar, QuoteTick, TradeTick
from tradeforge.model.enums import OmsType
from tradeforge.model.events import (
    OrderFilled,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)
from tradeforge.model.instruments import Instrument
from tradeforge.portfolio.position import Position


class AccountingError(RuntimeError):
    """The portfolio's books do not balance (a bug, never expected)."""


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One round trip: a position from open to flat."""

    position_id: str
    strategy_id: str
    instrument_id: str
    opened_ns: int
    closed_ns: int
    peak_qty: int
    realized_pnl: int  # money raw, net of commissions


class _InstrumentState:
    __slots__ = ("cash_settled", "cost_basis", "factor", "instrument", "margin_bps", "mark", "net_qty")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.factor = instrument.notional_factor
        self.cash_settled = instrument.cash_settled
        self.margin_bps = instrument.margin_init_bps
        self.mark: int | None = None
        self.net_qty = 0
        self.cost_basis = 0

    def value(self) -> int:
        """Value at mark: notional if cash-settled, else unrealized P&L. A margined instrument held
        long and short at once (hedging) is worth ``-cost_basis`` even when its net quantity is 0."""
        v = self.net_qty * self.mark * self.factor if self.net_qty else 0  # a fill always sets the mark
        return v if self.cash_settled else v - self.cost_basis


class Portfolio:
    """Positions, cash, marks and P&L for one account."""

    def __init__(self, currency: str, starting_cash_raw: int, oms_type: OmsType = OmsType.NETTING) -> None:
        self.currency = currency
        self.starting_cash = starting_cash_raw
        self.cash = starting_cash_raw
        self.oms_type = oms_type
        self.fees_paid = 0
        self.traded_notional = 0
        self.realized_pnl = 0
        self._value = 0  # sum of position values at mark
        self._gross = 0  # sum of |qty| * mark * factor
        self._state: dict[str, _InstrumentState] = {}
        self.positions: dict[str, Position] = {}
        self._open: dict[str, list[Position]] = {}  # open positions per instrument, oldest first
        self.closed_trades: list[ClosedTrade] = []
        self._held: dict[str, _InstrumentState] = {}  # instruments with open positions
        self._hedge_count = 0

    def register_instrument(self, instrument: Instrument) -> None:
        if instrument.currency != self.currency:
            raise AccountingError(
                f"{instrument.id} is quoted in {instrument.currency} but the account is in {self.currency}; "
                "multi-currency accounts are not supported yet"
            )
        self._state.setdefault(instrument.id, _InstrumentState(instrument))

    # -- market data (hot path) --
    def mark(self, instrument_id: str, price: int) -> None:
        """Mark one instrument to ``price``: O(1), whatever the number of positions."""
        st = self._state[instrument_id]
        q = st.net_qty
        if q:  # a held instrument always has a mark: its first fill set it
            d = (price - st.mark) * st.factor  # type: ignore[operator]
            self._value += q * d
            self._gross += (q if q > 0 else -q) * d
        st.mark = price

    def on_bar(self, bar: Bar) -> None:
        # ``mark`` inlined: this runs once per bar of every instrument
        st = self._state[bar.instrument_id]
        q = st.net_qty
        if q:
            d = (bar.close - st.mark) * st.factor  # type: ignore[operator]
            self._value += q * d
            self._gross += (q if q > 0 else -q) * d
        st.mark = bar.close

    def on_quote(self, quote: QuoteTick) -> None:
        self.mark(quote.instrument_id, (quote.bid + quote.ask) // 2)

    def on_trade(self, trade: TradeTick) -> None:
        self.mark(trade.instrument_id, trade.price)

    # -- queries --
    def equity(self) -> int:
        """Cash plus positions at mark (money raw)."""
        return self.cash + self._value

    def gross_exposure(self) -> int:
        return self._gross

    def last_price(self, instrument_id: str) -> int | None:
        st = self._state.get(instrument_id)
        return None if st is None else st.mark

    def net_quantity(self, instrument_id: str) -> int:
        st = self._state.get(instrument_id)
        return 0 if st is None else st.net_qty

    def position(self, instrument_id: str, strategy_id: str) -> Position | None:
        """The open netting position (or the oldest open hedging position)."""
        for p in self._open.get(instrument_id, ()):
            if p.strategy_id == strategy_id:
                return p
        return None

    def open_positions(self, strategy_id: str | None = None) -> list[Position]:
        return [
            p for p in self.positions.values() if p.is_open and (strategy_id is None or p.strategy_id == strategy_id)
        ]

    def unrealized_pnl(self, instrument_id: str | None = None) -> int:
        states = self._held.values() if instrument_id is None else [self._state[instrument_id]]
        total = 0
        for st in states:
            if st.mark is not None:  # hedged long and short at once: net 0, P&L still open
                total += st.net_qty * st.mark * st.factor - st.cost_basis
        return total

    def margin_used(self) -> int:
        """Initial margin of margined positions at mark (money raw)."""
        total = 0
        for st in self._held.values():
            if not st.cash_settled:
                total += abs(st.net_qty) * st.mark * st.factor * st.margin_bps // 10_000
        return total

    # -- fills --
    def apply_fill(self, fill: OrderFilled) -> list[PositionEvent]:
        """Book a fill; return the position events it caused (published by the OMS after the fill)."""
        st = self._state[fill.instrument_id]
        signed = int(fill.side) * fill.last_qty
        if st.mark is None:  # no price seen yet: the fill is the first one
            st.mark = fill.last_px
        old_contrib = st.value()
        old_gross = abs(st.net_qty) * st.mark * st.factor
        notional = fill.last_px * fill.last_qty * st.factor
        self.traded_notional += notional
        self.fees_paid += fill.commission
        events: list[PositionEvent] = []
        remaining = signed
        booked_commission = 0
        while remaining:
            pos = self._target_position(fill, remaining)
            is_new = not pos.is_open
            if is_new:
                pos.opened_ts_ns = fill.ts_event
                pos.peak_qty = 0
            # one fill never flips a position through zero: it closes it, the rest opens a new cycle
            if is_new or (pos.net_qty > 0) == (remaining > 0) or abs(remaining) <= abs(pos.net_qty):
                step = remaining
            else:
                step = -pos.net_qty
            remaining -= step
            commission = (
                fill.commission - booked_commission if not remaining
                else fill.commission * abs(step) // abs(signed)
            )
            booked_commission += commission
            realized = pos.apply_fill(step, fill.last_px, commission)
            if st.cash_settled:
                self.cash -= step * fill.last_px * st.factor + commission
            else:
                self.cash += realized - commission
            self.realized_pnl += realized - commission
            st.net_qty += step
            events.append(self._position_event(pos, is_new, fill))
        st.cost_basis = sum(p.cost_basis for p in self._open.get(fill.instrument_id, ()))
        if self._open.get(fill.instrument_id):
            self._held[fill.instrument_id] = st
        else:
            self._held.pop(fill.instrument_id, None)
        self._value += st.value() - old_contrib
        self._gross += abs(st.net_qty) * st.mark * st.factor - old_gross
        return events

    def _target_position(self, fill: OrderFilled, remaining: int) -> Position:
        all_open = self._open.setdefault(fill.instrument_id, [])
        opened = [p for p in all_open if p.strategy_id == fill.strategy_id]
        factor = self._state[fill.instrument_id].factor
        if self.oms_type is OmsType.NETTING:
            if opened:
                return opened[0]
            pid = f"{fill.instrument_id}-{fill.strategy_id}"
        else:
            if fill.position_id:
                for p in opened:
                    if p.position_id == fill.position_id:
                        return p
            for p in opened:  # hedging: a reducing fill without a position id closes the oldest opposite
                if (p.net_qty > 0) != (remaining > 0) and not fill.position_id:
                    return p
            self._hedge_count += 1
            pid = fill.position_id or f"{fill.instrument_id}-{fill.strategy_id}-{self._hedge_count}"
        pos = self.positions.get(pid)
        if pos is None or pos.is_open:
            pos = Position(pid, fill.strategy_id, fill.instrument_id, factor, fill.ts_event)
            self.positions[pid] = pos
        all_open.append(pos)
        return pos

    def _position_event(self, pos: Position, is_new: bool, fill: OrderFilled) -> PositionEvent:
        args = (
            pos.position_id, pos.strategy_id, pos.instrument_id, pos.net_qty, pos.avg_px, pos.realized_pnl,
            fill.ts_event, fill.ts_init,
        )
        if not pos.is_open:
            self._open[pos.instrument_id].remove(pos)
            pos.closed_ts_ns = fill.ts_event
            self.closed_trades.append(
                ClosedTrade(
                    pos.position_id, pos.strategy_id, pos.instrument_id, pos.opened_ts_ns, fill.ts_event,
                    pos.peak_qty, pos.realized_pnl,
                )
            )
            event: PositionEvent = PositionClosed(*args, duration_ns=fill.ts_event - pos.opened_ts_ns)
            # the next cycle of this position id starts from zero
            pos.realized_pnl = 0
            pos.commissions = 0
            return event
        return PositionOpened(*args) if is_new else PositionChanged(*args)

    # -- checks --
    def check_invariant(self) -> None:
        """Recompute position values from the lots and compare with the incremental books."""
        value = 0
        for iid, st in self._state.items():
            if st.mark is None:
                continue
            net = 0
            cb = 0
            for p in self._open.get(iid, ()):
                net += p.net_qty
                cb += p.cost_basis
            if net != st.net_qty or cb != st.cost_basis:
                raise AccountingError(f"{iid}: position books disagree (net {net} vs {st.net_qty})")
            v = net * st.mark * st.factor
            value += v if st.cash_settled else v - cb
        if value != self._value:
            raise AccountingError(f"position value {value} != incremental {self._value}")
        if self.cash + value != self.equity():
            raise AccountingError("cash + positions at mark != equity")
