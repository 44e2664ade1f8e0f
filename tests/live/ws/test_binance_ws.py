"""Binance WebSocket feed against a local replay server of the repository's real BTCUSDT ticks."""

from __future__ import annotations

import asyncio
import json
import random
from functools import cache

import pytest

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.core.clock import LiveClock, SimulatedClock
from tradeforge.data.catalog import Catalog
from tradeforge.data.errors import BadRecordError, BadRecordPolicy
from tradeforge.live.node import LiveNode
from tradeforge.live.ws.binance import BinanceFeed, BinanceNormalizer, FeedError, http_snapshot_source
from tradeforge.live.ws.client import BackoffPolicy, ConnectionGaveUp, L2Book, ReconnectingWebSocket
from tradeforge.live.ws.record import LiveRecorder
from tradeforge.live.ws.recording import ROOT, Recording, ReplayServer, binance_recording
from tradeforge.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradeforge.model.enums import BookAction
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.strategy.library.sma_cross import SmaCrossover
from tradeforge.venues.fees import BpsFee
from tradeforge.venues.simulated import SimulatedVenueConfig

IID = "BTCUSDT.BINANCE"
FAST = BackoffPolicy(base_s=0.001, factor=2.0, cap_s=0.004, jitter=0.5, max_attempts=5)


@cache
def recording() -> Recording:
    return binance_recording()


def run(coro, timeout: float = 15.0):
    async def bounded():
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def feed_for(server: ReplayServer, snapshot_source=None, policy=BadRecordPolicy.QUARANTINE, seed: int = 1):
    rec = server.rec
    client = ReconnectingWebSocket(
        server.url, LiveClock(), backoff=FAST, seed=seed, stop_close_codes={4000}, open_timeout_s=2.0, idle_timeout_s=5.0
    )
    norm = BinanceNormalizer({rec.symbol: rec.instrument}, policy=policy)
    return client, norm, BinanceFeed(client, norm, snapshot_source or server.snapshot, snapshot_timeout_s=2.0)


async def collect(feed: BinanceFeed, types=None) -> list:
    return [ev async for ev in feed.events(types)]


def recorded_trades(rec: Recording) -> list[tuple]:
    return [(t.price, t.size, int(t.aggressor), t.trade_id, t.ts_event) for t in rec.trades.to_events(0, len(rec.trades))]


def recorded_quotes(rec: Recording) -> list[tuple]:
    return [(q.bid, q.ask, q.bid_size, q.ask_size) for q in rec.quotes.to_events(0, len(rec.quotes))]


def book_levels(book: L2Book):
    bids, asks = book.levels()
    return tuple(bids), tuple(asks)


def replay_deltas(deltas: list[OrderBookDelta]) -> L2Book:
    book = L2Book(IID)
    for d in deltas:
        if d.action is BookAction.CLEAR:
            book.reset([], [], d.sequence, d.ts_event, d.ts_init)
        else:
            book.set_level(d.side, d.price, d.size, d.sequence, d.ts_event, d.ts_init)
    return book


def depth_frames(rec: Recording) -> list[int]:
    return [i for i, c in enumerate(rec.channels) if c == "depth"]


# --------------------------------------------------------------------------------------------
# End to end over the replay server
# --------------------------------------------------------------------------------------------


