"""Coinbase Exchange WebSocket feed against a local replay server (matches + level2 of the real ticks)."""

from __future__ import annotations

import asyncio
import json
from functools import cache

import pytest

from tradeforge.core.clock import LiveClock
from tradeforge.data.errors import BadRecordError, BadRecordPolicy
from tradeforge.live.ws.client import BackoffPolicy, L2Book, ReconnectingWebSocket, parse_iso_ns
from tradeforge.live.ws.coinbase import CoinbaseFeed, CoinbaseNormalizer, subscribe_message
from tradeforge.live.ws.recording import Recording, ReplayServer, coinbase_recording, iso_time
from tradeforge.model.data import OrderBookDelta, QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide, BookAction

FAST = BackoffPolicy(base_s=0.001, factor=2.0, cap_s=0.004, jitter=0.5, max_attempts=5)
PID = "BTC-USDT"


@cache
def recording() -> Recording:
    return coinbase_recording()


def run(coro, timeout: float = 15.0):
    async def bounded():
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def make_feed(server: ReplayServer, policy=BadRecordPolicy.QUARANTINE):
    rec = server.rec
    client = ReconnectingWebSocket(
        server.url, LiveClock(), subscribe=[subscribe_message([PID], ["level2", "matches"])],
        backoff=FAST, seed=2, stop_close_codes={4000}, open_timeout_s=2.0, idle_timeout_s=5.0,
    )
    norm = CoinbaseNormalizer({PID: rec.instrument}, policy=policy)
    return client, norm, CoinbaseFeed(client, norm)


def levels(book: L2Book):
    bids, asks = book.levels()
    return tuple(bids), tuple(asks)


def trades_of(events) -> list[tuple]:
    return [(t.price, t.size, int(t.aggressor), t.trade_id, t.ts_event) for t in events if isinstance(t, TradeTick)]


def recorded_trades(rec: Recording) -> list[tuple]:
    return [(t.price, t.size, int(t.aggressor), t.trade_id, t.ts_event) for t in rec.trades.to_events(0, len(rec.trades))]


def depth_frames(rec: Recording) -> list[int]:
    return [i for i, c in enumerate(rec.channels) if c == "depth"]


def test_reconnects_detects_sequence_gap_resubscribes_and_matches_the_true_book() -> None:
    rec = recording()
    depth = depth_frames(rec)
    gap = depth[len(depth) // 2]

    async def scenario():
        async with ReplayServer(rec, refuse_first=1, drop_after={900}, skip={gap}) as server:
            client, norm, feed = make_feed(server)
            events = [e async for e in feed.events()]
            return server, client, norm, events

    server, client, norm, events = run(scenario())
    assert server.stats.refused == 1 and server.stats.drops == 1
    assert client.stats.attempts == 3 and client.stats.connects == 2 and len(client.stats.delays) == 2
    assert all(0 < d <= FAST.cap_s for d in client.stats.delays)
    # snapshots: first subscribe, the subscribe after the reconnect, the resubscribe after the gap
    assert norm.stats.gaps == 1 and norm.stats.resubscribes == 1
    assert norm.stats.snapshots == 3 and server.stats.snapshots == 3
    assert norm.bad.count == 0
    book = norm.book(PID)
    assert levels(book) == rec.final_book() and book.sequence == rec.book_ids[-1]
    assert trades_of(events) == recorded_trades(rec)
    assert all(e.instrument_id == "BTC-USDT.COINBASE" for e in events)


def test_quotes_from_the_book_equal_the_recorded_quotes_and_deltas_rebuild_the_book() -> None:
    rec = recording()

    async def scenario():
        async with ReplayServer(rec, drop_after={500, 1500}) as server:
            _client, norm, feed = make_feed(server)
            return norm, [e async for e in feed.events()]

    norm, events = run(scenario())
    quotes = [(q.bid, q.ask, q.bid_size, q.ask_size) for q in events if isinstance(q, QuoteTick)]
    expected = [(q.bid, q.ask, q.bid_size, q.ask_size) for q in rec.quotes.to_events(0, len(rec.quotes))]
    assert quotes == expected
    stamps = [q.ts_event for q in events if isinstance(q, QuoteTick)]
    assert stamps[1:] == rec.quotes.ts_event.tolist()[1:]  # from the l2update "time" (the first: the snapshot)
    book = L2Book("x")
    for d in (e for e in events if isinstance(e, OrderBookDelta)):
        if d.action is BookAction.CLEAR:
            book.reset([], [], d.sequence, 0, 0)
        else:
            book.set_level(d.side, d.price, d.size, d.sequence, 0, 0)
    assert levels(book) == rec.final_book()
    assert norm.stats.snapshots == 3 and norm.stats.gaps == 0


def test_malformed_messages_are_counted_and_skipped() -> None:
    rec = recording()
    bad = {
        5: "[1, 2",
        15: json.dumps({"type": "match", "trade_id": 7, "product_id": PID, "price": "1.00", "side": "buy"}),
        25: json.dumps({"type": "l2update", "product_id": PID, "changes": [["hold", "1.00", "1"]], "sequence": 1}),
        35: json.dumps({"type": "l2update", "product_id": PID, "changes": [["buy", "abc", "1"]]}),
        45: json.dumps({"type": "match", "product_id": "ETH-USD", "trade_id": 1}),
        55: json.dumps({"type": "heartbeat", "product_id": PID, "sequence": 1}),
        65: json.dumps(["not", "an", "object"]),
    }

    async def scenario():
        async with ReplayServer(rec.with_frames(bad)) as server:
            _client, norm, feed = make_feed(server)
            return norm, [e async for e in feed.events()]

    norm, events = run(scenario())
    assert norm.bad.count == 6
    assert [b.field for b in norm.bad.records] == ["<json>", "size", "changes[0]", "changes[0]", "product_id", "<message>"]
    assert norm.stats.gaps == 0  # bad updates are skipped before touching the sequence
    assert levels(norm.book(PID)) == rec.final_book()
    assert trades_of(events) == recorded_trades(rec)


def test_raise_policy_and_field_parsing() -> None:
    inst = recording().instrument
    strict = CoinbaseNormalizer({PID: inst}, policy=BadRecordPolicy.RAISE)
    with pytest.raises(BadRecordError, match="coinbase message 1 field 'time'"):
        strict.on_message(json.dumps({"type": "match", "trade_id": 1, "product_id": PID, "price": "1.00",
                                      "size": "1", "side": "sell", "time": "yesterday"}), 0)
    norm = CoinbaseNormalizer({PID: inst})
    out = norm.on_message(json.dumps({"type": "match", "trade_id": 9, "product_id": PID, "price": "39432.48",
                                      "size": "0.00026300", "side": "sell", "time": "2021-01-08T00:00:00.278123456Z"}), 5)
    t = out[0]
    assert (t.price, t.size, t.aggressor, t.trade_id) == (3943248, 263, AggressorSide.BUYER, "9")
    assert t.ts_event == 1610064000278123456 and t.ts_init == 5
    assert norm.on_message(json.dumps({"type": "match", "trade_id": 9, "product_id": PID, "price": "1.00",
                                       "size": "1", "side": "sell"}), 6) == []
    assert norm.stats.duplicate_trades == 1
    assert parse_iso_ns(iso_time(1610064000278000000)) == 1610064000278000000
    # updates before any snapshot are dropped (the book is not synced)
    assert norm.on_message(json.dumps({"type": "l2update", "product_id": PID, "changes": []}), 7) == []
    assert norm.stats.unsynced_updates == 1
