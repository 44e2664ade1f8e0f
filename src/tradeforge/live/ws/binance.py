"""Binance spot WebSocket market data: ``trade``, ``bookTicker`` and ``depthUpdate`` -> tradeforge events.

Messages may come raw (``/ws/<stream>``) or wrapped by a combined stream (``{"stream", "data"}``);
subscription replies (``{"result", "id"}``) and unknown messages are ignored.

- ``trade`` -> :class:`TradeTick`: price ``p``, size ``q``, ``ts_event`` from ``T`` (ms), trade id ``t``;
  ``m`` (buyer is maker) true means the seller aggressed. Repeated trade ids (after a reconnect) are
  dropped; a jump in ids is counted in ``stats.trade_gaps``.
- ``bookTicker`` -> :class:`QuoteTick`: ``b/B/a/A``; spot bookTicker has no event time, so ``ts_event``
  is ``E`` when present, else the receive time. Repeated book update ids ``u`` are dropped.
- ``depthUpdate`` -> :class:`OrderBookDelta` events, through a local L2 book per symbol kept in sync
  by Binance's documented procedure: buffer the diffs, fetch a REST snapshot (``lastUpdateId``),
  drop buffered diffs with ``u <= lastUpdateId``, require the first applied diff to straddle
  ``lastUpdateId + 1`` (``U <= lastUpdateId + 1 <= u``; a snapshot older than that is fetched again),
  then require every diff to continue the last: ``U > previous u + 1`` is a gap, a diff with ``u``
  at or below the book's id is stale and skipped (an overlapping diff, ``U <= id < u``, is applied:
  levels are absolute). The book stays synced across reconnects as long as the ids continue. A gap resynchronizes from a fresh snapshot: the book
  emits a CLEAR delta (``side`` 0) and one ADD per snapshot level, then the buffered diffs.

:class:`BinanceNormalizer` is synchronous and does no I/O; :class:`BinanceFeed` drives it from a
:class:`~tradeforge.live.ws.client.ReconnectingWebSocket` and an injectable snapshot source (an
async callable ``symbol -> JSON``: :func:`http_snapshot_source` for REST, a recording in tests).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tradeforge.data.errors import BadRecordPolicy
from tradeforge.live.ws.client import (
    BadMessages,
    FieldError,
    L2Book,
    ReconnectingWebSocket,
    decimal_field,
    field_of,
    int_field,
    parse_decimal,
)
from tradeforge.model.data import Data, QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide
from tradeforge.model.instruments import Instrument

__all__ = ["BinanceFeed", "BinanceNormalizer", "BinanceStats", "SnapshotSource", "http_snapshot_source"]

MS = 1_000_000
SnapshotSource = Callable[[str], Awaitable[Any]]


class FeedError(RuntimeError):
    """The feed cannot go on (e.g. snapshots keep failing)."""


@dataclass
class BinanceStats:
    ignored: int = 0  # messages of no interest (subscription replies, unknown events)
    duplicate_trades: int = 0
    trade_gaps: int = 0
    duplicate_quotes: int = 0
    stale_diffs: int = 0  # diffs at or below the book's update id (skipped)
    gaps: int = 0  # sequence gaps in the depth stream (each triggers a resync)
    snapshots: int = 0  # snapshots applied
    stale_snapshots: int = 0  # snapshots older than the buffered diffs (fetched again)
    buffer_overflows: int = 0


@dataclass
class _Diff:
    first: int  # U
    last: int  # u
    ts_event: int
    ts_init: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


class _Symbol:
    def __init__(self, inst: Instrument, max_buffer: int) -> None:
        self.inst = inst
        self.iid = str(inst.id)
        self.book = L2Book(self.iid)
        self.synced = False
        self.buffer: deque[_Diff] = deque()
        self.max_buffer = max_buffer
        self.diffs_seen = 0  # diffs buffered while unsynced (a new snapshot is tried once per new diff)
        self.tried_at = -1
        self.last_trade_id: int | None = None
        self.last_quote_u: int | None = None


def _levels(obj: Any, key: str, inst: Instrument, where: str) -> list[tuple[int, int]]:
    rows = field_of(obj, key, where)
    if not isinstance(rows, list):
        raise FieldError(f"{where}{key}", f"expected a list of [price, quantity], got {type(rows).__name__}")
    out = []
    pp, tick, sp, lot = inst.price_precision, inst.tick_size_raw, inst.size_precision, inst.lot_size_raw
    for i, row in enumerate(rows):
        name = f"{where}{key}[{i}]"
        if not isinstance(row, list) or len(row) < 2:
            raise FieldError(name, f"expected [price, quantity], got {row!r}")
        try:
            price, size = parse_decimal(row[0], pp), parse_decimal(row[1], sp)
        except ValueError as exc:
            raise FieldError(name, str(exc)) from None
        if price % tick or size % lot:
            raise FieldError(name, f"{row[:2]!r} is off the instrument's tick/lot grid")
        out.append((price, size))
    return out


def _load(snapshot: Any) -> Any:
    if isinstance(snapshot, (str, bytes, bytearray)):
        return json.loads(snapshot)
    return snapshot


class BinanceNormalizer:
    """Binance spot messages -> events; ``instruments`` maps exchange symbols (``BTCUSDT``) to instruments."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        *,
        policy: BadRecordPolicy = BadRecordPolicy.QUARANTINE,
        source: str = "binance",
        max_buffer: int = 10_000,
    ) -> None:
        self._symbols = {sym.upper(): _Symbol(inst, max_buffer) for sym, inst in instruments.items()}
        self.bad = BadMessages(source, policy)
        self.stats = BinanceStats()
        self.received = 0

    # -- state ---------------------------------------------------------------------------------
    def book(self, symbol: str) -> L2Book:
        return self._symbols[symbol.upper()].book

    def synced(self, symbol: str) -> bool:
        return self._symbols[symbol.upper()].synced

    def needs_snapshot(self) -> list[str]:
        """Symbols whose depth book waits for a snapshot and got a new diff since the last try."""
        return [
            sym for sym, s in self._symbols.items() if not s.synced and s.buffer and s.diffs_seen > s.tried_at
        ]

    # -- messages ------------------------------------------------------------------------------
    def on_message(self, text: str, ts_init: int) -> list[Data]:
        """Events of one WebSocket text frame; a bad message is reported per the policy and skipped."""
        self.received += 1
        try:
            msg = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.bad.report(self.received, "<json>", f"not JSON: {exc}", text)
            return []
        try:
            if isinstance(msg, dict) and "stream" in msg and "data" in msg:
                msg = msg["data"]
            if not isinstance(msg, dict):
                raise FieldError("<message>", f"expected a JSON object, got {type(msg).__name__}")
            event = msg.get("e")
            if event == "trade":
                return self._trade(msg, ts_init)
            if event == "depthUpdate":
                return self._depth(msg, ts_init)
            if event is None and "A" in msg and "b" in msg and "u" in msg:
                return self._book_ticker(msg, ts_init)
            self.stats.ignored += 1
            return []
        except FieldError as exc:
            self.bad.report(self.received, exc.field, exc.reason, text)
            return []

    def _symbol(self, msg: dict) -> _Symbol:
        sym = field_of(msg, "s")
        state = self._symbols.get(sym.upper()) if isinstance(sym, str) else None
        if state is None:
            raise FieldError("s", f"unknown symbol {sym!r}")
        return state

    def _trade(self, msg: dict, ts_init: int) -> list[Data]:
        s = self._symbol(msg)
        inst = s.inst
        trade_id = int_field(msg, "t")
        price = decimal_field(msg, "p", inst.price_precision, inst.tick_size_raw)
        size = decimal_field(msg, "q", inst.size_precision, inst.lot_size_raw)
        ts_ms = int_field(msg, "T")
        maker = field_of(msg, "m")
        if type(maker) is not bool:
            raise FieldError("m", f"expected true or false, got {maker!r}")
        last = s.last_trade_id
        if last is not None:
            if trade_id <= last:
                self.stats.duplicate_trades += 1
                return []
            if trade_id != last + 1:
                self.stats.trade_gaps += 1
        s.last_trade_id = trade_id
        side = AggressorSide.SELLER if maker else AggressorSide.BUYER
        return [TradeTick(s.iid, price, size, side, str(trade_id), ts_ms * MS, ts_init)]

    def _book_ticker(self, msg: dict, ts_init: int) -> list[Data]:
        s = self._symbol(msg)
        inst = s.inst
        u = int_field(msg, "u")
        pp, tick, sp, lot = inst.price_precision, inst.tick_size_raw, inst.size_precision, inst.lot_size_raw
        bid = decimal_field(msg, "b", pp, tick)
        bid_size = decimal_field(msg, "B", sp, lot)
        ask = decimal_field(msg, "a", pp, tick)
        ask_size = decimal_field(msg, "A", sp, lot)
        ts_event = int_field(msg, "E") * MS if "E" in msg else ts_init
        if s.last_quote_u is not None and u <= s.last_quote_u:
            self.stats.duplicate_quotes += 1
            return []
        s.last_quote_u = u
        return [QuoteTick(s.iid, bid, ask, bid_size, ask_size, ts_event, ts_init)]

    def _depth(self, msg: dict, ts_init: int) -> list[Data]:
        s = self._symbol(msg)
        first, last = int_field(msg, "U"), int_field(msg, "u")
        if first > last:
            raise FieldError("U", f"first update id {first} is after the final one {last}")
        ts_event = int_field(msg, "E") * MS
        diff = _Diff(first, last, ts_event, ts_init, _levels(msg, "b", s.inst, ""), _levels(msg, "a", s.inst, ""))
        if not s.synced:
            self._buffer(s, diff)
            return []
        local = s.book.sequence
        if diff.last <= local:
            self.stats.stale_diffs += 1
            return []
        if diff.first > local + 1:  # a sequence gap: start over from a fresh snapshot
            self.stats.gaps += 1
            s.synced = False
            s.buffer.clear()
            self._buffer(s, diff)
            return []
        return self._apply(s, diff)

    def _buffer(self, s: _Symbol, diff: _Diff) -> None:
        if len(s.buffer) >= s.max_buffer:
            s.buffer.popleft()
            self.stats.buffer_overflows += 1
        s.buffer.append(diff)
        s.diffs_seen += 1

    @staticmethod
    def _apply(s: _Symbol, d: _Diff) -> list[Data]:
        book = s.book
        out: list[Data] = []
        for side, levels in ((1, d.bids), (-1, d.asks)):
            for price, size in levels:
                delta = book.set_level(side, price, size, d.last, d.ts_event, d.ts_init)
                if delta is not None:
                    out.append(delta)
        book.sequence = d.last
        return out

    # -- snapshots -----------------------------------------------------------------------------
    def on_snapshot(self, symbol: str, snapshot: Any, ts_init: int) -> list[Data]:
        """Apply a REST depth snapshot (``{"lastUpdateId", "bids", "asks"}``, as JSON text or parsed).

        Returns the CLEAR/ADD deltas of the snapshot followed by the buffered diffs' deltas, or ``[]``
        when the snapshot is unusable (bad, or older than the buffered diffs: try again later).
        """
        s = self._symbols[symbol.upper()]
        s.tried_at = s.diffs_seen
        where = "snapshot."
        try:
            snap = _load(snapshot)
            last_id = int_field(snap, "lastUpdateId", where)
            bids = _levels(snap, "bids", s.inst, where)
            asks = _levels(snap, "asks", s.inst, where)
        except ValueError as exc:  # FieldError and JSON errors
            field = exc.field if isinstance(exc, FieldError) else "<json>"
            reason = exc.reason if isinstance(exc, FieldError) else f"not JSON: {exc}"
            self.bad.report(self.received, field, reason, str(snapshot))
            return []
        buffer = s.buffer
        while buffer and buffer[0].last <= last_id:
            buffer.popleft()
        if buffer and buffer[0].first > last_id + 1:  # snapshot older than the stream: fetch again
            self.stats.stale_snapshots += 1
            return []
        self.stats.snapshots += 1
        out: list[Data] = list(s.book.reset(bids, asks, last_id, ts_init, ts_init))
        s.synced = True
        while buffer:
            d = buffer.popleft()
            if d.last <= s.book.sequence:
                self.stats.stale_diffs += 1
                continue
            if d.first > s.book.sequence + 1:  # gap inside the buffer: resync from this diff on
                self.stats.gaps += 1
                s.synced = False
                buffer.appendleft(d)
                break
            out.extend(self._apply(s, d))
        return out