def test_reconnects_with_backoff_detects_gap_resyncs_and_matches_the_true_book() -> None:
    rec = recording()
    depth = depth_frames(rec)
    gap = depth[len(depth) // 3]

    async def scenario():
        async with ReplayServer(rec, refuse_first=2, drop_after={700, 2000}, skip={gap}) as server:
            client, norm, feed = feed_for(server)
            events = await collect(feed)
            return server, client, norm, feed, events

    server, client, norm, feed, events = run(scenario())

    # backoff: two refused handshakes, two dropped connections, each followed by one short sleep
    assert server.stats.refused == 2 and server.stats.drops == 2
    assert client.stats.attempts == 5 and client.stats.connects == 3
    assert len(client.stats.delays) == 4
    assert all(0 < d <= FAST.cap_s for d in client.stats.delays)
    assert client.stats.delays[0] <= FAST.base_s and client.stats.delays[1] > client.stats.delays[0] / 2
    # the skipped diff is a sequence gap: one resync from a fresh snapshot
    assert server.stats.skipped == [gap]
    assert norm.stats.gaps == 1 and norm.stats.snapshots == 2 and feed.snapshot_requests == 2
    assert norm.bad.count == 0
    # the local book equals the server's true book at the end, and so does the book rebuilt from the deltas
    assert book_levels(norm.book(rec.symbol)) == rec.final_book()
    assert norm.book(rec.symbol).sequence == rec.book_ids[-1]
    deltas = [e for e in events if isinstance(e, OrderBookDelta)]
    assert sum(d.action is BookAction.CLEAR for d in deltas) == 2
    assert book_levels(replay_deltas(deltas)) == rec.final_book()
    # trades and quotes equal the recorded data exactly (raw integers)
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert [(t.price, t.size, int(t.aggressor), t.trade_id, t.ts_event) for t in trades] == recorded_trades(rec)
    quotes = [e for e in events if isinstance(e, QuoteTick)]
    assert [(q.bid, q.ask, q.bid_size, q.ask_size) for q in quotes] == recorded_quotes(rec)
    assert all(e.instrument_id == IID for e in events)


def test_http_snapshot_source_against_the_local_rest_endpoint() -> None:
    rec = recording()
    depth = depth_frames(rec)

    async def scenario():
        async with ReplayServer(rec, skip={depth[100], depth[300]}) as server:
            _client, norm, feed = feed_for(server, http_snapshot_source(server.http_url, limit=1000, timeout_s=2.0))
            await collect(feed, (OrderBookDelta,))
            with pytest.raises(ValueError, match="HTTP status"):
                await http_snapshot_source(server.http_url)("ETHUSDT")
            return server, norm

    server, norm = run(scenario())
    assert norm.stats.gaps == 2 and norm.stats.snapshots == 3 and server.stats.snapshots == 4
    assert book_levels(norm.book(rec.symbol)) == rec.final_book()


def test_malformed_frames_are_reported_and_skipped_never_a_crash() -> None:
    rec = recording()
    bad = {
        3: "{not json",
        10: json.dumps({"stream": "btcusdt@trade", "data": {"e": "trade", "s": "BTCUSDT", "t": 1, "q": "1", "T": 1, "m": True}}),
        20: json.dumps({"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 5, "u": 6, "b": [["1.001", "1"]], "a": []}),
        30: json.dumps({"u": 1, "s": "DOGEUSDT", "b": "1", "B": "1", "a": "1", "A": "1"}),
        40: json.dumps({"result": None, "id": 1}),
    }
    noisy = rec.with_frames(bad)

    async def scenario():
        async with ReplayServer(noisy) as server:
            _client, norm, feed = feed_for(server)
            events = await collect(feed)
            return norm, events

    norm, events = run(scenario())
    assert norm.bad.count == 4 and norm.stats.ignored == 1
    fields = [(b.record, b.field) for b in norm.bad.records]
    assert fields == [(4, "<json>"), (12, "p"), (23, "b[0]"), (34, "s")]
    assert "more than 2 decimal places" in norm.bad.records[2].reason
    assert all(b.source == "binance" and b.unit == "message" for b in norm.bad.records)
    assert len([e for e in events if isinstance(e, TradeTick)]) == len(rec.trades)
    assert book_levels(norm.book(rec.symbol)) == rec.final_book()


def test_raise_policy_names_the_field() -> None:
    norm = BinanceNormalizer({"BTCUSDT": recording().instrument}, policy=BadRecordPolicy.RAISE)
    msg = {"e": "trade", "s": "BTCUSDT", "t": 1, "p": "39432.48", "q": "-1", "T": 1, "m": True}
    with pytest.raises(BadRecordError, match="binance message 1 field 'q'"):
        norm.on_message(json.dumps(msg), 0)


# --------------------------------------------------------------------------------------------
# The sync procedure, message by message
# --------------------------------------------------------------------------------------------


def diff(first: int, last: int, bids=(), asks=()) -> str:
    return json.dumps({"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last,
                       "b": [list(x) for x in bids], "a": [list(x) for x in asks]})


def snap(last_id: int, bids=(("100.00", "1"),), asks=(("101.00", "1"),)) -> dict:
    return {"lastUpdateId": last_id, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}


def test_sync_drops_old_diffs_requires_straddle_and_refetches_a_stale_snapshot() -> None:
    norm = BinanceNormalizer({"BTCUSDT": recording().instrument})
    assert norm.on_message(diff(101, 103, bids=[("99.00", "2")]), 1) == []
    assert norm.needs_snapshot() == ["BTCUSDT"]
    # a snapshot older than the first buffered diff (99 + 1 < 101): not applied, fetched again later
    assert norm.on_snapshot("BTCUSDT", snap(99), 2) == [] and norm.stats.stale_snapshots == 1
    assert norm.needs_snapshot() == []  # no new diff yet: do not hammer the REST endpoint
    norm.on_message(diff(104, 106, asks=[("101.00", "0")]), 3)
    norm.on_message(diff(107, 107, bids=[("98.00", "5")]), 4)
    assert norm.needs_snapshot() == ["BTCUSDT"]
    # snapshot at 105: drop the diff with u=103 <= 105; (104..106) straddles 106
    out = norm.on_snapshot("BTCUSDT", snap(105, bids=[("100.00", "1"), ("99.00", "2")]), 5)
    actions = [(d.action, d.side, d.price, d.size, d.sequence) for d in out]
    assert actions == [
        (BookAction.CLEAR, 0, 0, 0, 105),
        (BookAction.ADD, 1, 10000, 1_000_000, 105),
        (BookAction.ADD, 1, 9900, 2_000_000, 105),
        (BookAction.ADD, -1, 10100, 1_000_000, 105),
        (BookAction.DELETE, -1, 10100, 0, 106),
        (BookAction.ADD, 1, 9800, 5_000_000, 107),
    ]
    assert norm.synced("BTCUSDT") and norm.book("BTCUSDT").sequence == 107
    # stale diffs are skipped, a gap (U != u + 1) unsyncs and asks for a fresh snapshot
    assert norm.on_message(diff(106, 107, bids=[("1.00", "1")]), 6) == [] and norm.stats.stale_diffs == 1
    assert norm.on_message(diff(109, 110), 7) == [] and norm.stats.gaps == 1
    assert not norm.synced("BTCUSDT") and norm.needs_snapshot() == ["BTCUSDT"]
    # a snapshot that leaves no buffered diff: synced at its id, the next diff must continue it
    norm.on_snapshot("BTCUSDT", snap(120), 8)
    assert norm.synced("BTCUSDT") and norm.book("BTCUSDT").sequence == 120
    assert norm.on_message(diff(121, 121, bids=[("100.00", "3")]), 9)[0].action is BookAction.UPDATE


def test_removing_an_absent_level_is_normal_and_emits_nothing() -> None:
    norm = BinanceNormalizer({"BTCUSDT": recording().instrument})
    norm.on_message(diff(11, 11), 0)
    norm.on_snapshot("BTCUSDT", snap(10), 0)
    assert norm.on_message(diff(12, 12, bids=[("50.00", "0")]), 0) == []
    assert norm.bad.count == 0


def test_snapshots_that_never_sync_raise_after_the_bound() -> None:
    rec = recording()

    async def always_stale(symbol: str) -> dict:
        return rec.binance_snapshot(0) | {"lastUpdateId": 1}

    async def scenario():
        async with ReplayServer(rec) as server:
            client, norm, feed = feed_for(server, always_stale)
            feed.max_snapshot_failures = 3
            with pytest.raises(FeedError, match="3 snapshots in a row"):
                await collect(feed)
            await client.close()
            return norm

    norm = run(scenario())
    assert norm.stats.stale_snapshots == 3


# --------------------------------------------------------------------------------------------
# The client alone
# --------------------------------------------------------------------------------------------


def test_backoff_is_seeded_exponential_and_capped() -> None:
    policy = BackoffPolicy(base_s=0.1, factor=2.0, cap_s=1.0, jitter=0.5)
    a = [policy.delay(n, random.Random(3)) for n in range(1, 8)]
    assert a == [policy.delay(n, random.Random(3)) for n in range(1, 8)]
    for n, d in enumerate(a, start=1):
        full = min(1.0, 0.1 * 2 ** (n - 1))
        assert full / 2 <= d <= full
    assert BackoffPolicy(jitter=0.0, base_s=0.1, cap_s=1.0).delay(10, random.Random(0)) == 1.0
    with pytest.raises(ValueError):
        BackoffPolicy(jitter=2.0)


def test_client_gives_up_after_bounded_attempts_without_real_sleeping() -> None:
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)

    async def scenario():
        # a port that refuses connections: bind, take the number, close
        srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        srv.close()
        await srv.wait_closed()
        client = ReconnectingWebSocket(
            f"ws://127.0.0.1:{port}/ws", SimulatedClock(0),
            backoff=BackoffPolicy(base_s=1.0, cap_s=8.0, max_attempts=4), seed=9, sleep=fake_sleep,
        )
        with pytest.raises(ConnectionGaveUp, match="4 consecutive failed attempts"):
            async for _ in client.messages():
                pass
        return client

    client = run(scenario(), timeout=10)
    assert client.stats.attempts == 4 and client.stats.connects == 0
    assert slept == client.stats.delays and len(slept) == 3
    assert [round(s, 9) for s in slept] == [round(s, 9) for s in client.stats.delays]
    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0 and 2.0 <= slept[2] <= 4.0


def test_close_during_backoff_ends_the_stream_at_once() -> None:
    async def scenario():
        srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        srv.close()
        await srv.wait_closed()
        client = ReconnectingWebSocket(f"ws://127.0.0.1:{port}/ws", LiveClock(),
                                       backoff=BackoffPolicy(base_s=30.0, cap_s=30.0, max_attempts=None))
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: asyncio.ensure_future(client.close()))
        start = loop.time()
        got = [m async for m in client.messages()]
        return got, loop.time() - start, client

    got, took, client = run(scenario(), timeout=5)
    assert got == [] and took < 2.0 and client.stats.attempts == 1


def test_close_ends_the_stream_cleanly() -> None:
    rec = recording()

    async def scenario():
        async with ReplayServer(rec, pace_s=0.001) as server:
            client, _norm, feed = feed_for(server)
            n = 0
            async for _ in feed.events():
                n += 1
                if n == 20:
                    await client.close()
            return client, n

    client, n = run(scenario())
    assert n >= 20 and not client.connected and client.stats.connects == 1


# --------------------------------------------------------------------------------------------
# Paper trading on the normalized quote stream, recorded to the catalog
# --------------------------------------------------------------------------------------------

PARAMS = {"instruments": [IID], "fast": 3, "slow": 8, "quantity": "0.01", "data": "quotes"}
CASH = 100_000 * 10**9


def _fills(fills) -> list[tuple[int, int, int, int]]:
    return [(int(f.side), f.last_qty, f.last_px, f.commission) for f in fills]


def test_live_node_trades_sma_crossover_on_the_websocket_quotes_and_records_them(tmp_path) -> None:
    rec = recording()
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")

    backtest = BacktestEngine(instruments, "USDT", CASH)
    backtest.add_venue(SimulatedVenueConfig("BINANCE"), BpsFee(1.0, 1.0))
    backtest.add_strategy(SmaCrossover("sma", PARAMS))
    backtest.add_data(rec.quotes)
    expected = backtest.run()
    assert len(expected.fills) >= 4

    recorder = LiveRecorder(tmp_path / "catalog", instruments, batch_size=100)

    async def scenario():
        async with ReplayServer(rec, drop_after={1000}) as server:
            node = LiveNode(instruments, "USDT", CASH)
            node.add_paper_venue(SimulatedVenueConfig("BINANCE"), BpsFee(1.0, 1.0))
            node.add_strategy(SmaCrossover("sma", PARAMS))
            client = ReconnectingWebSocket(server.url, node.clock, backoff=FAST, stop_close_codes={4000})
            norm = BinanceNormalizer({"BTCUSDT": instruments.get(IID)})
            feed = BinanceFeed(client, norm, server.snapshot)
            node.add_feed("quote", IID, recorder.tap(feed.events((QuoteTick,))))
            await node.run()
            return node, client

    node, client = run(scenario(), timeout=20)
    assert client.stats.connects == 2
    assert node.events_published == len(rec.quotes)
    assert len(node.execution.fills) >= 4
    assert _fills(node.execution.fills) == _fills(expected.fills)
    node.portfolio.check_invariant()
    assert node.portfolio.equity() == expected.portfolio.equity()

    # what was traded live is history now: the catalog holds the same quotes
    back = Catalog(tmp_path / "catalog").read_all("quotes", IID)
    assert len(back) == len(rec.quotes)
    for name in ("bid", "ask", "bid_size", "ask_size"):
        assert back.__getattribute__(name).tolist() == getattr(rec.quotes, name).tolist()
    assert recorder.stats.flushes == (len(rec.quotes) + 99) // 100


def test_recorder_writes_trades_and_book_deltas(tmp_path) -> None:
    rec = recording()
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")
    recorder = LiveRecorder(tmp_path, instruments, batch_size=700)

    async def scenario():
        async with ReplayServer(rec) as server:
            _client, _norm, feed = feed_for(server)
            return [e async for e in recorder.tap(feed.events((TradeTick, OrderBookDelta)))]

    events = run(scenario())
    trades = Catalog(tmp_path).read_all("trades", IID)
    assert trades.price.tolist() == rec.trades.price.tolist()
    assert trades.trade_id.tolist() == rec.trades.trade_id.tolist()
    assert trades.aggressor.tolist() == rec.trades.aggressor.tolist()
    # book deltas go into the catalog's book kind, in recording order
    assert [k for k, i in Catalog(tmp_path).series() if i == IID] == ["trades", "book"]
    book = Catalog(tmp_path).read_all("book", IID)
    deltas = book.to_events(0, len(book))
    assert deltas == [e for e in events if isinstance(e, OrderBookDelta)]
    assert book_levels(replay_deltas(deltas)) == rec.final_book()  # type: ignore[arg-type]
    assert recorder.stats.rows[("book", IID)] == len(deltas)
    assert all(p.parts[-4] in ("trades", "book") and p.exists() for p in recorder.stats.files)
