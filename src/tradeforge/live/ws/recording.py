"""Exchange-format recordings built from the repository's real Binance ticks, and a local replay server.

:func:`binance_recording` turns ``data/ticks/binance_btcusdt-{trades,quotes}-20210108.parquet`` into
the frames Binance's combined stream sends: ``trade`` for every print, ``bookTicker`` for every quote,
and a ``depthUpdate`` diff per quote. The depth book is **synthesized** (the data has only the top
of book): its best levels are exactly each recorded quote, the levels behind them are seeded random
sizes on a fixed spacing, one deeper level changes per diff, crossed levels are removed and each
side is trimmed to ``max_levels``. :func:`coinbase_recording` renders the same trades as ``match``
messages and the same book as ``l2update`` messages (plus the snapshot the level2 channel starts
with). Every recording keeps the true book after each frame, so a test can ask for a snapshot at
any point and compare a client's book with the truth at the end.

:class:`ReplayServer` serves a recording on ``127.0.0.1`` at an ephemeral port (``websockets.serve``):
it can refuse the first handshakes (503), drop the connection after given frames (the stream resumes
where it stopped on the next connection, as a live stream would go on), and skip given frames
(a sequence gap). It also answers ``GET /api/v3/depth`` with the Binance REST snapshot of its true
book, and handles Coinbase ``subscribe``/``unsubscribe`` (a level2 subscribe sends a snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tradeforge.data.columns import QuoteColumns, TradeColumns
from tradeforge.data.loaders import load_parquet_quotes, load_parquet_trades
from tradeforge.model.fixed import raw_to_str
from tradeforge.model.instruments import Instrument, InstrumentProvider

__all__ = [
    "Recording",
    "ReplayServer",
    "binance_recording",
    "coinbase_recording",
    "iso_time",
    "load_binance_ticks",
]

ROOT = Path(__file__).resolve().parents[4]
TRADES_FILE = "data/ticks/binance_btcusdt-trades-20210108.parquet"
QUOTES_FILE = "data/ticks/binance_btcusdt-quotes-20210108.parquet"
BINANCE_DECIMALS = 8  # Binance spot prints BTCUSDT prices and quantities with 8 decimals
COINBASE_SIZE_DECIMALS = 8
MS = 1_000_000

Levels = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]  # (bids best first, asks best first)


def load_binance_ticks(
    root: str | Path = ROOT, instrument_id: str = "BTCUSDT.BINANCE", instruments: InstrumentProvider | None = None
) -> tuple[Instrument, TradeColumns, QuoteColumns]:
    """The repository's Binance BTCUSDT trades and quotes, loaded with the checked loaders."""
    root = Path(root)
    provider = instruments or InstrumentProvider.from_toml(root / "data/instruments/futures_fx_crypto.toml")
    trades, _ = load_parquet_trades(root / TRADES_FILE, instrument_id=instrument_id, instruments=provider)
    quotes, _ = load_parquet_quotes(root / QUOTES_FILE, instrument_id=instrument_id, instruments=provider)
    return provider.get(instrument_id), trades, quotes


