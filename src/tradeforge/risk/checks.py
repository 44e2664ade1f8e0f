"""Pre-trade checks: small plug-ins, each answering "deny, and why" or "pass" for one order.

A check gets the order and one :class:`RiskContext`; it returns ``None`` to pass or a reason string
to deny. The engine fills one reused context per decision (no allocation on the hot path) with the
order's scope keys, its reference price and notional, and the incremental books
(:class:`~tradeforge.risk.state.RiskState`). More checks live in ``checks_order``, ``checks_limits``
and ``checks_flow``; they are added by appending to the engine's list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tradeforge.model.enums import OrderSide, OrderType, TradingState
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.portfolio.portfolio import Portfolio

if TYPE_CHECKING:
    from tradeforge.risk.state import InstRisk, RiskState

_MARKET_TYPES = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TRAILING_STOP_MARKET)
_BUY = OrderSide.BUY
_SELL = OrderSide.SELL


@dataclass(slots=True)
class RiskContext:
    """Everything a check may look at. Passed as one object so checks can gain inputs later."""

    instrument: Instrument
    instruments: Callable[[str], Instrument]
    portfolio: Portfolio
    open_orders: Callable[[], Iterable[Order]]
    trading_state: TradingState
    now_ns: int
    #: the quantity that would increase |position| if this order filled (0 = the order only reduces)
    increasing_qty: int = 0
    #: the incremental books (positions, open orders, exposure, P&L by scope) and this instrument's row
    state: RiskState | None = None
    ir: InstRisk | None = None
    #: the order's scope keys (see :mod:`tradeforge.risk.scope`)
    iid: str = ""
    sid: str = ""
    account: str = ""
    venue: str = ""
    sector: str = ""
    pkey: str = "*"
    #: quantity this decision adds to what is already counted for the order id (a modify counts the change)
    qty: int = 0
    #: reference price of the order (limit/trigger, else the latest mark; ``None`` if there is none)
    px: int | None = None
    #: ``qty`` valued at ``px`` (money raw; 0 without a price)
    notional: int = 0
    #: what the effective trading state comes from ("" = the whole system)
    state_scope: str = ""
    #: ``increasing_qty`` judged on the position of the scope the state comes from (a REDUCING
    #: strategy may cut its own position even where that adds to the account's net position)
    state_increasing_qty: int = 0
    #: the order's scope keys ``(iid, sid, account, venue, sector, "*")``: ``ScopedLimits.ientries``
    #: index them (see :data:`~tradeforge.risk.scope.KEY_INDEX`)
    keys: tuple[str, ...] = ()


class RiskCheck(Protocol):
    name: str

    def check(self, order: Order, ctx: RiskContext) -> str | None: ...


def order_reference_price(order: Order, ctx: RiskContext) -> int | None:
    """The price an order is judged at: its limit/trigger price, else the last reference price."""
    if order.price is not None:
        return order.price
    if order.trigger_price is not None:
        return order.trigger_price
    return ctx.portfolio.last_price(order.instrument_id)


class TradingStateCheck:
    """HALTED denies everything; REDUCING denies anything that would increase a position."""

    name = "trading_state"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        if ctx.trading_state is TradingState.HALTED:
            return f"trading is halted for {ctx.state_scope}" if ctx.state_scope else "trading is halted"
        if ctx.trading_state is TradingState.REDUCING and ctx.state_increasing_qty > 0:
            where = f" for {ctx.state_scope}" if ctx.state_scope else ""
            return f"trading state is REDUCING{where} and the order would increase the position"
        return None


class ReduceOnlyCheck:
    """A reduce-only order must not be able to increase or flip the position."""

    name = "reduce_only"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        if order.reduce_only and ctx.increasing_qty > 0:
            return "reduce-only order would increase the position"
        return None


@dataclass(slots=True)
class MaxOrderQuantity:
    """Fat-finger limit on quantity in units (held at 1e-9 so one limit fits every precision),
    per instrument with a default."""

    default_nano: int | None
    per_instrument_nano: dict[str, int]
    name: str = "max_order_quantity"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        per = self.per_instrument_nano
        limit = per.get(order.instrument_id, self.default_nano) if per else self.default_nano
        if limit is None:
            return None
        p = ctx.instrument.size_precision
        if order.quantity * 10 ** (9 - p) > limit:
            return f"quantity {raw_to_str(order.quantity, p)} exceeds max {raw_to_str(limit, 9).rstrip('0').rstrip('.')}"
        return None


@dataclass(slots=True)
class MaxOrderNotional:
    """Fat-finger limit on notional (money raw), per instrument with a default."""

    default_raw: int | None
    per_instrument_raw: dict[str, int]
    name: str = "max_order_notional"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        per = self.per_instrument_raw
        limit = per.get(order.instrument_id, self.default_raw) if per else self.default_raw
        if limit is None:
            return None
        px = order_reference_price(order, ctx)
        if px is None:
            return "no reference price to value the order"
        notional = ctx.instrument.notional_raw(abs(px), order.quantity)
        if notional > limit:
            return f"notional {raw_to_str(notional, 9)} exceeds max {raw_to_str(limit, 9)}"
        return None


@dataclass(slots=True)
class PriceCollar:
    """Limit/trigger prices must lie within ``bps`` of the last reference price; no reference -> deny."""

    bps: int
    name: str = "price_collar"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        ref = ctx.portfolio.last_price(order.instrument_id)
        if ref is None:
            return "no reference price (no market data seen yet)"
        for label, px in (("price", order.price), ("trigger price", order.trigger_price)):
            if px is not None and abs(px - ref) * 10_000 > self.bps * abs(ref):
                p = ctx.instrument.price_precision
                return (
                    f"{label} {raw_to_str(px, p)} is outside the {self.bps} bps collar around "
                    f"{raw_to_str(ref, p)}"
                )
        return None


@dataclass(slots=True)
class BuyingPower:
    """Cash (cash-settled buys) or margin (margined instruments) must cover the order, net of what
    open orders already reserve — a new order cannot spend cash another order or position uses.

    Market orders are valued at the reference price plus ``market_buffer_bps`` (the next fill may
    gap). In a CASH account short sales of cash-settled instruments are denied.
    """

    market_buffer_bps: int = 100
    allow_short_cash_settled: bool = False
    name: str = "buying_power"
    increasing_only = True  # passes every order with ``increasing_qty == 0`` (the engine skips it for those)

    def _order_cost(self, order: Order, inst: Instrument, ctx: RiskContext, qty: int) -> int:
        return self.cost(order, inst, order_reference_price(order, ctx) or 0, qty)

    def cost(self, order: Order, inst: Instrument, px: int, qty: int) -> int:
        """Cash (cash-settled buys) or initial margin ``qty`` of ``order`` needs at price ``px``."""
        if order.order_type in _MARKET_TYPES:
            px = px + abs(px) * self.market_buffer_bps // 10_000
        notional = inst.notional_raw(abs(px), qty)
        if inst.cash_settled:
            return notional if order.side is _BUY else 0
        return notional * inst.margin_init_bps // 10_000

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        inc = ctx.increasing_qty
        if inc == 0:
            return None
        inst = ctx.instrument
        pf = ctx.portfolio
        ir = ctx.ir
        cash = ir.cash_settled if ir is not None else inst.cash_settled
        if cash and order.side is _SELL and not self.allow_short_cash_settled:
            return "short sale of a cash-settled instrument in a cash account"
        px = order.price
        if px is None:
            px = order.trigger_price
            if px is None:
                px = pf.last_price(order.instrument_id)
                if px is None:
                    return "no reference price to value the order"
        st = ctx.state
        if st is not None and st.cost_of is not None:  # incremental: what open orders reserve, kept by the books
            t = st.tracked.get(order.client_order_id)
            reserved = st.portfolio_reserved if t is None else st.portfolio_reserved - t.cost
        else:
            reserved = 0
            for o in ctx.open_orders():
                if o is not order and o.leaves_qty and not o.reduce_only:
                    reserved += self._order_cost(o, ctx.instruments(o.instrument_id), ctx, o.leaves_qty)
        # the cost of the increasing quantity (as :meth:`cost`, with the instrument's flags read once)
        if order.order_type in _MARKET_TYPES:
            px = px + abs(px) * self.market_buffer_bps // 10_000
        notional = (px if px >= 0 else -px) * inc * (ir.factor if ir is not None else inst.notional_factor)
        need = (notional if order.side is _BUY else 0) if cash else notional * inst.margin_init_bps // 10_000
        margin = st.margin_used if st is not None and st.marked else pf.margin_used()  # O(1) when the books see prices
        available = min(pf.cash, pf.equity()) - margin - reserved
        if need > available:
            return f"insufficient buying power: needs {raw_to_str(need, 9)}, available {raw_to_str(available, 9)}"
        return None

