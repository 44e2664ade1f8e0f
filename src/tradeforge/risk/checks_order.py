"""Order-level checks: validity, size floor, reference collar, duplicates, restricted list, self-trade, % ADV.

Each reads only the order and the reused :class:`~tradeforge.risk.checks.RiskContext` (no scans of
the book, except self-trade, which looks at this instrument's own open orders only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradeforge.model.enums import OrderSide, OrderType
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.orders import Order
from tradeforge.risk.checks import RiskContext
from tradeforge.risk.scope import ScopedLimits, label

NS_PER_S = 1_000_000_000


def _units(qty_raw: int, precision: int) -> str:
    return raw_to_str(qty_raw, precision)


def _money(raw: int) -> str:
    return raw_to_str(raw, 9)


class LotTickCheck:
    """Quantity on the lot grid and at least the instrument's minimum; prices on the tick grid."""

    name = "lot_tick"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        inst = ctx.instrument
        q = order.quantity
        if q <= 0 or q % inst.lot_size_raw:
            return f"quantity {_units(q, inst.size_precision)} is off the lot grid {_units(inst.lot_size_raw, inst.size_precision)}"
        if q < inst.min_quantity_raw:
            return f"quantity {_units(q, inst.size_precision)} is below the instrument minimum"
        tick = inst.tick_size_raw
        if order.price is not None and order.price % tick:
            return f"price {raw_to_str(order.price, inst.price_precision)} is off the tick grid"
        if order.trigger_price is not None and order.trigger_price % tick:
            return f"trigger price {raw_to_str(order.trigger_price, inst.price_precision)} is off the tick grid"
        return None


@dataclass(slots=True)
class MinOrderSize:
    """Order size floor: quantity (units at 1e-9) and/or notional (money raw), per scope."""

    min_quantity: ScopedLimits
    min_notional: ScopedLimits
    name: str = "min_order_size"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        p = ctx.instrument.size_precision
        q_nano = order.quantity * 10 ** (9 - p)
        for kind, i, table, default in self.min_quantity.ientries:
            key = sk[i]
            lim = table.get(key, default) if table else default
            if lim is not None and q_nano < lim:
                return f"quantity {_units(order.quantity, p)} is below the {label(kind, key)} minimum {_units(lim, 9).rstrip('0').rstrip('.')}"
        if self.min_notional.entries and ctx.px is not None:
            ir = ctx.ir
            px = ctx.px
            # as ``Instrument.notional_raw(abs(px), quantity)``
            notional = (px if px >= 0 else -px) * order.quantity * (
                ir.factor if ir is not None else ctx.instrument.notional_factor)
            for kind, i, table, default in self.min_notional.ientries:
                key = sk[i]
                lim = table.get(key, default) if table else default
                if lim is not None and notional < lim:
                    return f"notional {_money(notional)} is below the {label(kind, key)} minimum {_money(lim)}"
        return None


@dataclass(slots=True)
class ReferenceCollar:
    """Limit and trigger prices within ``bps`` of a reference: the last trade/close (``last``), the quote
    mid (``mid``) or the latest price of any kind (``mark``); or inside a fixed per-instrument band.

    A reference older than ``max_age_ns`` is stale; a stale or missing reference denies the order
    unless ``missing`` is ``"allow"``. Market orders carry no price and are not collared.
    """

    bps: ScopedLimits
    reference: str = "mark"
    max_age_ns: int | None = None
    missing: str = "deny"
    bands: dict[str, tuple[int, int]] = field(default_factory=dict)  # instrument -> (low, high) raw prices
    name: str = "reference_collar"
    needs_marks = True

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        if order.price is None and order.trigger_price is None:
            return None
        p = ctx.instrument.price_precision
        band = self.bands.get(ctx.iid) if self.bands else None
        if band is not None:
            for what, px in (("price", order.price), ("trigger price", order.trigger_price)):
                if px is not None and not band[0] <= px <= band[1]:
                    return (f"{what} {raw_to_str(px, p)} is outside the reference band "
                            f"[{raw_to_str(band[0], p)}, {raw_to_str(band[1], p)}]")
        ir = ctx.ir
        assert ir is not None
        if self.reference == "last":
            ref, ts = ir.last, ir.last_ts
        elif self.reference == "mid":
            ref, ts = ir.mid, ir.mid_ts
        else:
            ref, ts = ir.mark, ir.mark_ts
        if ref is None:
            return None if self.missing == "allow" else f"no {self.reference} reference price"
        if self.max_age_ns is not None and ctx.now_ns - ts > self.max_age_ns:
            if self.missing == "allow":
                return None
            return (f"{self.reference} reference price is stale: {(ctx.now_ns - ts) / NS_PER_S:g} s old, "
                    f"max {self.max_age_ns / NS_PER_S:g} s")
        price, trigger = order.price, order.trigger_price
        aref = ref if ref >= 0 else -ref
        for kind, i, table, default in self.bps.ientries:
            key = sk[i]
            bps = table.get(key, default) if table else default
            if bps is None:
                continue
            lim = bps * aref
            if (price is None or abs(price - ref) * 10_000 <= lim) and (
                    trigger is None or abs(trigger - ref) * 10_000 <= lim):
                continue  # both inside the collar (the loop below names the first one outside)
            for what, px in (("price", price), ("trigger price", trigger)):
                if px is not None and abs(px - ref) * 10_000 > lim:
                    return (f"{what} {raw_to_str(px, p)} is outside the {label(kind, key)} {bps} bps collar around "
                            f"the {self.reference} {raw_to_str(ref, p)}")
        return None


