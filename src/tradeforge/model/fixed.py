"""Exact fixed-point money: ``Price``, ``Quantity`` and ``Money``.

Every amount is an integer ``raw`` scaled by ``10**-precision``. Prices and quantities use the
precision of their instrument; money always uses :data:`MONEY_PRECISION` (nano-units of the
currency), so that ``price * quantity * multiplier`` is exact whenever an instrument's precisions
add up to at most ``MONEY_PRECISION`` (checked when the instrument is built).

Hot paths (events, matching, accounting) pass the bare ``raw`` integers around; these classes are
the typed, validating surface for users, configs and results. No ``Decimal`` is used except for
parsing and display.
"""

from __future__ import annotations

from decimal import MAX_PREC, Context, Decimal, InvalidOperation
from typing import Final

MAX_PRECISION: Final = 9
MONEY_PRECISION: Final = 9
MONEY_SCALE: Final = 10**MONEY_PRECISION

#: Minor-unit precision of common currencies (fees are rounded to these).
CURRENCY_PRECISION: Final = {
    "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CHF": 2, "AUD": 2, "CAD": 2,
    "USDT": 8, "USDC": 8, "BTC": 8, "ETH": 8,
}


class FixedPointError(ValueError):
    """A value cannot be represented exactly at the requested precision or grid."""


def _check_precision(precision: int) -> None:
    if not 0 <= precision <= MAX_PRECISION:
        raise FixedPointError(f"precision must be in 0..{MAX_PRECISION}, got {precision}")


def parse_raw(value: str | int | Decimal | float, precision: int, what: str = "value") -> int:
    """Convert a human value to a raw integer at ``precision``; reject anything not exact.

    Floats are accepted only when they round-trip exactly to a decimal with at most
    ``precision`` places (``1.10785`` at precision 5 is fine, ``0.1 + 0.2`` at precision 1 is not).
    """
    _check_precision(precision)
    if isinstance(value, bool):
        raise FixedPointError(f"{what}: booleans are not amounts")
    if isinstance(value, int):
        return value * 10**precision
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FixedPointError(f"{what}: {value!r} is not a finite number")
        # The shortest repr is the decimal the float stands for (0.1 + 0.2 -> '0.30000000000000004').
        value = repr(value)
    try:
        dec = Decimal(value) if isinstance(value, str) else value
        if not dec.is_finite():
            raise FixedPointError(f"{what}: {value!r} is not a finite number")
        scaled = dec.scaleb(precision, Context(prec=MAX_PREC))  # exact: no rounding to 28 digits
    except (InvalidOperation, ValueError) as exc:
        raise FixedPointError(f"{what}: {value!r} is not a decimal number") from exc
    if scaled != scaled.to_integral_value():
        raise FixedPointError(f"{what}: {value!r} has more than {precision} decimal places")
    return int(scaled)


def raw_to_decimal(raw: int, precision: int) -> Decimal:
    """Exact ``Decimal`` of a raw value (for display and output only)."""
    return Decimal(raw).scaleb(-precision)


def raw_to_str(raw: int, precision: int) -> str:
    """Exact decimal string with exactly ``precision`` places."""
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), 10**precision)
    return f"{sign}{whole}.{frac:0{precision}d}" if precision else f"{sign}{whole}"


