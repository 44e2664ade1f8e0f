"""Feed adapters for the live node: async iterators of market data events stamped on receipt.

``replay`` plays recorded events in real time (or faster), re-stamping ``ts_init`` with the live
clock when each event is handed out, as a network feed adapter does on receipt. It drives paper
trading on recorded data and the live node's tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import msgspec

from tradeforge.core.clock import Clock
from tradeforge.model.data import Data
from tradeforge.model.timeutil import NANOS_PER_SECOND


async def replay(events: Iterable[Data], clock: Clock, speed: float = 1.0) -> AsyncIterator[Data]:
    """Yield ``events`` paced by their ``ts_event`` gaps divided by ``speed`` (``inf``: no pacing)."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    prev: int | None = None
    for ev in events:
        ts = ev.ts_event  # type: ignore[attr-defined]
        if prev is not None and speed != float("inf") and ts > prev:
            await asyncio.sleep((ts - prev) / NANOS_PER_SECOND / speed)
        else:
            await asyncio.sleep(0)
        prev = ts
        yield msgspec.structs.replace(ev, ts_init=clock.timestamp_ns())
