"""Streaming k-way merge of any number of time-ordered data streams.

Each :class:`DataStream` hands out its data in chunks (columnar, never split inside one timestamp).
:func:`merge` keeps one chunk per stream, emits everything up to the earliest chunk end ("horizon")
in ``(ts_init, stream index, position in stream)`` order — one vectorized ``lexsort`` per round —
and loads the next chunk of whichever stream ran out. Memory holds one chunk per stream, so a run
over years of data never needs it all at once; the order is fixed by the data and the order in which
streams were added, so it is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tradeforge.data.columns import Columns
from tradeforge.model.data import Data

DEFAULT_CHUNK = 65_536


@dataclass(slots=True)
class Chunk:
    ts: np.ndarray  # int64 ts_init of each event
    events: list[Data]


class Stream(Protocol):
    """What the runner needs of a stream: its topic, size, first timestamp and time-ordered chunks
    that never split one timestamp (in-memory :class:`DataStream`, or a catalog stream on disk)."""

    topic: str
    instrument_id: str

    def __len__(self) -> int: ...

    @property
    def first_ts(self) -> int | None: ...

    def chunks(self) -> Iterator[Chunk]: ...


class DataStream:
    """One stream of one data kind for one instrument, from in-memory columns (or chunks of them)."""

    def __init__(self, columns: Columns, topic: str, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.columns = columns
        self.topic = topic
        self.instrument_id = columns.instrument_id
        self.chunk_size = chunk_size

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def first_ts(self) -> int | None:
        return int(self.columns.ts_init[0]) if len(self.columns) else None

    def chunks(self) -> Iterator[Chunk]:
        ts = self.columns.ts_init
        n = len(ts)
        start = 0
        while start < n:
            stop = min(start + self.chunk_size, n)
            if stop < n:  # never split one timestamp across chunks
                stop = int(np.searchsorted(ts, ts[stop - 1], side="right"))
            yield Chunk(ts[start:stop], self.columns.to_events(start, stop))
            start = stop


def merge(streams: list[Stream]) -> Iterator[tuple[int, list[Data], np.ndarray, np.ndarray]]:
    """Yield rounds of ``(round_size, events_by_stream, stream_order, index_order)``.

    For each ``k`` in ``range(round_size)``, the next event is
    ``events_by_stream[stream_order[k]][index_order[k]]``.
    """
    iters = [s.chunks() for s in streams]
    bufs: list[Chunk | None] = [next(it, None) for it in iters]
    pos = [0] * len(streams)
    while True:
        active = [i for i, b in enumerate(bufs) if b is not None]
        if not active:
            return
        horizon = min(int(bufs[i].ts[-1]) for i in active)  # type: ignore[union-attr]
        ts_parts, sid_parts, idx_parts = [], [], []
        events_by_stream: list[list[Data]] = [[] for _ in streams]
        for i in active:
            buf = bufs[i]
            assert buf is not None
            end = int(np.searchsorted(buf.ts, horizon, side="right"))
            if end > pos[i]:
                ts_parts.append(buf.ts[pos[i]:end])
                sid_parts.append(np.full(end - pos[i], i, dtype=np.int64))
                idx_parts.append(np.arange(pos[i], end, dtype=np.int64))
                events_by_stream[i] = buf.events
            pos[i] = end
        ts_all = np.concatenate(ts_parts)
        sid_all = np.concatenate(sid_parts)
        idx_all = np.concatenate(idx_parts)
        order = np.lexsort((idx_all, sid_all, ts_all))
        yield len(order), events_by_stream, sid_all[order], idx_all[order]
        for i in active:
            buf = bufs[i]
            if buf is not None and pos[i] >= len(buf.ts):
                bufs[i] = next(iters[i], None)
                pos[i] = 0
