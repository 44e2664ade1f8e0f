"""Incremental risk state: positions, open orders, exposure and P&L per scope, O(1) per event.

The risk engine feeds this from three sources: orders it released (tracked until closed, by the
``Order`` object the OMS mutates), fills (order events on the bus), and marks (market data, when a
configured check needs them). Nothing here scans all positions or all orders per check.

Money is raw at 1e-9. An :class:`Agg` is one scope key's book (an instrument, a sector, a strategy,
an account, the portfolio): ``net``/``gross`` value the positions at the latest mark, ``open_buy`` /
``open_sell`` the open orders at their price (limit/trigger, else the mark when released), and
``pnl = cash_flow + net`` (cash flows of fills, fees included, plus positions at mark).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from tradeforge.model.enums import OrderSide, OrderType
from tradeforge.model.events import OrderFilled
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.risk.scope import (
    ACCOUNT,
    ALL,
    DEFAULT_ACCOUNT,
    INSTRUMENT,
    NO_SECTOR,
    PORTFOLIO,
    SECTOR,
    STRATEGY,
    VENUE,
    ScopeKeys,
)

DAY_NS = 86_400_000_000_000
MARK_ONLY, MARK_LAST, MARK_MID = 0, 1, 2  # what else a mark is (see :meth:`RiskState.mark`)


class BooksMirror(Protocol):
    """A copy of the books told of every change right after it is made (the compiled path's arrays,
    :class:`~tradeforge.risk.compiled_books.CompiledBooks`)."""

    def add_agg(self, agg: Agg) -> None: ...

    def add_instrument(self, ir: InstRisk) -> None: ...

    def add_cell(self, ir: InstRisk, cell: Cell) -> None: ...

    def release(self, t: Tracked, count: int = 1) -> None: ...

    def sync(self, t: Tracked, d: int, closed: bool) -> None: ...

    def fill(self, ir: InstRisk, scell: Cell, acell: Cell, signed: int, last_px: int, commission: int) -> None: ...

    def mark(self, ir: InstRisk, px: int, ts: int, which: int) -> None: ...

    def set_adv(self, ir: InstRisk) -> None: ...

    def roll(self) -> None: ...

    def sampled(self, st: RiskState) -> None: ...
_MARKET_TYPES = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TRAILING_STOP_MARKET)


class Agg:
    """Positions, open orders and P&L of one scope key (money raw)."""

    __slots__ = (
        "cash_flow", "day_peak", "day_start", "gross", "key", "kind", "net", "open_buy", "open_count",
        "open_sell", "row", "samples",
    )

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.net = 0
        self.gross = 0
        self.open_buy = 0
        self.open_sell = 0
        self.open_count = 0
        self.cash_flow = 0
        self.day_start = 0
        self.day_peak = 0
        self.samples: deque[tuple[int, int]] | None = None  # (ts, pnl) for rolling loss, when asked for
        self.row = -1  # row in the compiled books, if any

    @property
    def pnl(self) -> int:
        return self.cash_flow + self.net


class Cell:
    """A signed position quantity (and open order quantities) held in one or more aggregates."""

    __slots__ = ("aggs", "open_buy", "open_sell", "qty", "row")

    def __init__(self, aggs: list[Agg]) -> None:
        self.qty = 0
        self.open_buy = 0
        self.open_sell = 0
        self.aggs = aggs
        self.row = -1


class InstRisk:
    """Per-instrument state: reference prices with their times, volume, the account-wide cell."""

    __slots__ = (
        "adv", "cash_settled", "cells", "day", "day_volume", "factor", "inst", "last", "last_ts", "last_volume", "margin",
        "margin_bps", "mark", "mark_ts", "mid", "mid_ts", "open_orders", "row", "scope_keys", "sector", "total",
        "venue", "volumes",
    )

    def __init__(self, inst: Instrument, sector: str, total: Cell) -> None:
        self.inst = inst
        self.factor = inst.notional_factor
        self.sector = sector
        self.venue = inst.venue
        self.mark: int | None = None  # latest price of any kind (what positions are valued at)
        self.mark_ts = -1
        self.last: int | None = None  # last trade / bar close
        self.last_ts = -1
        self.mid: int | None = None  # last quote mid
        self.mid_ts = -1
        self.last_volume = -1  # last bar's volume (raw), -1 unknown
        self.day = -1
        self.day_volume = 0
        self.volumes: deque[int] = deque(maxlen=20)  # completed days' volumes
        self.adv: int | None = None
        self.total = total  # the instrument's net position over all strategies
        self.cells: list[Cell] = [total]  # total first, then one per strategy and per account
        self.open_orders: dict[str, Order] = {}
        self.cash_settled = inst.cash_settled  # read once (an Enum set lookup per call otherwise)
        self.margin_bps = 0 if self.cash_settled else inst.margin_init_bps
        self.scope_keys: dict[str, ScopeKeys] = {}  # strategy -> the scope keys of its orders here
        self.margin = 0  # initial margin of the position at mark (margined instruments)
        self.row = -1


class Tracked:
    """An order the risk engine released: what it counted for it so far."""

    __slots__ = ("cells", "cost", "ir", "leaves", "order", "px", "row", "sign")

    def __init__(self, order: Order, ir: InstRisk, cells: tuple[Cell, ...], px: int, sign: int) -> None:
        self.order = order
        self.ir = ir
        self.cells = cells
        self.px = px
        self.sign = sign
        self.leaves = 0
        self.cost = 0
        self.row = -1


class RiskState:
    """The books the checks read. ``sectors`` maps instrument id to sector, ``accounts`` strategy to account."""

    def __init__(
        self, instruments: Callable[[str], Instrument], sectors: dict[str, str] | None = None,
        accounts: dict[str, str] | None = None, adv_days: int = 20,
    ) -> None:
        self._instruments = instruments
        #: the compiled path's array books, told of every change (see :mod:`tradeforge.risk.compiled_books`)
        self.books: BooksMirror | None = None
        self.sectors = dict(sectors or {})
        self.accounts = dict(accounts or {})
        self.adv_days = adv_days
        self.aggs: dict[str, dict[str, Agg]] = {k: {} for k in (INSTRUMENT, SECTOR, STRATEGY, ACCOUNT, VENUE, PORTFOLIO)}
        self.portfolio = self._agg(PORTFOLIO, ALL)
        self.inst: dict[str, InstRisk] = {}
        self._strat_cells: dict[tuple[str, str], Cell] = {}
        self._acct_cells: dict[tuple[str, str], Cell] = {}
        self.tracked: dict[str, Tracked] = {}
        self.open_count = 0
        self.next_day_ns = -1  # first roll sets the day
        self.rolling_kinds: frozenset[str] = frozenset()  # scope kinds with rolling loss limits
        self.rolling_window_ns = 0
        self.cost_of: Callable[[Order, Instrument, int, int], int] | None = None  # buying-power cost of an order
        self.portfolio_reserved = 0  # buying-power cost of open orders (when ``cost_of`` is set)
        self.margin_used = 0  # initial margin of all positions at mark, as Portfolio.margin_used()
        self.marked = False  # True when every price reaches the books (then margin_used is current)

    # -- lookups --
    def _agg(self, kind: str, key: str) -> Agg:
        table = self.aggs[kind]
        agg = table.get(key)
        if agg is None:
            agg = table[key] = Agg(kind, key)
            if self.books is not None:
                self.books.add_agg(agg)
        return agg

    def agg(self, kind: str, key: str) -> Agg | None:
        return self.aggs[kind].get(ALL if kind == PORTFOLIO else key)

    def account_of(self, strategy_id: str) -> str:
        return self.accounts.get(strategy_id, DEFAULT_ACCOUNT)

    def instrument(self, instrument_id: str) -> InstRisk:
        ir = self.inst.get(instrument_id)
        if ir is None:
            inst = self._instruments(instrument_id)
            sector = self.sectors.get(instrument_id, NO_SECTOR)
            total = Cell([
                self._agg(INSTRUMENT, instrument_id), self._agg(SECTOR, sector), self._agg(VENUE, inst.venue),
                self.portfolio,
            ])
            ir = self.inst[instrument_id] = InstRisk(inst, sector, total)
            if self.books is not None:
                self.books.add_instrument(ir)
        return ir

    def strategy_cell(self, strategy_id: str, instrument_id: str) -> Cell:
        """The strategy's position in one instrument (and the account's, created alongside)."""
        cell = self._strat_cells.get((strategy_id, instrument_id))
        if cell is None:
            ir = self.instrument(instrument_id)
            cell = self._strat_cells[(strategy_id, instrument_id)] = Cell([self._agg(STRATEGY, strategy_id)])
            ir.cells.append(cell)
            if self.books is not None:
                self.books.add_cell(ir, cell)
            acct = self.account_of(strategy_id)
            if (acct, instrument_id) not in self._acct_cells:
                acell = self._acct_cells[(acct, instrument_id)] = Cell([self._agg(ACCOUNT, acct)])
                ir.cells.append(acell)
                if self.books is not None:
                    self.books.add_cell(ir, acell)
        return cell

    def account_cell(self, account: str, instrument_id: str) -> Cell | None:
        return self._acct_cells.get((account, instrument_id))

    def strategy_positions(self) -> list[tuple[str, str, int]]:
        """``(strategy, instrument, qty)`` of every non-zero strategy position, in a fixed order."""
        return [(s, i, c.qty) for (s, i), c in sorted(self._strat_cells.items()) if c.qty]

    # -- open orders --
    def release(self, order: Order, ref_px: int | None) -> None:
        """Start counting ``order`` (it passed risk and goes to its venue)."""
        ir = self.instrument(order.instrument_id)
        scell = self.strategy_cell(order.strategy_id, order.instrument_id)
        acell = self._acct_cells[(self.account_of(order.strategy_id), order.instrument_id)]
        px = order.price if order.price is not None else order.trigger_price
        if px is None:
            px = ref_px if ref_px is not None else (ir.mark or 0)
        t = Tracked(order, ir, (ir.total, scell, acell), abs(px), int(order.side))
        self.tracked[order.client_order_id] = t
        ir.open_orders[order.client_order_id] = order
        self.open_count += 1
        for cell in t.cells:
            for agg in cell.aggs:
                agg.open_count += 1
        if self.books is not None:
            self.books.release(t)
        self.sync(t)

    def sync(self, t: Tracked) -> None:
        """Bring the counted open quantity of one order in line with the order (fills, modifies, closes)."""
        order = t.order
        leaves = order.leaves_qty if order.is_open else 0
        d = leaves - t.leaves
        if d:
            t.leaves = leaves
            dn = d * t.px * t.ir.factor
            buy = t.sign > 0
            reduce_only = order.reduce_only
            for cell in t.cells:
                if buy:
                    cell.open_buy += d
                else:
                    cell.open_sell += d
                if not reduce_only:
                    for agg in cell.aggs:
                        if buy:
                            agg.open_buy += dn
                        else:
                            agg.open_sell += dn
            if self.cost_of is not None and not reduce_only:
                cost = self.cost_of(order, t.ir.inst, t.px, leaves) if leaves else 0
                self.portfolio_reserved += cost - t.cost
                t.cost = cost
        if self.books is not None:
            self.books.sync(t, d, not order.is_open)
        if not order.is_open:
            del self.tracked[order.client_order_id]
            t.ir.open_orders.pop(order.client_order_id, None)
            self.open_count -= 1
            for cell in t.cells:
                for agg in cell.aggs:
                    agg.open_count -= 1

    def tracked_leaves(self, client_order_id: str) -> int:
        t = self.tracked.get(client_order_id)
        return 0 if t is None else t.leaves

    def tracked_cost(self, client_order_id: str) -> int:
        t = self.tracked.get(client_order_id)
        return 0 if t is None else t.cost

    # -- fills --
    def fill(self, fill: OrderFilled) -> None:
        ir = self.instrument(fill.instrument_id)
        scell = self.strategy_cell(fill.strategy_id, fill.instrument_id)
        acell = self._acct_cells[(self.account_of(fill.strategy_id), fill.instrument_id)]
        if ir.mark is None:
            ir.mark = fill.last_px
        signed = fill.last_qty if fill.side is OrderSide.BUY else -fill.last_qty
        f = ir.factor
        unit = ir.mark * f
        flow = -signed * fill.last_px * f - fill.commission
        for cell in (ir.total, scell, acell):
            old = cell.qty
            new = cell.qty = old + signed
            dg = (abs(new) - abs(old)) * unit
            for agg in cell.aggs:
                agg.net += signed * unit
                agg.gross += dg
                agg.cash_flow += flow
                pnl = agg.cash_flow + agg.net
                if pnl > agg.day_peak:
                    agg.day_peak = pnl
        if ir.margin_bps:
            self._remargin(ir)
        if self.books is not None:
            self.books.fill(ir, scell, acell, signed, fill.last_px, fill.commission)
        t = self.tracked.get(fill.client_order_id)
        if t is not None:
            self.sync(t)

    def _remargin(self, ir: InstRisk) -> None:
        q = ir.total.qty
        m = (q if q > 0 else -q) * ir.mark * ir.factor * ir.margin_bps // 10_000  # type: ignore[operator]
        self.margin_used += m - ir.margin
        ir.margin = m

    # -- market data --
    def mark(self, ir: InstRisk, px: int, ts: int, which: int = MARK_ONLY) -> None:
        """Revalue every aggregate holding the instrument at ``px``: O(cells holding it). ``which``:
        the price is also the last trade/close (``MARK_LAST``) or the quote mid (``MARK_MID``)."""
        old = ir.mark
        ir.mark = px
        ir.mark_ts = ts
        if which == MARK_LAST:
            ir.last = px
            ir.last_ts = ts
        elif which == MARK_MID:
            ir.mid = px
            ir.mid_ts = ts
        if self.books is not None:
            self.books.mark(ir, px, ts, which)
        if old is None or old == px:
            return
        unit = (px - old) * ir.factor
        for cell in ir.cells:
            q = cell.qty
            if q:
                dn = q * unit
                dg = (q if q > 0 else -q) * unit
                for agg in cell.aggs:
                    agg.net += dn
                    agg.gross += dg
                    pnl = agg.cash_flow + agg.net
                    if pnl > agg.day_peak:
                        agg.day_peak = pnl
        if ir.margin_bps and ir.total.qty:
            self._remargin(ir)

    def add_volume(self, ir: InstRisk, volume: int, ts: int) -> None:
        """Accumulate a bar's volume into its UTC day; completed days feed the average daily volume."""
        day = ts // DAY_NS
        if day != ir.day:
            if ir.day >= 0:
                ir.volumes.append(ir.day_volume)
                ir.adv = sum(ir.volumes) // len(ir.volumes)
                if self.books is not None:
                    self.books.set_adv(ir)
            ir.day = day
            ir.day_volume = 0
        ir.day_volume += volume
        ir.last_volume = volume

    # -- time --
    def roll(self, now_ns: int) -> None:
        """A new UTC day: every aggregate's day starts at its current P&L (daily loss, day's peak)."""
        self.next_day_ns = (now_ns // DAY_NS + 1) * DAY_NS
        for table in self.aggs.values():
            for agg in table.values():
                agg.day_start = agg.day_peak = agg.cash_flow + agg.net
        if self.books is not None:
            self.books.roll()

    def sample(self, now_ns: int) -> None:
        """Record P&L samples for rolling loss windows (once per distinct time the engine looks)."""
        start = now_ns - self.rolling_window_ns
        for kind in self.rolling_kinds:
            for agg in self.aggs[kind].values():
                s = agg.samples
                if s is None:
                    s = agg.samples = deque()
                pnl = agg.cash_flow + agg.net
                if s and s[-1][0] == now_ns:
                    s[-1] = (now_ns, pnl)
                else:
                    s.append((now_ns, pnl))
                while len(s) > 1 and s[1][0] <= start:
                    s.popleft()
        if self.books is not None:
            self.books.sampled(self)