class BinanceFeed:
    """Drive a :class:`BinanceNormalizer` from a WebSocket client and a snapshot source.

    :meth:`events` yields every normalized event (optionally only those of ``types``); a depth book
    that needs a snapshot gets one from ``snapshot_source(symbol)`` (bounded by ``snapshot_timeout_s``)
    before the next message is read. ``max_snapshot_failures`` consecutive failures raise
    :class:`FeedError`.
    """

    def __init__(
        self,
        client: ReconnectingWebSocket,
        normalizer: BinanceNormalizer,
        snapshot_source: SnapshotSource | None = None,
        *,
        snapshot_timeout_s: float = 10.0,
        max_snapshot_failures: int = 5,
    ) -> None:
        self.client = client
        self.normalizer = normalizer
        self.snapshot_source = snapshot_source
        self.snapshot_timeout_s = snapshot_timeout_s
        self.max_snapshot_failures = max_snapshot_failures
        self.snapshot_failures = 0
        self.snapshot_requests = 0

    async def _snapshot(self, symbol: str) -> list[Data]:
        assert self.snapshot_source is not None
        self.snapshot_requests += 1
        norm = self.normalizer
        try:
            async with asyncio.timeout(self.snapshot_timeout_s):
                snap = await self.snapshot_source(symbol)
        except (OSError, TimeoutError, ValueError) as exc:
            norm._symbols[symbol].tried_at = norm._symbols[symbol].diffs_seen
            norm.bad.report(norm.received, "snapshot", f"snapshot request failed: {type(exc).__name__}: {exc}", "")
            events: list[Data] = []
        else:
            events = norm.on_snapshot(symbol, snap, self.client.clock.timestamp_ns())
        if norm.synced(symbol):
            self.snapshot_failures = 0
        else:
            self.snapshot_failures += 1
            if self.snapshot_failures >= self.max_snapshot_failures:
                raise FeedError(f"binance {symbol}: {self.snapshot_failures} snapshots in a row did not sync the book")
        return events

    async def events(self, types: tuple[type, ...] | None = None) -> AsyncIterator[Data]:
        norm = self.normalizer
        async for msg in self.client.messages():
            for ev in norm.on_message(msg.text, msg.ts_init):
                if types is None or isinstance(ev, types):
                    yield ev
            if self.snapshot_source is None:
                continue
            for symbol in norm.needs_snapshot():
                for ev in await self._snapshot(symbol):
                    if types is None or isinstance(ev, types):
                        yield ev