class DuplicateOrderCheck:
    """Deny an order with the same instrument, side, price and quantity as one sent within ``window_ns``."""

    name = "duplicate"

    def __init__(self, window_ns: int, per_strategy: bool = False) -> None:
        self.window_ns = window_ns
        self.per_strategy = per_strategy
        self._seen: dict[tuple[object, ...], int] = {}
        self._prune_at = 4096

    def _key(self, order: Order) -> tuple[object, ...]:
        k = (order.instrument_id, order.side, order.price, order.trigger_price, order.quantity)
        return (*k, order.strategy_id) if self.per_strategy else k

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        k = (order.instrument_id, order.side, order.price, order.trigger_price, order.quantity)  # as :meth:`_key`
        ts = self._seen.get((*k, order.strategy_id) if self.per_strategy else k)
        if ts is not None and ctx.now_ns - ts < self.window_ns and ctx.state is not None \
                and ctx.state.tracked_leaves(order.client_order_id) == 0:
            return f"same instrument, side, price and size as an order {(ctx.now_ns - ts) / NS_PER_S:g} s ago"
        return None

    def on_submitted(self, order: Order, now_ns: int) -> None:
        """Called when an order passed and was sent."""
        seen = self._seen
        k = (order.instrument_id, order.side, order.price, order.trigger_price, order.quantity)  # as :meth:`_key`
        seen[(*k, order.strategy_id) if self.per_strategy else k] = now_ns
        if len(seen) > self._prune_at:  # keep the table bounded: drop entries outside the window
            cut = now_ns - self.window_ns
            for k in [k for k, t in seen.items() if t <= cut]:
                del seen[k]
            self._prune_at = max(4096, 2 * len(seen))


class RestrictedList:
    """Instruments on the restricted list (compliance) or halted (exchange halt) take no orders at all."""

    name = "restricted"

    def __init__(self, restricted: set[str] | None = None, halted: set[str] | None = None) -> None:
        self.restricted = set(restricted or ())
        self.halted = set(halted or ())

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        iid = order.instrument_id
        if iid in self.restricted:
            return f"{iid} is on the restricted list"
        if iid in self.halted:
            return f"{iid} is halted"
        return None


class SelfTradeCheck:
    """Deny an order that could trade against a resting order of another of our strategies."""

    name = "self_trade"

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        ir = ctx.ir
        if ir is None or not ir.open_orders:
            return None
        buy = order.side is OrderSide.BUY
        px = order.price if order.order_type is OrderType.LIMIT else None
        for o in ir.open_orders.values():
            if o.side is order.side or o.strategy_id == order.strategy_id or o.order_type is not OrderType.LIMIT:
                continue
            if o.client_order_id == order.client_order_id:
                continue
            rest = o.price
            assert rest is not None
            if px is None or (px >= rest if buy else px <= rest):
                return f"would trade against {o.client_order_id} of strategy {o.strategy_id}"
        return None


@dataclass(slots=True)
class MaxAdvPct:
    """Order quantity at most ``bps`` (1/100 %) of the average daily volume (completed days seen in the
    bars, or ``adv`` given per instrument, raw quantity). No ADV known: deny unless ``missing="allow"``."""

    bps: ScopedLimits
    adv: dict[str, int] = field(default_factory=dict)
    missing: str = "deny"
    name: str = "max_adv_pct"
    needs_marks = True
    increasing_only = True  # passes every order with ``increasing_qty == 0`` (the engine skips it for those)

    def check(self, order: Order, ctx: RiskContext) -> str | None:
        sk = ctx.keys
        if ctx.increasing_qty == 0:
            return None
        adv = self.adv.get(ctx.iid) if self.adv else None
        if adv is None and ctx.ir is not None:
            adv = ctx.ir.adv
        if not adv:
            return None if self.missing == "allow" else "no average daily volume known yet"
        for kind, i, table, default in self.bps.ientries:
            key = sk[i]
            bps = table.get(key, default) if table else default
            if bps is not None and order.quantity * 10_000 > bps * adv:
                p = ctx.instrument.size_precision
                return (f"quantity {_units(order.quantity, p)} is more than {bps / 100:g}% ({label(kind, key)}) "
                        f"of the average daily volume {_units(adv, p)}")
        return None
