"""Compiles a list of standard checks into the plan rows, limit entries and key-indexed tables the
decision kernel walks (see :mod:`tradeforge.risk.compiled_kernel`).

One plan row per check, in the engine's order: a code, up to three ranges of scoped-limit entries and
a few parameters. Each entry names a scope kind and a ``lim`` row holding that limit's value for every
key of the kind (filled as keys appear: ``table.get(key, default)``, ``NONE`` for ``None``).
:func:`compile_checks` returns ``None`` when a check is not one the kernel reproduces exactly (a
custom check, a subclass, a value that is not an int64): the engine then keeps the plug-in path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tradeforge.risk.checks import (
    BuyingPower,
    MaxOrderNotional,
    MaxOrderQuantity,
    PriceCollar,
    ReduceOnlyCheck,
    TradingStateCheck,
)
from tradeforge.risk.checks_flow import MaxOpenOrders, Throttle
from tradeforge.risk.checks_limits import ConcentrationLimit, ExposureLimit, LossLimit, PositionLimit
from tradeforge.risk.checks_order import (
    DuplicateOrderCheck,
    LotTickCheck,
    MaxAdvPct,
    MinOrderSize,
    ReferenceCollar,
    RestrictedList,
    SelfTradeCheck,
)
from tradeforge.risk.compiled_layout import INT64_MAX, NONE, NP
from tradeforge.risk.scope import INSTRUMENT, KEY_INDEX, ScopedLimits

(TRADING_STATE, REDUCE_ONLY, LOT_TICK, MIN_SIZE, MAX_QTY, MAX_NOTIONAL, PRICE_COLLAR, BUYING_POWER, REF_COLLAR,
 DUPLICATE, RESTRICTED, SELF_TRADE, THROTTLE, MAX_OPEN, MAX_ADV, POSITION, EXPOSURE, CONCENTRATION, LOSS) = range(1, 20)
REFERENCES = {"mark": 0, "last": 1, "mid": 2}
INST_KIND = KEY_INDEX[INSTRUMENT]


class Unsupported(Exception):
    """A check (or one of its values) the compiled kernel does not reproduce."""


@dataclass(slots=True)
class LimTable:
    """One key-indexed row of ``lim``: a value per key of ``kind`` (``table.get(key, default)``)."""

    kind: int
    table: dict[str, Any]
    default: Any

    def value(self, key: str) -> int:
        v = self.table.get(key, self.default) if self.table else self.default
        return NONE if v is None else int(v)


@dataclass(slots=True)
class Plan:
    """What the kernel walks: ``rows`` (plan), ``entries`` (kind, lim row, ring), ``lims`` (key-indexed)."""

    rows: list[list[int]] = field(default_factory=list)
    entries: list[tuple[int, int, int]] = field(default_factory=list)
    lims: list[LimTable] = field(default_factory=list)
    #: ``(kind index, scope kind name, throttle)`` per throttle ring entry, in ring order
    rings: list[tuple[int, str, Throttle]] = field(default_factory=list)
    duplicate: DuplicateOrderCheck | None = None
    uses_pf_price: bool = False  # PriceCollar reads the portfolio's last price for every order
    uses_money: bool = False  # buying power or concentration: cash, equity, margin per order
    uses_margin: bool = False

    def lim(self, kind: int, table: dict[str, Any], default: Any) -> int:
        for v in (default, *table.values()):
            _int64(v)
        self.lims.append(LimTable(kind, table, default))
        return len(self.lims) - 1

    def group(self, limits: ScopedLimits, ring: Throttle | None = None) -> tuple[int, int]:
        start = len(self.entries)
        for kind, i, table, default in limits.ientries:
            r = -1
            if ring is not None:
                r = len(self.rings)
                self.rings.append((i, kind, ring))
            self.entries.append((i, self.lim(i, table, default), r))
        return start, len(self.entries)

    def add(self, code: int, groups: tuple[ScopedLimits, ...] = (), params: tuple[int, ...] = (),
            ring: Throttle | None = None) -> None:
        bounds = [len(self.entries)]
        for g in groups:
            bounds.append(self.group(g, ring)[1])
        bounds += [bounds[-1]] * (4 - len(bounds))
        row = [code, *bounds[:4], *(_int64(p) for p in params)]
        self.rows.append(row + [0] * (NP - len(row)))


def _int64(v: Any) -> int:
    if v is None:
        return NONE
    if type(v) not in (int, bool) or not -INT64_MAX <= v <= INT64_MAX:
        raise Unsupported(f"value {v!r} is not an int64")
    return int(v)


def compile_checks(checks: list[Any]) -> Plan | None:
    """The plan of ``checks`` (the engine's list, trading state first), or ``None`` if unsupported."""
    try:
        return _compile(checks)
    except Unsupported:
        return None


def _compile(checks: list[Any]) -> Plan:
    p = Plan()
    for c in checks:
        t = type(c)
        if t is TradingStateCheck:
            p.add(TRADING_STATE)
        elif t is ReduceOnlyCheck:
            p.add(REDUCE_ONLY)
        elif t is LotTickCheck:
            p.add(LOT_TICK)
        elif t is MinOrderSize:
            p.add(MIN_SIZE, (c.min_quantity, c.min_notional))
        elif t is MaxOrderQuantity:
            p.add(MAX_QTY, params=(p.lim(INST_KIND, c.per_instrument_nano, c.default_nano),))
        elif t is MaxOrderNotional:
            p.add(MAX_NOTIONAL, params=(p.lim(INST_KIND, c.per_instrument_raw, c.default_raw),))
        elif t is PriceCollar:
            p.uses_pf_price = True
            p.add(PRICE_COLLAR, params=(c.bps,))
        elif t is BuyingPower:
            p.uses_money = p.uses_margin = True
            p.add(BUYING_POWER, params=(c.market_buffer_bps, int(bool(c.allow_short_cash_settled))))
        elif t is ReferenceCollar:
            if c.reference not in REFERENCES or c.missing not in ("deny", "allow"):
                raise Unsupported("reference collar options")
            band = -1
            if c.bands:
                band = p.lim(INST_KIND, {k: v[0] for k, v in c.bands.items()}, None)
                p.lim(INST_KIND, {k: v[1] for k, v in c.bands.items()}, None)
            p.add(REF_COLLAR, (c.bps,), (REFERENCES[c.reference], _int64(c.max_age_ns),
                                        int(c.missing == "allow"), band))
        elif t is DuplicateOrderCheck:
            if p.duplicate is not None:
                raise Unsupported("more than one duplicate check")
            p.duplicate = c
            p.add(DUPLICATE, params=(c.window_ns, int(bool(c.per_strategy))))
        elif t is RestrictedList:
            flags = {iid: 2 for iid in c.halted} | {iid: 1 for iid in c.restricted}
            p.add(RESTRICTED, params=(p.lim(INST_KIND, flags, 0),))
        elif t is SelfTradeCheck:
            p.add(SELF_TRADE)
        elif t is Throttle:
            p.add(THROTTLE, (c.limits,), (c.window_ns, int(bool(c.messages))), ring=c)
        elif t is MaxOpenOrders:
            p.add(MAX_OPEN, (c.limits,))
        elif t is MaxAdvPct:
            adv = p.lim(INST_KIND, c.adv, None) if c.adv else -1
            p.add(MAX_ADV, (c.bps,), (int(c.missing == "allow"), adv))
        elif t is PositionLimit:
            p.add(POSITION, (c.long, c.short, c.absolute))
        elif t is ExposureLimit:
            p.add(EXPOSURE, (c.gross, c.net))
        elif t is ConcentrationLimit:
            p.uses_money = True
            p.add(CONCENTRATION, (c.bps,))
        elif t is LossLimit:
            for limits in (c.daily, c.drawdown, c.rolling):
                for _k, _i, table, default in limits.ientries:
                    if any(v is not None and _int64(v) < 0 for v in (default, *table.values())):
                        raise Unsupported("a negative loss limit")  # a missing book would pass it
            p.add(LOSS, (c.daily, c.drawdown, c.rolling))
        else:
            raise Unsupported(f"{t.__name__} is not a standard check")
    return p
