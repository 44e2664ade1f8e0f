"""Instruments and the instrument file.

An instrument fixes the precisions and grids of everything traded in it. Prices are raw integers at
``price_precision`` on a grid of ``tick_size``; quantities are raw integers at ``size_precision`` on a
grid of ``lot_size``. ``notional_raw(price_raw, qty_raw)`` gives exact money at MONEY_PRECISION.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from tradeforge.model.fixed import (
    MONEY_PRECISION,
    FixedPointError,
    Price,
    Quantity,
    parse_raw,
    raw_to_str,
)
from tradeforge.model.identifiers import InstrumentId


class InstrumentKind(Enum):
    EQUITY = "equity"
    FUTURE = "future"
    FX = "fx"
    CRYPTO_SPOT = "crypto_spot"
    CRYPTO_PERPETUAL = "crypto_perpetual"


#: Kinds whose positions settle their full notional in cash; the others are margined.
CASH_SETTLED = frozenset({InstrumentKind.EQUITY, InstrumentKind.CRYPTO_SPOT})


class InstrumentError(ValueError):
    """An instrument definition is invalid or an instrument is unknown."""


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument; all grids are held as raw integers."""

    id: InstrumentId
    kind: InstrumentKind
    currency: str
    price_precision: int
    size_precision: int
    tick_size_raw: int
    lot_size_raw: int
    min_quantity_raw: int
    multiplier: int = 1
    margin_init_bps: int = 0  # initial margin as basis points of notional (margined kinds)
    margin_maint_bps: int | None = None  # maintenance margin, bps of notional; None: the initial margin
    expiry_ns: int | None = None
    base_currency: str | None = None  # FX and crypto
    notional_factor: int = field(init=False)  # money_raw = price_raw * qty_raw * notional_factor

    def __post_init__(self) -> None:
        exp = MONEY_PRECISION - self.price_precision - self.size_precision
        if exp < 0:
            raise InstrumentError(
                f"{self.id}: price_precision + size_precision must be <= {MONEY_PRECISION} for exact money"
            )
        if self.tick_size_raw <= 0 or self.lot_size_raw <= 0 or self.multiplier <= 0:
            raise InstrumentError(f"{self.id}: tick_size, lot_size and multiplier must be positive")
        if self.min_quantity_raw < 0 or self.min_quantity_raw % self.lot_size_raw:
            raise InstrumentError(f"{self.id}: min_quantity must be a non-negative multiple of lot_size")
        if self.kind is InstrumentKind.FUTURE and self.expiry_ns is None:
            raise InstrumentError(f"{self.id}: a future needs an expiry")
        if self.margin_maint_bps is None:
            object.__setattr__(self, "margin_maint_bps", self.margin_init_bps)
        elif not 0 <= self.margin_maint_bps <= self.margin_init_bps:
            raise InstrumentError(
                f"{self.id}: margin_maint_bps ({self.margin_maint_bps}) must lie between 0 and "
                f"margin_init_bps ({self.margin_init_bps})"
            )
        object.__setattr__(self, "notional_factor", self.multiplier * 10**exp)

    @property
    def venue(self) -> str:
        return self.id.venue

    @property
    def cash_settled(self) -> bool:
        return self.kind in CASH_SETTLED

    # -- conversions (not for the per-event path; there use raw integers) --
    def price(self, value: str | int | float | Price) -> int:
        """Raw price from a human value; must lie on the tick grid."""
        raw = parse_raw(str(value) if isinstance(value, Price) else value, self.price_precision, f"{self.id} price")
        self.check_price(raw)
        return raw

    def quantity(self, value: str | int | float | Quantity) -> int:
        """Raw quantity from a human value; must lie on the lot grid and be positive."""
        text = str(value) if isinstance(value, Quantity) else value
        raw = parse_raw(text, self.size_precision, f"{self.id} quantity")
        self.check_quantity(raw)
        return raw

    def check_price(self, raw: int) -> None:
        if raw % self.tick_size_raw:
            raise FixedPointError(
                f"{self.id}: price {raw_to_str(raw, self.price_precision)} is off the tick grid "
                f"{raw_to_str(self.tick_size_raw, self.price_precision)}"
            )

    def check_quantity(self, raw: int) -> None:
        if raw <= 0:
            raise FixedPointError(f"{self.id}: quantity must be positive")
        if raw % self.lot_size_raw:
            raise FixedPointError(
                f"{self.id}: quantity {raw_to_str(raw, self.size_precision)} is off the lot grid "
                f"{raw_to_str(self.lot_size_raw, self.size_precision)}"
            )
        if raw < self.min_quantity_raw:
            raise FixedPointError(
                f"{self.id}: quantity {raw_to_str(raw, self.size_precision)} is below the minimum "
                f"{raw_to_str(self.min_quantity_raw, self.size_precision)}"
            )

    def make_price(self, raw: int) -> Price:
        return Price(raw, self.price_precision)

    def make_quantity(self, raw: int) -> Quantity:
        return Quantity(raw, self.size_precision)

    def price_to_float(self, raw: int) -> float:
        return raw / 10**self.price_precision

    def notional_raw(self, price_raw: int, qty_raw: int) -> int:
        """Exact notional (price x quantity x multiplier) as money raw."""
        return price_raw * qty_raw * self.notional_factor


