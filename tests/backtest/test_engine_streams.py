"""The runner: k-way merge of many streams and data kinds, custom data, book events and timers."""

from __future__ import annotations

import itertools

import numpy as np

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.core.clock import TimeEvent
from tradeforge.data.columns import BarColumns, QuoteColumns
from tradeforge.data.stream import DataStream, merge
from tradeforge.model.data import Bar, BookAction, CustomData, OrderBookDelta, QuoteTick
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.strategy.base import Strategy
from tradeforge.venues.simulated import SimulatedVenueConfig

MIN = 60_000_000_000


def _instruments() -> InstrumentProvider:
    return InstrumentProvider([
        instrument_from_dict({"id": f"{s}.SIM", "kind": "equity", "currency": "USD", "tick_size": "0.01",
                              "lot_size": "1"}, s)
        for s in ("AAA", "BBB")
    ])


def _bars(iid: str, ts: list[int]) -> BarColumns:
    a = np.asarray(ts, dtype=np.int64)
    px = np.full(len(a), 10_000, dtype=np.int64)
    return BarColumns(iid, a, a, px, px, px, px, np.full(len(a), 100, dtype=np.int64), MIN)


class Recorder(Strategy):
    def on_start(self) -> None:
        self.seen: list[tuple[str, int, int]] = []  # (kind, ts_init, clock time when handled)
        for iid in ("AAA.SIM", "BBB.SIM"):
            self.subscribe_bars(iid)
        self.subscribe_quotes("AAA.SIM")
        self.subscribe_data("news")
        self.subscribe_book("BBB.SIM")
        self.set_timer("every90s", 90 * 1_000_000_000)

    def _log(self, kind: str, ts: int) -> None:
        self.seen.append((kind, ts, self.clock.timestamp_ns()))

    def on_bar(self, bar: Bar) -> None:
        self._log(f"bar:{bar.instrument_id}", bar.ts_init)

    def on_quote(self, quote: QuoteTick) -> None:
        self._log("quote", quote.ts_init)

    def on_data(self, data: CustomData) -> None:
        self._log(f"news:{data.payload}", data.ts_init)

    def on_book(self, book) -> None:
        self._log("book", book.ts_init)

    def on_timer(self, event: TimeEvent) -> None:
        self._log(f"timer:{event.name}", event.ts_event)


def test_streams_merge_in_time_order_with_timers_between_events() -> None:
    engine = BacktestEngine(_instruments(), "USD", 10**15)
    engine.add_venue(SimulatedVenueConfig("SIM"))
    engine.add_data(_bars("AAA.SIM", [MIN, 2 * MIN, 3 * MIN]))
    engine.add_data(_bars("BBB.SIM", [MIN, 3 * MIN]))
    q = np.asarray([MIN + 1, 2 * MIN], dtype=np.int64)
    engine.add_data(QuoteColumns("AAA.SIM", q, q, np.full(2, 9_999), np.full(2, 10_001), np.full(2, 5), np.full(2, 5)))
    engine.add_custom_data("news", [CustomData("news", "earnings", 2 * MIN, 2 * MIN)])
    engine.add_book_data("BBB.SIM", [OrderBookDelta("BBB.SIM", BookAction.ADD, 1, 9_990, 10, 7, 1, 3 * MIN, 3 * MIN)])
    strat = Recorder("rec")
    engine.add_strategy(strat)
    engine.run()
    kinds = [k for k, _, _ in strat.seen]
    assert kinds == [
        "bar:AAA.SIM", "bar:BBB.SIM",  # t=1m, ties by stream order
        "quote",  # t=1m + 1ns
        "bar:AAA.SIM", "quote", "news:earnings",  # t=2m: stream order AAA bars, quotes, news
        "timer:every90s",  # t=2m30s (set at the first event, 1m), fires between events
        "bar:AAA.SIM", "bar:BBB.SIM", "book",  # t=3m
    ]
    for kind, ts, clock_ts in strat.seen:
        assert ts == clock_ts, f"{kind}: handled at clock {clock_ts}, event time {ts}"
    assert strat.seen[6][1] == 90 * 1_000_000_000 + MIN


def test_merge_is_streaming_and_never_splits_a_timestamp() -> None:
    ts_a = np.repeat(np.arange(1, 101, dtype=np.int64), 3)  # 300 events, 3 per timestamp
    ts_b = np.arange(1, 201, dtype=np.int64) // 2 * 1 + 0  # 200 events, non-decreasing
    a = DataStream(_bars("AAA.SIM", []).__class__("AAA.SIM", ts_a, ts_a, *[np.zeros(300, np.int64)] * 5, MIN), "a", 7)
    b = DataStream(_bars("BBB.SIM", []).__class__("BBB.SIM", ts_b, ts_b, *[np.zeros(200, np.int64)] * 5, MIN), "b", 11)
    chunks = list(a.chunks())
    assert len(chunks) > 10
    for first, second in itertools.pairwise(chunks):
        assert len(first.events) <= 9  # 7 plus at most the rest of one timestamp
        assert second.ts[0] > first.ts[-1]  # a timestamp never spans two chunks
    out = []
    rounds = 0
    for n, events, sids, idxs in merge([a, b]):
        rounds += 1
        out.extend((events[s][i].ts_init, s) for s, i in zip(sids.tolist(), idxs.tolist(), strict=True))
        assert n == len(sids)
    assert rounds > 5  # it really went chunk by chunk
    assert len(out) == 500
    assert out == sorted(out)  # (ts, stream) order, stream a first on ties
