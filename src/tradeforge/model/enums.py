"""Enumerations of the domain model."""

from __future__ import annotations

from enum import Enum, IntEnum


class OrderSide(IntEnum):
    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    MARKET_IF_TOUCHED = "MARKET_IF_TOUCHED"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"


class TimeInForce(Enum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class OrderStatus(Enum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    TRIGGERED = "TRIGGERED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


TERMINAL_STATUSES = frozenset(
    {OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
)


class ContingencyType(Enum):
    NONE = "NONE"
    OCO = "OCO"  # one cancels the other
    OTO = "OTO"  # one triggers the other (children wait for the parent's fill)


class LiquiditySide(Enum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class OmsType(Enum):
    NETTING = "NETTING"  # one position per instrument and strategy
    HEDGING = "HEDGING"  # a position per opening order; closing orders name the position


class AccountType(Enum):
    CASH = "CASH"  # no leverage, no short sales of cash-settled instruments
    MARGIN = "MARGIN"


class TradingState(Enum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only orders that reduce a position pass
    HALTED = "HALTED"  # nothing passes


class AggressorSide(IntEnum):
    NONE = 0
    BUYER = 1
    SELLER = -1


class BookAction(IntEnum):
    ADD = 1
    UPDATE = 2
    DELETE = 3
    CLEAR = 4
