"""What :class:`~tradeforge.venues.matching.MatchingEngine` takes and returns: self-trade prevention
modes, rejection and cancel reasons, the result records of every call (``msgspec`` structs,
immutable) and read-only views of orders, levels and queue positions."""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

import msgspec

from tradeforge.model.enums import AggressorSide, OrderSide, OrderType, TimeInForce

__all__ = [
    "Accepted",
    "Canceled",
    "Cross",
    "Fill",
    "LevelView",
    "Modified",
    "OrderView",
    "QueuePosition",
    "Reason",
    "Record",
    "Reduced",
    "Rejected",
    "Request",
    "StpMode",
    "Triggered",
]


class StpMode(Enum):
    """Self-trade prevention: what happens when an incoming order meets a resting one of its owner."""

    NONE = "NONE"  # they trade
    CANCEL_NEWEST = "CANCEL_NEWEST"  # cancel the incoming order (what is left of it)
    CANCEL_OLDEST = "CANCEL_OLDEST"  # cancel the resting order, keep matching
    CANCEL_BOTH = "CANCEL_BOTH"
    DECREMENT_AND_CANCEL = "DECREMENT_AND_CANCEL"  # shrink both by the smaller; the smaller is canceled


class Request(Enum):
    """The call a :class:`Rejected` record answers."""

    SUBMIT = "SUBMIT"
    MODIFY = "MODIFY"
    CANCEL = "CANCEL"
    EXPIRE = "EXPIRE"


class Reason(Enum):
    """Why an order was rejected, canceled or reduced."""

    # rejections
    INVALID = "INVALID"  # bad arguments (see the record's detail)
    DUPLICATE_ID = "DUPLICATE_ID"  # an order with this id is live in the engine
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # modify / cancel / expire of an id that is not live
    HALTED = "HALTED"  # an order that cannot rest, during a halt
    POST_ONLY = "POST_ONLY"  # a post-only order would take liquidity
    REDUCE_ONLY = "REDUCE_ONLY"  # nothing left to reduce (rejection), or trimmed to the limit (Reduced)
    # cancellations
    CANCELED = "CANCELED"  # cancel() was called
    EXPIRED = "EXPIRED"  # expire() was called
    IOC = "IOC"  # the rest of an immediate-or-cancel order
    FOK = "FOK"  # a fill-or-kill order that could not fill completely
    NO_LIQUIDITY = "NO_LIQUIDITY"  # the rest of a market order
    SELF_TRADE = "SELF_TRADE"  # self-trade prevention (also a Reduced reason)


# -- result records --------------------------------------------------------------------------------


class Accepted(msgspec.Struct, frozen=True, gc=False):
    """The order entered the engine (it may fill, rest, be held as a stop, or be canceled next)."""

    order_id: Any
    owner: Any
    side: OrderSide
    order_type: OrderType
    size: int
    price: int | None
    trigger: int | None
    time_in_force: TimeInForce


class Rejected(msgspec.Struct, frozen=True, gc=False):
    """A request was refused; nothing changed."""

    order_id: Any
    owner: Any
    request: Request
    reason: Reason
    detail: str = ""


class Fill(msgspec.Struct, frozen=True, gc=False):
    """One execution of ``size`` at ``price`` (the maker's price) between two orders.

    ``aggressor`` is the taker's side (``NONE`` in the opening cross, where the maker is the earlier
    order of the pair). ``*_remaining`` are the open sizes after this fill (0 = filled)."""

    match_id: int
    price: int
    size: int
    maker_id: Any
    taker_id: Any
    maker_owner: Any
    taker_owner: Any
    maker_side: OrderSide
    aggressor: AggressorSide
    maker_remaining: int
    taker_remaining: int


class Canceled(msgspec.Struct, frozen=True, gc=False):
    """The order left the engine unfilled; ``size`` is what was still open."""

    order_id: Any
    owner: Any
    size: int
    reason: Reason


class Reduced(msgspec.Struct, frozen=True, gc=False):
    """The engine shrank the order's open size by ``size`` (STP decrement, reduce-only trim); it lives on."""

    order_id: Any
    owner: Any
    size: int
    remaining: int
    reason: Reason


class Triggered(msgspec.Struct, frozen=True, gc=False):
    """A held stop order's trigger was reached (``last_price``: the trade price that did it); it enters now."""

    order_id: Any
    owner: Any
    trigger: int
    last_price: int


class Modified(msgspec.Struct, frozen=True, gc=False):
    """A modify was applied; sizes are open sizes. ``priority_kept`` False: the order went to the back."""

    order_id: Any
    owner: Any
    old_size: int
    size: int
    old_price: int | None
    price: int | None
    old_trigger: int | None
    trigger: int | None
    priority_kept: bool


class Cross(msgspec.Struct, frozen=True, gc=False):
    """One round of the opening cross run by :meth:`MatchingEngine.resume`, after its fills."""

    price: int
    size: int


Record = Accepted | Rejected | Fill | Canceled | Reduced | Triggered | Modified | Cross


class OrderView(NamedTuple):
    """A snapshot of a live order (resting, or held as a stop)."""

    order_id: Any
    owner: Any
    side: OrderSide
    order_type: OrderType
    price: int | None
    trigger: int | None
    size: int  # open size
    seq: int  # arrival sequence (priority)
    time_in_force: TimeInForce
    post_only: bool
    stp_mode: StpMode
    held: bool  # a stop waiting for its trigger


class LevelView(NamedTuple):
    price: int
    size: int
    count: int


class QueuePosition(NamedTuple):
    orders_ahead: int
    size_ahead: int
    level_size: int  # the whole level, this order included
