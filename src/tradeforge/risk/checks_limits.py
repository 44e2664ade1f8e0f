"""Book limits: positions, exposure, concentration and losses, with open orders counted as if filled.

Each reads the incremental books of :class:`~tradeforge.risk.state.RiskState` for the order's scope
keys: O(1) per configured scope. An order that only reduces a position (``increasing_qty == 0``)
always passes the exposure, concentration and loss limits, so a breached book can still be cut.
Position limits judge every order on its side's worst case (an order that reduces the position now
passes unless the open orders on its side, with it, would carry the position past a limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeforge.model.enums import OrderSide
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.orders import Order
from tradeforge.risk.checks import RiskContext
from tradeforge.risk.scope import ACCOUNT, INSTRUMENT, PORTFOLIO, SECTOR, STRATEGY, ScopedLimits, label
from tradeforge.risk.state import Agg, Cell, RiskState

_BUY = OrderSide.BUY
POSITION_SCOPES = (INSTRUMENT, STRATEGY, ACCOUNT, PORTFOLIO)
CONCENTRATION_SCOPES = (INSTRUMENT, SECTOR)


def _money(raw: int) -> str:
    return raw_to_str(raw, 9)


def _nano(qty: int, precision: int) -> int:
    return qty * 10 ** (9 - precision)


@dataclass(slots=True)
class PositionLimit:
    """Long, short and absolute position caps (units at 1e-9) per instrument: the account-wide
    position (scopes ``instrument`` and ``portfolio``: a cap for every instrument), a strategy's or an
    account's position in the instrument. Worst case: position plus all open orders on the side."""

    long: ScopedLimits
    short: ScopedLimits
    absolute: ScopedLimits
    name: str = "position_limit"

    @property
    def _buy_sides(self) -> tuple[tuple[ScopedLimits, str], ...]:
        return (self.long, "long"), (self.absolute, "absolute")

    @property
    def _sell_sides(self) -> tuple[tuple[ScopedLimits, str], ...]:
        return (self.short, "short"), (self.absolute, "absolute")

    def _cell(self, kind: str, ctx: RiskContext, st: RiskState) -> Cell | None:
        ir = ctx.ir
        assert ir is not None
        if kind in (INSTRUMENT, PORTFOLIO):
            return ir.total
        if kind == STRATEGY:
            return st.strategy_cell(ctx.sid, ctx.iid)
        return st.account_cell(ctx.account, ctx.iid)

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        # no ``increasing_qty == 0`` shortcut: a buy that cuts a short position of 2 while 52 are bid
        # still takes the position to 50 + its own size if everything fills (the worst case below)
        sk = ctx.keys
        st = ctx.state
        assert st is not None
        p = ctx.instrument.size_precision
        scale = 10 ** (9 - p)  # as :func:`_nano`
        qty = ctx.qty
        buy = order.side is _BUY
        # a sell cannot raise the long side, a buy cannot raise the short side
        for limits, what in (self._buy_sides if buy else self._sell_sides):
            for kind, i, table, default in limits.ientries:
                key = sk[i]
                lim = table.get(key, default) if table else default
                if lim is None:
                    continue
                if kind in (INSTRUMENT, PORTFOLIO):  # as :meth:`_cell`
                    cell = ctx.ir.total  # type: ignore[union-attr]
                elif kind == STRATEGY:
                    cell = st._strat_cells.get((ctx.sid, ctx.iid))
                    if cell is None:
                        cell = st.strategy_cell(ctx.sid, ctx.iid)  # created (with the account's) on first use
                else:
                    cell = st.account_cell(ctx.account, ctx.iid)
                # worst case on the order's side: position plus every open order on that side, plus this one
                if cell is None:
                    worst = qty  # no position and no open orders: -(0 - 0 - qty) on the sell side
                else:
                    worst = cell.qty + cell.open_buy + qty if buy else -(cell.qty - cell.open_sell - qty)
                if worst * scale > lim:
                    where = label(kind, ctx.iid if kind == PORTFOLIO else key)
                    return (f"{what} position would reach {raw_to_str(worst, p)} with open orders, "
                            f"over the {where} limit {raw_to_str(lim, 9).rstrip('0').rstrip('.')}")
        return None


