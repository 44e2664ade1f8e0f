"""Fee models: one context in, commission (money raw, account currency) out.

All models round the commission half-up to the currency's minor unit (cents for USD), as brokers
bill, unless ``round_to_minor=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradeforge.model.enums import LiquiditySide
from tradeforge.model.fixed import round_money_raw
from tradeforge.model.instruments import Instrument


@dataclass(frozen=True, slots=True)
class FeeContext:
    instrument: Instrument
    fill_qty: int  # raw
    fill_px: int  # raw
    liquidity_side: LiquiditySide


class FeeModel(Protocol):
    def commission(self, ctx: FeeContext) -> int: ...


def _clamp(fee: int, minimum: int, maximum: int | None) -> int:
    fee = max(fee, minimum)
    return fee if maximum is None else min(fee, maximum)


class NoFee:
    """Zero commission."""

    def commission(self, ctx: FeeContext) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class PerUnitFee:
    """``per_unit`` money per unit of quantity (per share / per contract), with a minimum per fill
    and a maximum of ``max_bps`` of notional (IBKR-style)."""

    per_unit_raw: int  # money raw per one whole unit
    minimum_raw: int = 0
    max_bps: int | None = None
    round_to_minor: bool = True

    def commission(self, ctx: FeeContext) -> int:
        inst = ctx.instrument
        fee = self.per_unit_raw * ctx.fill_qty // 10**inst.size_precision
        cap = None if self.max_bps is None else inst.notional_raw(abs(ctx.fill_px), ctx.fill_qty) * self.max_bps // 10_000
        fee = _clamp(fee, self.minimum_raw, cap)
        return round_money_raw(fee, inst.currency) if self.round_to_minor else fee


@dataclass(frozen=True, slots=True)
class BpsFee:
    """Basis points of notional, separately for maker and taker (negative maker = rebate)."""

    maker_bps: float
    taker_bps: float
    minimum_raw: int = 0
    round_to_minor: bool = True

    def commission(self, ctx: FeeContext) -> int:
        inst = ctx.instrument
        bps = self.maker_bps if ctx.liquidity_side is LiquiditySide.MAKER else self.taker_bps
        # bps to an exact rational with 1e-6 bps resolution: no float in the money path
        bps_micro = round(bps * 1_000_000)
        notional = inst.notional_raw(abs(ctx.fill_px), ctx.fill_qty)
        fee = notional * bps_micro // (10_000 * 1_000_000)
        if fee >= 0:
            fee = max(fee, self.minimum_raw)
        return round_money_raw(fee, inst.currency) if self.round_to_minor else fee