def rescale(raw: int, from_precision: int, to_precision: int) -> int:
    """Exact change of precision; raises if information would be lost."""
    if to_precision >= from_precision:
        return raw * 10 ** (to_precision - from_precision)
    q, r = divmod(raw, 10 ** (from_precision - to_precision))
    if r:
        raise FixedPointError(f"{raw_to_str(raw, from_precision)} does not fit precision {to_precision}")
    return q


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (denominator > 0)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def round_to_increment(raw: int, increment: int, mode: str = "nearest") -> int:
    """Round ``raw`` to a multiple of ``increment`` (``nearest`` half-up, ``down``/``up`` = floor/ceil)."""
    if increment <= 0:
        raise FixedPointError(f"increment must be positive, got {increment}")
    if mode == "nearest":
        return round_half_up_div(raw, increment) * increment
    if mode == "down":
        return (raw // increment) * increment
    if mode == "up":
        return -((-raw) // increment) * increment
    raise FixedPointError(f"unknown rounding mode {mode!r} (nearest, down, up)")


class _Fixed:
    """Shared behaviour of Price and Quantity: raw integer plus precision, immutable."""

    __slots__ = ("precision", "raw")
    raw: int
    precision: int

    def __init__(self, raw: int, precision: int) -> None:
        _check_precision(precision)
        object.__setattr__(self, "raw", int(raw))
        object.__setattr__(self, "precision", precision)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @classmethod
    def from_str(cls, text: str, precision: int | None = None):
        """Parse ``"1.10785"``; precision defaults to the number of decimal places given."""
        if precision is None:
            precision = len(text.partition(".")[2]) if "." in text else 0
        return cls(parse_raw(text, precision, cls.__name__), precision)

    @classmethod
    def from_raw(cls, raw: int, precision: int):
        return cls(raw, precision)

    def _coerce(self, other: object) -> int:
        if type(other) is type(self):
            if other.precision != self.precision:  # type: ignore[attr-defined]
                raise FixedPointError(
                    f"{type(self).__name__} precision mismatch: {self.precision} vs {other.precision}"  # type: ignore[attr-defined]
                )
            return other.raw  # type: ignore[attr-defined]
        raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")

    def __add__(self, other: object):
        return type(self)(self.raw + self._coerce(other), self.precision)

    def __sub__(self, other: object):
        return type(self)(self.raw - self._coerce(other), self.precision)

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.raw * 10 ** (MAX_PRECISION - self.precision) == other.raw * 10 ** (  # type: ignore[attr-defined]
                MAX_PRECISION - other.precision  # type: ignore[attr-defined]
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.raw * 10 ** (MAX_PRECISION - self.precision)))

    def __lt__(self, other: object) -> bool:
        return self.raw < self._coerce(other)

    def __le__(self, other: object) -> bool:
        return self.raw <= self._coerce(other)

    def __gt__(self, other: object) -> bool:
        return self.raw > self._coerce(other)

    def __ge__(self, other: object) -> bool:
        return self.raw >= self._coerce(other)

    def as_decimal(self) -> Decimal:
        return raw_to_decimal(self.raw, self.precision)

    def as_float(self) -> float:
        return self.raw / 10**self.precision

    def round_to(self, increment: _Fixed, mode: str = "nearest"):
        """Round to a multiple of ``increment`` (a tick or a lot) exactly."""
        return type(self)(round_to_increment(self.raw, self._coerce(increment), mode), self.precision)

    def is_multiple_of(self, increment: _Fixed) -> bool:
        return self.raw % self._coerce(increment) == 0

    def __str__(self) -> str:
        return raw_to_str(self.raw, self.precision)

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"


class Price(_Fixed):
    """A price: ``raw * 10**-precision``; may be negative (spreads, some futures)."""

    __slots__ = ()


class Quantity(_Fixed):
    """A non-negative quantity: ``raw * 10**-precision``."""

    __slots__ = ()

    def __init__(self, raw: int, precision: int) -> None:
        if raw < 0:
            raise FixedPointError(f"Quantity cannot be negative: {raw_to_str(raw, precision)}")
        super().__init__(raw, precision)


class Money:
    """An amount of a currency at :data:`MONEY_PRECISION` (exact, immutable)."""

    __slots__ = ("currency", "raw")
    raw: int
    currency: str

    def __init__(self, raw: int, currency: str) -> None:
        object.__setattr__(self, "raw", int(raw))
        object.__setattr__(self, "currency", currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    @classmethod
    def of(cls, value: str | int | Decimal, currency: str) -> Money:
        """Build from a human amount, e.g. ``Money.of("100000.00", "USD")``."""
        return cls(parse_raw(value, MONEY_PRECISION, "Money"), currency)

    def _coerce(self, other: object) -> int:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise FixedPointError(f"currency mismatch: {self.currency} vs {other.currency}")
        return other.raw

    def __add__(self, other: object) -> Money:
        return Money(self.raw + self._coerce(other), self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(self.raw - self._coerce(other), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.raw, self.currency)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.raw == other.raw and self.currency == other.currency
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.raw, self.currency))

    def __lt__(self, other: object) -> bool:
        return self.raw < self._coerce(other)

    def rounded(self) -> Money:
        """Rounded half-up to the currency's minor unit (cents for USD)."""
        return Money(round_money_raw(self.raw, self.currency), self.currency)

    def as_decimal(self) -> Decimal:
        return raw_to_decimal(self.raw, MONEY_PRECISION)

    def as_float(self) -> float:
        return self.raw / MONEY_SCALE

    def __str__(self) -> str:
        p = CURRENCY_PRECISION.get(self.currency, 2)
        return f"{raw_to_str(round_money_raw(self.raw, self.currency) // 10 ** (MONEY_PRECISION - p), p)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{raw_to_str(self.raw, MONEY_PRECISION)}', '{self.currency}')"


def round_money_raw(raw: int, currency: str) -> int:
    """Round a money raw value half-up to the currency's minor unit, staying at MONEY_PRECISION."""
    unit = 10 ** (MONEY_PRECISION - CURRENCY_PRECISION.get(currency, 2))
    return round_half_up_div(raw, unit) * unit
