"""Compiled order flows in the backtest loop: :class:`FlowRunner` replays the flow messages that
come before each event of the other streams through their venue's kernel (:class:`~tradeforge.
venues.replay.kbook.FlowFeed`), with the per-event path's clock and equity semantics:

- merge order ``(ts_init, stream, sequence)``: a flow message precedes an event of another stream
  when its time is earlier, or equal and its stream was added first;
- on each new time stamp the previous one is sampled (equity, gross exposure) and due timers fire
  before the message (the kernel stops there; Python fires them and goes on);
- the clock reads a message's time whenever Python code runs for it (a message the kernel hands
  back, a timer), and the last replayed time after a run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tradeforge.backtest.result import EquityCurve
from tradeforge.core.clock import SimulatedClock
from tradeforge.model.data import Data
from tradeforge.portfolio.portfolio import Portfolio
from tradeforge.venues.replay.kbook import FlowFeed
from tradeforge.venues.replay.kernel import DONE, PYTHON, TIMER


class FlowRunner:
    """Drives the compiled flows of one run (``feeds``: ``(stream index, feed)``)."""

    def __init__(
        self, clock: SimulatedClock, portfolio: Portfolio, curve: EquityCurve, check: bool,
        feeds: list[tuple[int, FlowFeed]], progress: Callable[[int], None] | None,
    ) -> None:
        self.clock = clock
        self.pf = portfolio
        self.curve = curve
        self.check = check
        self.sids = [i for i, _ in feeds]
        self.feeds = [f for _, f in feeds]
        self.progress = progress
        self._bounds: list[list[int]] = []
        for f in self.feeds:
            f.set_recording(f.venue.record_trades)

    def prepare(self, events: list[Data], sids: list[int], stream_ids: list[int]) -> list[bool]:
        """For a round of other events (their stream positions ``sids`` in ``stream_ids``): where
        each feed must have got to before each event; returns which events have flow to replay first."""
        ts = np.fromiter((e.ts_init for e in events), np.int64, len(events))  # type: ignore[attr-defined]
        orig = np.asarray(stream_ids, np.int64)[np.asarray(sids, np.int64)]
        due = np.zeros(len(events), bool)
        self._bounds = []
        for sid, f in zip(self.sids, self.feeds, strict=True):
            b = np.where(sid < orig, np.searchsorted(f.ts, ts, "right"), np.searchsorted(f.ts, ts, "left"))
            due[0] |= b[0] > f.pos
            due[1:] |= b[1:] > b[:-1]
            self._bounds.append(b.tolist())
        return due.tolist()

    def drain_before(self, n: int, last_ts: int) -> int:
        """Replay every flow message that precedes event ``n`` of the prepared round."""
        if len(self.feeds) == 1:
            return self._run(self.feeds[0], self._bounds[0][n], last_ts)
        return self.drain([b[n] for b in self._bounds], last_ts)

    def drain(self, ends: list[int], last_ts: int) -> int:
        """Replay each feed up to (not including) its ``ends`` entry, interleaved in merge order;
        returns the last time stamp replayed."""
        feeds = self.feeds
        if len(feeds) == 1:
            return self._run(feeds[0], ends[0], last_ts)
        while True:
            live = [(int(f.ts[f.pos]), sid, f, end) for sid, f, end in zip(self.sids, feeds, ends, strict=True)
                    if f.pos < end]
            if not live:
                return last_ts
            live.sort(key=lambda e: (e[0], e[1]))
            _, sid, f, end = live[0]
            if len(live) > 1:  # up to the next message of another feed
                nts, nsid = live[1][0], live[1][1]
                end = min(end, int(np.searchsorted(f.ts, nts, "right" if sid < nsid else "left")))
            last_ts = self._run(f, end, last_ts)

    def _run(self, feed: FlowFeed, end: int, last_ts: int) -> int:
        clock = self.clock
        start = feed.pos
        advance = feed.advance
        while True:
            x, why, last, n, first = advance(end, clock.next_timer_ns, last_ts)
            if n == 1:
                self._sample(first)
            elif n:
                self._samples(feed.samples(n))
            last_ts = last
            if why == DONE:
                break
            if why == TIMER:
                if last_ts >= 0:
                    self._sample(last_ts)
                last_ts = int(feed.ts[x])
                clock.advance_to(last_ts)  # due timers fire first, in time order
            elif why == PYTHON:
                clock._now = last_ts
                feed.venue.on_flow_at(feed, x)
                feed.pos = x + 1
                if x + 1 == end:
                    break
            # GROW / FULL: the feed made room, go on
        clock._now = last_ts
        if self.progress is not None:
            self.progress(feed.pos - start)
        return last_ts

    def _sample(self, ts: int) -> None:
        """One equity sample at ``ts``."""
        pf = self.pf
        curve = self.curve
        try:
            curve.ts.append(ts)
            curve.equity.append(pf.cash + pf._value)
            curve.gross.append(pf._gross)
        except OverflowError:
            curve.widen()  # drops the partly appended sample
            curve.record(ts, pf.cash + pf._value, pf._gross)
        if self.check:
            pf.check_invariant()

    def _samples(self, ts: list[int]) -> None:
        """Equity samples at ``ts`` (the portfolio did not change in between)."""
        pf = self.pf
        curve = self.curve
        eq, gross = pf.cash + pf._value, pf._gross
        n = len(ts)
        try:
            curve.ts.extend(ts)
            curve.equity.extend([eq] * n)
            curve.gross.extend([gross] * n)
        except OverflowError:
            curve.widen()
            curve.ts.extend(ts)
            curve.equity.extend([eq] * n)
            curve.gross.extend([gross] * n)
        if self.check:
            pf.check_invariant()