def iso_time(ts_ns: int) -> str:
    """``2021-01-08T00:00:00.278000Z`` (microseconds, as Coinbase prints them)."""
    secs, ns = divmod(ts_ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns // 1000:06d}Z"


# --------------------------------------------------------------------------------------------
# The synthesized depth
# --------------------------------------------------------------------------------------------


@dataclass
class _BookStep:
    ts_event: int
    bids: list[tuple[int, int]]  # changed levels (size 0: removed)
    asks: list[tuple[int, int]]
    after: Levels


def _freeze(bids: dict[int, int], asks: dict[int, int]) -> Levels:
    return tuple(sorted(bids.items(), reverse=True)), tuple(sorted(asks.items()))


def synthesize_depth(
    quotes: QuoteColumns, inst: Instrument, seed: int = 7, levels: int = 10, max_levels: int = 20, spacing_ticks: int = 25
) -> tuple[Levels, list[_BookStep]]:
    """An L2 book whose top is each quote; returns the initial book and one change set per quote."""
    rng = random.Random(seed)
    tick, lot = inst.tick_size_raw, inst.lot_size_raw
    step = spacing_ticks * tick
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}

    def size() -> int:
        return rng.randint(1, 3_000_000 // lot or 1) * lot

    def evolve(bid: int, ask: int, bid_size: int, ask_size: int) -> None:
        for p in [p for p in bids if p > bid or p >= ask]:
            del bids[p]
        for p in [p for p in asks if p < ask or p <= bid]:
            del asks[p]
        bids[bid] = bid_size
        asks[ask] = ask_size
        for k in range(1, levels + 1):
            bids.setdefault(bid - k * step, size()) if bid - k * step > 0 else None
            asks.setdefault(ask + k * step, size())
        deeper = [(1, p) for p in bids if p != bid] + [(-1, p) for p in asks if p != ask]
        side, p = deeper[rng.randrange(len(deeper))]
        book = bids if side == 1 else asks
        if rng.random() < 0.2:
            del book[p]
        else:
            book[p] = size()
        for book, far in ((bids, min), (asks, max)):
            while len(book) > max_levels:
                del book[far(book)]

    bid, ask, bsz, asz = (int(quotes.bid[0]), int(quotes.ask[0]), int(quotes.bid_size[0]), int(quotes.ask_size[0]))
    evolve(bid, ask, bsz, asz)
    initial = _freeze(bids, asks)
    steps = []
    for i in range(len(quotes)):
        before_b, before_a = dict(bids), dict(asks)
        evolve(int(quotes.bid[i]), int(quotes.ask[i]), int(quotes.bid_size[i]), int(quotes.ask_size[i]))
        changes = []
        for before, after in ((before_b, bids), (before_a, asks)):
            ch = [(p, after.get(p, 0)) for p in sorted(set(before) | set(after)) if before.get(p, 0) != after.get(p, 0)]
            changes.append(ch)
        steps.append(_BookStep(int(quotes.ts_event[i]), changes[0], changes[1], _freeze(bids, asks)))
    return initial, steps


# --------------------------------------------------------------------------------------------
# Recordings
# --------------------------------------------------------------------------------------------


@dataclass
class Recording:
    """Frames of one exchange's stream, and the true book after each frame.

    ``channels[i]`` names frame ``i``'s channel (``trade``, ``quote``, ``depth``); ``book_ids[i]`` and
    ``books[i]`` are the book's update id / sequence and levels once frame ``i`` has happened.
    """

    exchange: str
    symbol: str  # exchange symbol / product id
    instrument: Instrument
    frames: list[str]
    channels: list[str]
    book_ids: list[int]
    books: list[Levels]
    initial_id: int
    initial_book: Levels
    trades: TradeColumns
    quotes: QuoteColumns

    def book_at(self, pos: int) -> tuple[int, Levels]:
        """Update id and levels of the true book once frames ``[0, pos)`` have happened."""
        if pos <= 0:
            return self.initial_id, self.initial_book
        return self.book_ids[pos - 1], self.books[pos - 1]

    def with_frames(self, inserts: dict[int, str]) -> Recording:
        """A copy with extra raw frames (e.g. malformed ones) inserted before the given positions."""
        out = Recording(self.exchange, self.symbol, self.instrument, [], [], [], [], self.initial_id,
                        self.initial_book, self.trades, self.quotes)
        for i in range(len(self.frames) + 1):
            if i in inserts:
                out.frames.append(inserts[i])
                out.channels.append("other")
                prev = out.book_at(len(out.frames) - 1)
                out.book_ids.append(prev[0])
                out.books.append(prev[1])
            if i < len(self.frames):
                out.frames.append(self.frames[i])
                out.channels.append(self.channels[i])
                out.book_ids.append(self.book_ids[i])
                out.books.append(self.books[i])
        return out

    def final_book(self) -> Levels:
        return self.book_at(len(self.frames))[1]

    def binance_snapshot(self, pos: int) -> dict[str, Any]:
        """The REST ``/api/v3/depth`` answer at ``pos``."""
        last_id, (bids, asks) = self.book_at(pos)
        return {"lastUpdateId": last_id, "bids": self._rows(bids), "asks": self._rows(asks)}

    def coinbase_snapshot(self, pos: int) -> dict[str, Any]:
        """The level2 channel's ``snapshot`` message at ``pos`` (``sequence``: its book sequence)."""
        seq, (bids, asks) = self.book_at(pos)
        return {
            "type": "snapshot",
            "product_id": self.symbol,
            "bids": self._rows(bids),
            "asks": self._rows(asks),
            "sequence": seq,
        }

    def _rows(self, levels: Iterable[tuple[int, int]]) -> list[list[str]]:
        return [[self.price_text(p), self.size_text(q)] for p, q in levels]

    def price_text(self, raw: int) -> str:
        pp = self.instrument.price_precision
        if self.exchange == "binance":
            return raw_to_str(raw * 10 ** (BINANCE_DECIMALS - pp), BINANCE_DECIMALS)
        return raw_to_str(raw, pp)

    def size_text(self, raw: int) -> str:
        sp = self.instrument.size_precision
        d = BINANCE_DECIMALS if self.exchange == "binance" else COINBASE_SIZE_DECIMALS
        return raw_to_str(raw * 10 ** (d - sp), d)


def _merge(trades: TradeColumns, steps: list[_BookStep]) -> list[tuple[str, int]]:
    """(channel, index) in time order; at equal times the book moves before the trade prints."""
    keyed = [(int(ts), 0, "depth", i) for i, ts in enumerate(s.ts_event for s in steps)]
    keyed += [(int(ts), 1, "trade", i) for i, ts in enumerate(trades.ts_event.tolist())]
    keyed.sort()
    return [(ch, i) for _, _, ch, i in keyed]


def binance_recording(
    root: str | Path = ROOT, *, symbol: str = "BTCUSDT", first_update_id: int = 8_100_000_000, seed: int = 7
) -> Recording:
    """Binance combined-stream frames (``trade``, ``depthUpdate`` then ``bookTicker`` per quote)."""
    inst, trades, quotes = load_binance_ticks(root)
    initial, steps = synthesize_depth(quotes, inst, seed)
    rec = Recording("binance", symbol, inst, [], [], [], [], first_update_id, initial, trades, quotes)
    low = symbol.lower()
    update_id = first_update_id
    book_id, book = first_update_id, initial
    wrap = json.JSONEncoder(separators=(",", ":")).encode

    def add(stream: str, channel: str, data: dict[str, Any]) -> None:
        rec.frames.append(wrap({"stream": f"{low}@{stream}", "data": data}))
        rec.channels.append(channel)
        rec.book_ids.append(book_id)
        rec.books.append(book)

    for channel, i in _merge(trades, steps):
        if channel == "trade":
            ts_ms = int(trades.ts_event[i]) // MS
            add("trade", "trade", {
                "e": "trade", "E": ts_ms, "s": symbol, "t": int(trades.trade_id[i]),
                "p": rec.price_text(int(trades.price[i])), "q": rec.size_text(int(trades.size[i])),
                "T": ts_ms, "m": int(trades.aggressor[i]) == -1, "M": True,
            })
            continue
        st = steps[i]
        n = len(st.bids) + len(st.asks)
        first, update_id = update_id + 1, update_id + n
        book_id, book = update_id, st.after
        add("depth@100ms", "depth", {
            "e": "depthUpdate", "E": st.ts_event // MS, "s": symbol, "U": first, "u": update_id,
            "b": rec._rows(st.bids), "a": rec._rows(st.asks),
        })
        add("bookTicker", "quote", {
            "u": update_id, "s": symbol,
            "b": rec.price_text(int(quotes.bid[i])), "B": rec.size_text(int(quotes.bid_size[i])),
            "a": rec.price_text(int(quotes.ask[i])), "A": rec.size_text(int(quotes.ask_size[i])),
        })
    return rec


def coinbase_recording(
    root: str | Path = ROOT, *, product_id: str = "BTC-USDT", instrument: Instrument | None = None, seed: int = 7
) -> Recording:
    """Coinbase Exchange frames: ``match`` per trade, ``l2update`` per book change (with a book ``sequence``).

    ``side`` of a match is the maker's side (a sell-side maker means the buyer aggressed). The
    Coinbase instrument defaults to the Binance one's grids under the id ``BTC-USDT.COINBASE``.
    """
    binance_inst, trades, quotes = load_binance_ticks(root)
    inst = instrument or coinbase_instrument(binance_inst)
    initial, steps = synthesize_depth(quotes, inst, seed)
    rec = Recording("coinbase", product_id, inst, [], [], [], [], 0, initial, trades, quotes)
    wrap = json.JSONEncoder(separators=(",", ":")).encode
    seq, book = 0, initial
    product_seq = 1_000_000
    for channel, i in _merge(trades, steps):
        product_seq += 1
        if channel == "trade":
            tid = int(trades.trade_id[i])
            msg: dict[str, Any] = {
                "type": "match", "trade_id": tid, "maker_order_id": f"m-{tid}", "taker_order_id": f"t-{tid}",
                "side": "buy" if int(trades.aggressor[i]) == -1 else "sell",
                "size": rec.size_text(int(trades.size[i])), "price": rec.price_text(int(trades.price[i])),
                "product_id": product_id, "sequence": product_seq, "time": iso_time(int(trades.ts_event[i])),
            }
        else:
            st = steps[i]
            seq, book = seq + 1, st.after
            changes = [["buy", rec.price_text(p), rec.size_text(q)] for p, q in st.bids]
            changes += [["sell", rec.price_text(p), rec.size_text(q)] for p, q in st.asks]
            msg = {"type": "l2update", "product_id": product_id, "changes": changes,
                   "time": iso_time(st.ts_event), "sequence": seq}
        rec.frames.append(wrap(msg))
        rec.channels.append("trade" if channel == "trade" else "depth")
        rec.book_ids.append(seq)
        rec.books.append(book)
    return rec


def coinbase_instrument(like: Instrument) -> Instrument:
    from dataclasses import replace

    from tradeforge.model.identifiers import InstrumentId

    return replace(like, id=InstrumentId("BTC-USDT.COINBASE"))


# --------------------------------------------------------------------------------------------
# The replay server
# --------------------------------------------------------------------------------------------


@dataclass
class ServerStats:
    handshakes: int = 0  # WebSocket handshake attempts (refused ones included)
    refused: int = 0
    connections: int = 0  # accepted WebSocket connections
    drops: int = 0
    skipped: list[int] = field(default_factory=list)
    snapshots: int = 0  # REST or level2 snapshots served
    subscribes: int = 0


class ReplayServer:
    """Serve a :class:`Recording` on ``127.0.0.1``; use as ``async with ReplayServer(rec) as srv``.

    ``refuse_first``: answer the first handshakes with HTTP 503. ``drop_after``: frame indices after
    which the connection is aborted once. ``skip``: frame indices never sent (a gap).
    ``pace_s``: pause between frames. At the end the server closes with ``end_code`` (4000) after
    ``linger_s`` (time for a late resubscribe to be answered).
    """

    def __init__(
        self,
        recording: Recording,
        *,
        refuse_first: int = 0,
        drop_after: Iterable[int] = (),
        skip: Iterable[int] = (),
        pace_s: float = 0.0,
        linger_s: float = 0.2,
        end_code: int = 4000,
    ) -> None:
        self.rec = recording
        self.refuse_first = refuse_first
        self.drop_after = set(drop_after)
        self.skip = set(skip)
        self.pace_s = pace_s
        self.linger_s = linger_s
        self.end_code = end_code
        self.pos = 0  # next frame to send (shared by successive connections)
        self.stats = ServerStats()
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ReplayServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._process_request)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def snapshot(self, symbol: str) -> dict[str, Any]:
        """The Binance REST snapshot of the true book now (a snapshot source for tests)."""
        self.stats.snapshots += 1
        return self.rec.binance_snapshot(self.pos)

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == "/api/v3/depth":
            self.stats.snapshots += 1
            symbol = parse_qs(url.query).get("symbol", [""])[0]
            if symbol != self.rec.symbol:
                return conn.respond(HTTPStatus.BAD_REQUEST, json.dumps({"code": -1121, "msg": "Invalid symbol."}))
            return conn.respond(HTTPStatus.OK, json.dumps(self.rec.binance_snapshot(self.pos)))
        self.stats.handshakes += 1
        if self.stats.refused < self.refuse_first:
            self.stats.refused += 1
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "busy, retry later\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.stats.connections += 1
        try:
            if self.rec.exchange == "coinbase":
                await self._coinbase(ws)
            else:
                await self._stream(ws, None)
        except ConnectionClosed:
            pass

    async def _stream(self, ws: ServerConnection, coinbase: _CoinbaseSession | None) -> None:
        rec = self.rec
        while self.pos < len(rec.frames):
            if coinbase is not None:
                await coinbase.flush_snapshot(self)
            i = self.pos
            self.pos += 1
            if i in self.skip:
                self.skip.discard(i)
                self.stats.skipped.append(i)
                continue
            if coinbase is None or coinbase.wants(rec.channels[i]):
                await ws.send(rec.frames[i])
            if i in self.drop_after:
                self.drop_after.discard(i)
                self.stats.drops += 1
                ws.transport.abort()
                return
            await asyncio.sleep(self.pace_s)
        if coinbase is not None:
            deadline = asyncio.get_running_loop().time() + self.linger_s
            while asyncio.get_running_loop().time() < deadline:
                await coinbase.flush_snapshot(self)
                await asyncio.sleep(0.005)
        else:
            await asyncio.sleep(self.linger_s)
        await ws.close(self.end_code, "end of recording")

    async def _coinbase(self, ws: ServerConnection) -> None:
        session = _CoinbaseSession(self.rec.symbol, ws)
        async with asyncio.timeout(5):
            session.on_message(await ws.recv())
        self.stats.subscribes += 1
        reader = asyncio.create_task(self._coinbase_reader(ws, session))
        try:
            await self._stream(ws, session)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _coinbase_reader(self, ws: ServerConnection, session: _CoinbaseSession) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                session.on_message(text)
                self.stats.subscribes += 1


