"""Identifiers as distinct ``str`` subtypes: typed for readers and checkers, as cheap as strings.

Instrument ids read ``SYMBOL.VENUE`` (``AAPL.XNAS``, ``6EH4.XCME``, ``BTCUSDT.BINANCE``).
"""

from __future__ import annotations


class Identifier(str):
    """Base of all identifiers; rejects empty values."""

    __slots__ = ()

    def __new__(cls, value: str) -> Identifier:
        if not value or not isinstance(value, str):
            raise ValueError(f"{cls.__name__} must be a non-empty string, got {value!r}")
        return super().__new__(cls, value)


class TraderId(Identifier):
    __slots__ = ()


class StrategyId(Identifier):
    __slots__ = ()


class AccountId(Identifier):
    __slots__ = ()


class Venue(Identifier):
    __slots__ = ()


class InstrumentId(Identifier):
    """``SYMBOL.VENUE``; the venue is the part after the last dot."""

    __slots__ = ()

    def __new__(cls, value: str) -> InstrumentId:
        if "." not in value or value.startswith(".") or value.endswith("."):
            raise ValueError(f"InstrumentId must look like SYMBOL.VENUE, got {value!r}")
        return super().__new__(cls, value)  # type: ignore[return-value]

    @property
    def symbol(self) -> str:
        return self.rpartition(".")[0]

    @property
    def venue(self) -> Venue:
        return Venue(self.rpartition(".")[2])


class ClientOrderId(Identifier):
    __slots__ = ()


class VenueOrderId(Identifier):
    __slots__ = ()


class ExecutionId(Identifier):
    """Venue's id of one fill (trade id); fills are de-duplicated by it."""

    __slots__ = ()


class PositionId(Identifier):
    __slots__ = ()


class OrderListId(Identifier):
    """Groups the orders of a bracket / OCO / OTO."""

    __slots__ = ()