@dataclass(slots=True)
class ExposureLimit:
    """Gross and net exposure caps (money raw) per instrument, sector, strategy, account, venue or
    portfolio. Worst case: positions at mark, plus open orders (the larger side for gross, each side
    for net), plus this order."""

    gross: ScopedLimits
    net: ScopedLimits
    name: str = "exposure_limit"
    needs_marks = True
    increasing_only = True  # passes every order with ``increasing_qty == 0`` (the engine skips it for those)

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        if ctx.increasing_qty == 0:
            return None
        st = ctx.state
        assert st is not None
        if ctx.px is None:
            return "no reference price to value the order"
        n = ctx.notional
        buy = order.side is OrderSide.BUY
        for kind, i, table, default in self.gross.ientries:
            key = sk[i]
            lim = table.get(key, default) if table else default
            if lim is None:
                continue
            a = st.aggs[kind].get(key)
            if a is None:
                worst = n
            else:
                ob, os_ = a.open_buy, a.open_sell
                worst = a.gross + (ob if ob >= os_ else os_) + n
            if worst > lim:
                return f"gross exposure would reach {_money(worst)}, over the {label(kind, key)} limit {_money(lim)}"
        for kind, i, table, default in self.net.ientries:
            key = sk[i]
            lim = table.get(key, default) if table else default
            if lim is None:
                continue
            a = st.aggs[kind].get(key)
            net, ob, os_ = (a.net, a.open_buy, a.open_sell) if a is not None else (0, 0, 0)
            worst = net + ob + n if buy else -(net - os_ - n)
            if worst > lim:
                return f"net exposure would reach {_money(worst if buy else -worst)}, over the {label(kind, key)} limit {_money(lim)}"
        return None


@dataclass(slots=True)
class ConcentrationLimit:
    """Gross exposure of one instrument or one sector (worst case, as :class:`ExposureLimit`) at most
    ``bps`` of the portfolio's equity."""

    bps: ScopedLimits
    name: str = "concentration"
    needs_marks = True
    increasing_only = True

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        if ctx.increasing_qty == 0:
            return None
        st = ctx.state
        assert st is not None
        if ctx.px is None:
            return "no reference price to value the order"
        equity = ctx.portfolio.equity()
        for kind, i, table, default in self.bps.ientries:
            key = sk[i]
            bps = table.get(key, default) if table else default
            if bps is None:
                continue
            a = st.aggs[kind].get(key)
            if a is None:
                worst = ctx.notional
            else:
                ob, os_ = a.open_buy, a.open_sell
                worst = a.gross + (ob if ob >= os_ else os_) + ctx.notional
            if worst * 10_000 > bps * equity:
                share = worst * 100 / equity if equity > 0 else float("inf")
                return f"{label(kind, key)} would be {share:.2f}% of equity, over the {bps / 100:g}% limit"
        return None


@dataclass(slots=True)
class LossLimit:
    """Deny new risk once a scope has lost ``daily`` since the day's start, ``drawdown`` from the day's
    peak, or ``rolling`` over the trailing ``window_ns`` (realized + unrealized, money raw)."""

    daily: ScopedLimits
    drawdown: ScopedLimits
    rolling: ScopedLimits
    window_ns: int = 3_600_000_000_000
    name: str = "loss_limit"
    needs_marks = True
    increasing_only = True

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        if ctx.increasing_qty == 0:
            return None
        st = ctx.state
        assert st is not None
        for limits, what in ((self.daily, "daily loss"), (self.drawdown, "drawdown from the day's peak"),
                             (self.rolling, "rolling loss")):
            for kind, i, table, default in limits.ientries:
                key = sk[i]
                lim = table.get(key, default) if table else default
                if lim is None:
                    continue
                a = st.aggs[kind].get(key)
                if a is None:
                    continue
                # as :func:`loss`
                if what == "daily loss":
                    v = a.day_start - (a.cash_flow + a.net)
                elif what == "rolling loss":
                    v = a.samples[0][1] - (a.cash_flow + a.net) if a.samples else 0
                else:
                    v = a.day_peak - (a.cash_flow + a.net)
                if v > lim:
                    return f"{what} {_money(v)} of {label(kind, key)} is over the limit {_money(lim)}"
        return None


def loss(a: Agg, what: str) -> int:
    """A scope's current daily loss, drawdown from the day's peak or rolling-window loss (money raw)."""
    pnl = a.cash_flow + a.net
    if what == "daily loss":
        return a.day_start - pnl
    if what == "rolling loss":
        return a.samples[0][1] - pnl if a.samples else 0
    return a.day_peak - pnl