class _CoinbaseSession:
    """One Coinbase connection's subscriptions; a level2 subscribe queues a snapshot."""

    def __init__(self, product_id: str, ws: ServerConnection) -> None:
        self.product_id = product_id
        self.ws = ws
        self.channels: set[str] = set()
        self.snapshot_due = False
        self.replies: list[dict[str, Any]] = []

    def on_message(self, text: str | bytes) -> None:
        msg = json.loads(text)
        names = {c if isinstance(c, str) else c.get("name") for c in msg.get("channels", [])}
        if msg.get("type") == "subscribe":
            if "level2" in names:
                self.snapshot_due = True
            self.channels |= names
        elif msg.get("type") == "unsubscribe":
            self.channels -= names
        self.replies.append({"type": "subscriptions", "channels": [
            {"name": c, "product_ids": [self.product_id]} for c in sorted(self.channels)
        ]})

    def wants(self, channel: str) -> bool:
        if channel == "other":
            return True
        return ("level2" if channel == "depth" else "matches") in self.channels

    async def flush_snapshot(self, server: ReplayServer) -> None:
        while self.replies:
            await self.ws.send(json.dumps(self.replies.pop(0)))
        if self.snapshot_due:
            self.snapshot_due = False
            server.stats.snapshots += 1
            await self.ws.send(json.dumps(server.rec.coinbase_snapshot(server.pos)))
