"""Replay from the catalog: a :class:`~tradeforge.data.stream.DataStream`-compatible stream over
:meth:`Catalog.read <tradeforge.data.catalog.Catalog.read>`.

It implements :class:`~tradeforge.data.stream.Stream`: ``len(stream)``, ``topic``, ``instrument_id``,
``first_ts`` and ``chunks()`` (time-ordered :class:`~tradeforge.data.stream.Chunk` objects, never
splitting one timestamp across two chunks, which the k-way merge relies on). :class:`CatalogStream` gives all of these while holding only
one Arrow batch (``chunk_size`` rows) of the series in memory: the length and the first timestamp
come from the Parquet footers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tradeforge.data.catalog import Catalog, normalize_kind
from tradeforge.data.stream import DEFAULT_CHUNK, Chunk
from tradeforge.model.data import Data
from tradeforge.model.timeutil import parse_timestamp_ns

__all__ = ["CatalogSeriesInfo", "CatalogStream", "parse_ns"]

KIND_SINGULAR = {"bars": "bar", "quotes": "quote", "trades": "trade", "book": "book"}


@dataclass(frozen=True)
class CatalogSeriesInfo:
    """Stands in for a stream's ``columns``: the instrument, the kind, the row count and the bounds.

    ``ts_init`` holds only ``[first, last]`` of the window (empty when it has no rows), which is
    what the runner reads (``ts_init[0]``); the data itself stays on disk until :meth:`chunks`.
    """

    instrument_id: str
    kind: str  # "bar", "quote", "trade" or "book" (as on the columns classes)
    rows: int
    first_ts: int | None
    last_ts: int | None

    def __len__(self) -> int:
        return self.rows

    @property
    def ts_init(self) -> np.ndarray:
        if self.first_ts is None or self.last_ts is None:
            return np.zeros(0, dtype=np.int64)
        return np.array([self.first_ts, self.last_ts], dtype=np.int64)


class CatalogStream:
    """One series (kind, instrument) of a catalog as a stream for the backtest runner."""

    def __init__(
        self,
        catalog: Catalog,
        kind: str,
        instrument_id: str,
        topic: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        self.catalog = catalog
        self.kind = normalize_kind(kind)
        self.instrument_id = instrument_id
        self.topic = topic
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.chunk_size = chunk_size
        self._info: CatalogSeriesInfo | None = None

    @property
    def columns(self) -> CatalogSeriesInfo:
        if self._info is None:
            rows, first, last = self.catalog.count(self.kind, self.instrument_id, self.start_ns, self.end_ns)
            self._info = CatalogSeriesInfo(self.instrument_id, KIND_SINGULAR[self.kind], rows, first, last)
        return self._info

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def first_ts(self) -> int | None:
        return self.columns.first_ts

    def chunks(self) -> Iterator[Chunk]:
        """Chunks of about ``chunk_size`` events; the events of the last timestamp of a batch are
        held back and handed out with the next batch, so no timestamp is split."""
        carry_ts: np.ndarray | None = None
        carry_ev: list[Data] = []
        for cols in self.catalog.read(self.kind, self.instrument_id, self.start_ns, self.end_ns,
                                      batch_size=self.chunk_size):
            ts = cols.ts_init
            events = cols.to_events(0, len(ts))
            cut = int(np.searchsorted(ts, ts[-1], side="left"))
            if cut == 0:  # the whole batch is one timestamp: keep collecting
                carry_ts = ts if carry_ts is None else np.concatenate((carry_ts, ts))
                carry_ev.extend(events)
                continue
            if carry_ts is None:
                yield Chunk(ts[:cut], events[:cut])
            else:
                yield Chunk(np.concatenate((carry_ts, ts[:cut])), carry_ev + events[:cut])
            carry_ts, carry_ev = ts[cut:], events[cut:]
        if carry_ts is not None and len(carry_ts):
            yield Chunk(carry_ts, carry_ev)


def parse_ns(value: int | str | None) -> int | None:
    """A window bound given as UNIX ns or ISO text."""
    if value is None or isinstance(value, int):
        return value
    return parse_timestamp_ns(value)
