"""Market data events.

All events are immutable ``msgspec`` structs (built in C: about 0.1 us each) and carry two UNIX
nanosecond timestamps: ``ts_event`` (when it happened at the source) and ``ts_init`` (when tradeforge
saw it). Prices and sizes are raw fixed-point integers at the instrument's precisions.

A ``Bar`` is stamped at its **close**: ``ts_event`` is the end of the interval, so no component can
see a bar before the interval is over.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradeforge.model.enums import AggressorSide, BookAction


class Data(msgspec.Struct, frozen=True, gc=False, kw_only=False):
    """Base of every data event."""


class Bar(Data, frozen=True, gc=False):
    """OHLCV over ``[ts_event - interval_ns, ts_event)``, stamped at the close."""

    instrument_id: str
    open: int
    high: int
    low: int
    close: int
    volume: int  # raw at the instrument's size precision; -1 when the source has no volume
    ts_event: int
    ts_init: int
    interval_ns: int = 0


class QuoteTick(Data, frozen=True, gc=False):
    """Best bid and offer."""

    instrument_id: str
    bid: int
    ask: int
    bid_size: int
    ask_size: int
    ts_event: int
    ts_init: int


class TradeTick(Data, frozen=True, gc=False):
    """One trade print."""

    instrument_id: str
    price: int
    size: int
    aggressor: AggressorSide
    trade_id: str
    ts_event: int
    ts_init: int


class OrderBookDelta(Data, frozen=True, gc=False):
    """One change to an L2/L3 book (``order_id`` 0 for market-by-price)."""

    instrument_id: str
    action: BookAction
    side: int  # 1 bid, -1 ask
    price: int
    size: int
    order_id: int
    sequence: int
    ts_event: int
    ts_init: int


class OrderBookDepth(Data, frozen=True, gc=False):
    """A depth snapshot: ``bids``/``asks`` as ``(price, size)`` tuples, best first."""

    instrument_id: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    sequence: int
    ts_event: int
    ts_init: int


class CustomData(Data, frozen=True, gc=True):
    """User-defined data (news, signals, alternative data) routed by ``data_type``."""

    data_type: str
    payload: Any
    ts_event: int
    ts_init: int
    instrument_id: str = ""
