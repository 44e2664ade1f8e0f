"""Record a live feed's normalized events into the data catalog in batches, so what was traded live
becomes history.

Quotes, trades and order book deltas are written through the data catalog
(:class:`tradeforge.data.catalog.Catalog`, ``root/{quotes,trades,book}/<instrument>/date=YYYY-MM-DD/
part-0.parquet``, raw ``int64`` columns of :mod:`tradeforge.data.columns`), so a backtest reads them
back with ``Catalog.read`` or replays them with ``BacktestEngine.add_catalog`` (book deltas on
``data.book.{instrument}``). The catalog replaces a partition as a whole on every write, so a flush
re-reads the partitions its batch touches (from the start of the batch's first UTC day), merges the
batch in ``ts_init`` order (stable: deltas of equal ``ts_init`` keep their recording order) and
writes them back: the cost of a flush grows with the day's size, so choose ``batch_size``
accordingly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tradeforge.data.catalog import Catalog
from tradeforge.data.columns import BookDeltaColumns, QuoteColumns, TradeColumns
from tradeforge.model.data import Data, OrderBookDelta, QuoteTick, TradeTick
from tradeforge.model.instruments import Instrument, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_DAY

__all__ = ["LiveRecorder", "RecorderStats"]

_Recorded = QuoteColumns | TradeColumns | BookDeltaColumns


@dataclass
class RecorderStats:
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, instrument) -> rows written
    flushes: int = 0
    files: list[Path] = field(default_factory=list)  # catalog partition files written (latest last)


def _trade_ids(ids: list[str]) -> np.ndarray:
    if all(i.isascii() and i.isdigit() and len(i) < 19 for i in ids):
        return np.array([int(i) for i in ids], dtype=np.int64)
    return np.array(ids, dtype=object)


class LiveRecorder:
    """Buffer events per (kind, instrument) and write every ``batch_size`` of them (and on ``flush``)."""

    def __init__(self, root: str | Path, instruments: InstrumentProvider, *, batch_size: int = 10_000) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self.root = Path(root)
        self.catalog = Catalog(self.root)
        self.instruments = instruments
        self.batch_size = batch_size
        self._buffers: dict[tuple[str, str], list[Data]] = {}
        self.stats = RecorderStats()

    def add(self, event: Data) -> None:
        if isinstance(event, QuoteTick):
            kind = "quotes"
        elif isinstance(event, TradeTick):
            kind = "trades"
        elif isinstance(event, OrderBookDelta):
            kind = "book"
        else:
            return
        key = (kind, event.instrument_id)
        buf = self._buffers.setdefault(key, [])
        buf.append(event)
        if len(buf) >= self.batch_size:
            self._flush(key)

    async def tap(self, feed: AsyncIterator[Data]) -> AsyncIterator[Data]:
        """Pass ``feed`` through unchanged, recording every event; flushes when the feed ends or stops."""
        try:
            async for event in feed:
                self.add(event)
                yield event
        finally:
            self.flush()

    def flush(self) -> None:
        for key in list(self._buffers):
            self._flush(key)

    def _flush(self, key: tuple[str, str]) -> None:
        events = self._buffers.pop(key, [])
        if not events:
            return
        kind, iid = key
        inst = self.instruments.get(iid)
        self._write_catalog(kind, inst, events)
        self.stats.flushes += 1
        self.stats.rows[key] = self.stats.rows.get(key, 0) + len(events)

    def _write_catalog(self, kind: str, inst: Instrument, events: list[Data]) -> None:
        iid = str(inst.id)
        new: _Recorded
        if kind == "quotes":
            q: list[QuoteTick] = events  # type: ignore[assignment]
            new = QuoteColumns(
                iid, *(np.array([getattr(e, f) for e in q], dtype=np.int64)
                       for f in ("ts_event", "ts_init", "bid", "ask", "bid_size", "ask_size")),
            )
        elif kind == "trades":
            t: list[TradeTick] = events  # type: ignore[assignment]
            new = TradeColumns(
                iid, *(np.array([getattr(e, f) for e in t], dtype=np.int64) for f in ("ts_event", "ts_init", "price", "size")),
                np.array([int(e.aggressor) for e in t], dtype=np.int64), _trade_ids([e.trade_id for e in t]),
            )
        else:
            new = BookDeltaColumns.from_events(events, iid)  # type: ignore[arg-type]
        day_start = int(new.ts_init.min()) // NANOS_PER_DAY * NANOS_PER_DAY
        existing = self.catalog.read_all(kind, iid, start_ns=day_start) if self.catalog.files(kind, iid) else None
        merged = _merge(existing, new) if existing is not None and len(existing) else _merge(None, new)  # type: ignore[arg-type]
        summary = self.catalog.write(merged, inst, partition="day")
        self.stats.files.extend(summary.partitions)


def _merge(existing: _Recorded | None, new: _Recorded) -> _Recorded:
    """``existing`` + ``new`` in stable ``ts_init`` order (a live clock may step back)."""
    names = [f for f in new._arrays()]
    if existing is None:
        arrays = {n: getattr(new, n) for n in names}
    else:
        arrays = {}
        for n in names:
            a, b = np.asarray(getattr(existing, n)), getattr(new, n)
            if a.dtype == object or b.dtype == object:
                a, b = a.astype(str).astype(object), b.astype(str).astype(object)
            arrays[n] = np.concatenate([a, b])
    order = np.argsort(arrays["ts_init"], kind="stable")
    return type(new)(new.instrument_id, **{n: arr[order] for n, arr in arrays.items()})  # type: ignore[arg-type]