def stream_names(symbols: list[str], depth_speed: str = "100ms") -> list[str]:
    """``<symbol>@trade``, ``<symbol>@bookTicker`` and ``<symbol>@depth@<speed>`` for each symbol."""
    out = []
    for sym in symbols:
        s = sym.lower()
        out += [f"{s}@trade", f"{s}@bookTicker", f"{s}@depth@{depth_speed}" if depth_speed else f"{s}@depth"]
    return out


def subscribe_message(streams: list[str], request_id: int = 1) -> dict[str, Any]:
    """The ``SUBSCRIBE`` request of the Binance WebSocket API."""
    return {"method": "SUBSCRIBE", "params": streams, "id": request_id}


def http_snapshot_source(base_url: str, limit: int = 1000, timeout_s: float = 10.0) -> SnapshotSource:
    """A snapshot source doing ``GET {base_url}/api/v3/depth?symbol=...&limit=...`` (HTTP/1.1, stdlib only)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    host, tls = parts.hostname, parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    prefix = parts.path.rstrip("/")

    async def fetch(symbol: str) -> bytes:
        path = f"{prefix}/api/v3/depth?{urlencode({'symbol': symbol.upper(), 'limit': limit})}"
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls or None)
            try:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n".encode()
                )
                await writer.drain()
                raw = await reader.read()
            finally:
                writer.close()
        return _http_body(raw, f"{base_url}{path}")

    return fetch


def _http_body(raw: bytes, where: str) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"{where}: truncated HTTP response")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[1] != "200":
        raise ValueError(f"{where}: HTTP status {lines[0]!r}")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, rest = bytearray(), body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return bytes(out)
            out += rest[:size]
            rest = rest[size + 2 :]
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return body


__all__ += ["FeedError", "stream_names", "subscribe_message"]

