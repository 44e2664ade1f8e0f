"""Columnar market data: what loaders produce and what the backtest streams from.

Data stays in numpy arrays (raw fixed-point ``int64``) until the moment events are handed out; the
runner materializes events chunk by chunk (:meth:`to_events`), so memory holds one chunk of event
objects at a time, never the whole history.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from itertools import repeat
from typing import ClassVar

import numpy as np

from tradeforge.model.data import Bar, Data, OrderBookDelta, QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide, BookAction


class _Columns(ABC):
    kind: ClassVar[str]
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_init)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}  # type: ignore[arg-type]

    def validate_sorted(self, source: str) -> None:
        """Raise if ``ts_init`` decreases anywhere (streams must be time-ordered)."""
        ts = self.ts_init
        if len(ts) > 1:
            bad = np.flatnonzero(ts[1:] < ts[:-1])
            if len(bad):
                i = int(bad[0]) + 1
                raise ValueError(
                    f"{source}: record {i} of {self.instrument_id}: ts_init {int(ts[i])} is before "
                    f"the previous record's {int(ts[i - 1])} (stream not time-ordered)"
                )

    @abstractmethod
    def to_events(self, start: int, stop: int) -> list[Data]:
        """Events of rows ``[start, stop)``, built on demand."""


@dataclass(frozen=True, eq=False)
class BarColumns(_Columns):
    """Close-stamped OHLCV bars of one instrument (volume -1 where the source has none)."""

    kind: ClassVar[str] = "bar"
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    interval_ns: int = 0

    def to_events(self, start: int, stop: int) -> list[Data]:
        s = slice(start, stop)
        return list(map(
            Bar, repeat(self.instrument_id), self.open[s].tolist(), self.high[s].tolist(), self.low[s].tolist(),
            self.close[s].tolist(), self.volume[s].tolist(), self.ts_event[s].tolist(), self.ts_init[s].tolist(),
            repeat(self.interval_ns),
        ))


@dataclass(frozen=True, eq=False)
class QuoteColumns(_Columns):
    """Top-of-book quotes of one instrument."""

    kind: ClassVar[str] = "quote"
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray

    def to_events(self, start: int, stop: int) -> list[Data]:
        s = slice(start, stop)
        return list(map(
            QuoteTick, repeat(self.instrument_id), self.bid[s].tolist(), self.ask[s].tolist(),
            self.bid_size[s].tolist(), self.ask_size[s].tolist(), self.ts_event[s].tolist(), self.ts_init[s].tolist(),
        ))


@dataclass(frozen=True, eq=False)
class TradeColumns(_Columns):
    """Trade prints of one instrument; ``aggressor`` is 1 buyer, -1 seller, 0 unknown."""

    kind: ClassVar[str] = "trade"
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray
    price: np.ndarray
    size: np.ndarray
    aggressor: np.ndarray
    trade_id: np.ndarray  # int64 or str (object) ids

    def to_events(self, start: int, stop: int) -> list[Data]:
        s = slice(start, stop)
        iid = self.instrument_id
        sides = {1: AggressorSide.BUYER, -1: AggressorSide.SELLER, 0: AggressorSide.NONE}
        return [
            TradeTick(iid, p, q, sides[a], str(t), te, ti)
            for p, q, a, t, te, ti in zip(
                self.price[s].tolist(), self.size[s].tolist(), self.aggressor[s].tolist(),
                self.trade_id[s].tolist(), self.ts_event[s].tolist(), self.ts_init[s].tolist(),
                strict=True,
            )
        ]


_BOOK_ACTIONS = {int(a): a for a in BookAction}
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, eq=False)
class BookDeltaColumns(_Columns):
    """Order book deltas (L2 or L3) of one instrument, in replay order.

    ``action`` is the :class:`~tradeforge.model.enums.BookAction` code (``int8``: 1 add, 2 update,
    3 delete, 4 clear), ``side`` 1 bid, -1 ask, 0 none (``int8``); ``price``/``size`` raw integers;
    ``order_id`` 0 for market-by-price (L2) deltas; ``sequence`` the source's sequence number (the
    deltas of one source message share it).
    """

    kind: ClassVar[str] = "book"
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray
    action: np.ndarray  # int8 BookAction
    side: np.ndarray  # int8
    price: np.ndarray
    size: np.ndarray
    order_id: np.ndarray  # int64
    sequence: np.ndarray  # int64

    @classmethod
    def from_events(cls, events: list[OrderBookDelta], instrument_id: str | None = None) -> BookDeltaColumns:
        """Columns of a list of :class:`OrderBookDelta` (all of one instrument), order kept."""
        iid = instrument_id if instrument_id is not None else (events[0].instrument_id if events else "")
        other = next((e.instrument_id for e in events if e.instrument_id != iid), None)
        if other is not None:
            raise ValueError(f"book deltas of {other} among those of {iid}: one instrument per columns object")
        n = len(events)

        def col(name: str, dtype: type) -> np.ndarray:
            return np.fromiter((int(getattr(e, name)) for e in events), dtype=np.int64, count=n).astype(dtype, copy=False)

        try:
            oid = col("order_id", np.int64)
        except OverflowError:
            raise ValueError(f"book deltas of {iid}: an order id above {_INT64_MAX} does not fit int64") from None
        return cls(iid, col("ts_event", np.int64), col("ts_init", np.int64), col("action", np.int8),
                   col("side", np.int8), col("price", np.int64), col("size", np.int64), oid,
                   col("sequence", np.int64))

    def to_events(self, start: int, stop: int) -> list[Data]:
        s = slice(start, stop)
        iid = self.instrument_id
        acts = _BOOK_ACTIONS
        return [
            OrderBookDelta(iid, acts[a], sd, p, q, o, sq, te, ti)
            for a, sd, p, q, o, sq, te, ti in zip(
                self.action[s].tolist(), self.side[s].tolist(), self.price[s].tolist(), self.size[s].tolist(),
                self.order_id[s].tolist(), self.sequence[s].tolist(), self.ts_event[s].tolist(),
                self.ts_init[s].tolist(), strict=True,
            )
        ]


@dataclass(frozen=True, eq=False)
class EventList(_Columns):
    """Events built elsewhere (custom data such as news, order book deltas), sorted by ``ts_init``.

    For sources that are not columnar by nature; the stream still hands them out chunk by chunk.
    """

    kind: ClassVar[str] = "events"
    instrument_id: str
    ts_event: np.ndarray
    ts_init: np.ndarray
    events: list[Data]

    @classmethod
    def of(cls, events: list[Data], instrument_id: str = "") -> EventList:
        ts_event = np.fromiter((e.ts_event for e in events), dtype=np.int64, count=len(events))  # type: ignore[attr-defined]
        ts_init = np.fromiter((e.ts_init for e in events), dtype=np.int64, count=len(events))  # type: ignore[attr-defined]
        return cls(instrument_id, ts_event, ts_init, list(events))

    def to_events(self, start: int, stop: int) -> list[Data]:
        return self.events[start:stop]


Columns = BarColumns | QuoteColumns | TradeColumns | BookDeltaColumns | EventList