_KNOWN_KEYS = {
    "id", "kind", "currency", "price_precision", "size_precision", "tick_size", "lot_size",
    "min_quantity", "multiplier", "margin_init_bps", "margin_maint_bps", "expiry", "base_currency", "symbols", "venue",
}


def _decimals(text: str) -> int:
    return len(text.partition(".")[2]) if "." in text else 0


def instrument_from_dict(spec: dict[str, Any], where: str) -> Instrument:
    """Build one instrument from a mapping (a TOML table); errors name ``where`` and the key."""
    unknown = set(spec) - _KNOWN_KEYS
    if unknown:
        raise InstrumentError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in ("id", "kind", "currency", "tick_size", "lot_size"):
        if key not in spec:
            raise InstrumentError(f"{where}: missing required key '{key}'")
    try:
        kind = InstrumentKind(spec["kind"])
    except ValueError:
        raise InstrumentError(
            f"{where}.kind: {spec['kind']!r} is not one of {[k.value for k in InstrumentKind]}"
        ) from None
    tick = str(spec["tick_size"])
    lot = str(spec["lot_size"])
    pp = int(spec.get("price_precision", _decimals(tick)))
    sp = int(spec.get("size_precision", _decimals(lot)))
    expiry_ns = None
    if "expiry" in spec:
        from tradeforge.model.timeutil import parse_timestamp_ns

        try:
            expiry_ns = parse_timestamp_ns(str(spec["expiry"]))
        except ValueError as exc:
            raise InstrumentError(f"{where}.expiry: {exc}") from None
    try:
        return Instrument(
            id=InstrumentId(str(spec["id"])),
            kind=kind,
            currency=str(spec["currency"]),
            price_precision=pp,
            size_precision=sp,
            tick_size_raw=parse_raw(tick, pp, f"{where}.tick_size"),
            lot_size_raw=parse_raw(lot, sp, f"{where}.lot_size"),
            min_quantity_raw=parse_raw(str(spec.get("min_quantity", lot)), sp, f"{where}.min_quantity"),
            multiplier=int(spec.get("multiplier", 1)),
            margin_init_bps=int(spec.get("margin_init_bps", 0 if kind in CASH_SETTLED else 1000)),
            margin_maint_bps=int(spec["margin_maint_bps"]) if "margin_maint_bps" in spec else None,
            expiry_ns=expiry_ns,
            base_currency=spec.get("base_currency"),
        )
    except (FixedPointError, ValueError) as exc:
        raise InstrumentError(f"{where}: {exc}") from None


class InstrumentProvider:
    """Instruments by id; an unknown id raises an error that lists how to fix it."""

    def __init__(self, instruments: list[Instrument] | None = None) -> None:
        self._by_id: dict[str, Instrument] = {}
        for inst in instruments or []:
            self.add(inst)

    def add(self, instrument: Instrument) -> None:
        if instrument.id in self._by_id:
            raise InstrumentError(f"instrument {instrument.id} defined twice")
        self._by_id[instrument.id] = instrument

    def get(self, instrument_id: str) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise InstrumentError(
                f"unknown instrument {instrument_id!r}: it is not in the instrument file "
                f"({len(self._by_id)} instruments loaded)"
            ) from None

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @classmethod
    def from_toml(cls, path: str | Path) -> InstrumentProvider:
        """Load ``[[instrument]]`` tables, and ``[[group]]`` tables whose ``symbols`` share one spec.

        A group entry needs ``venue`` and builds ids ``SYMBOL.VENUE`` for each symbol.
        """
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InstrumentError(f"{path}: cannot read instrument file: {exc}") from None
        provider = cls()
        for i, spec in enumerate(doc.get("instrument", [])):
            provider.add(instrument_from_dict(spec, f"{path}: instrument[{i}]"))
        for g, group in enumerate(doc.get("group", [])):
            where = f"{path}: group[{g}]"
            if "symbols" not in group or "venue" not in group:
                raise InstrumentError(f"{where}: a group needs 'symbols' and 'venue'")
            shared = {k: v for k, v in group.items() if k not in ("symbols", "venue")}
            for sym in group["symbols"]:
                provider.add(instrument_from_dict({**shared, "id": f"{sym}.{group['venue']}"}, f"{where}.{sym}"))
        unknown = set(doc) - {"instrument", "group"}
        if unknown:
            raise InstrumentError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
        return provider
