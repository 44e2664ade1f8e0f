"""Coinbase Exchange WebSocket market data: ``match``, level2 ``snapshot`` / ``l2update`` -> tradeforge events.

- ``match`` -> :class:`TradeTick`. ``side`` is the **maker's** side, so ``"sell"`` means the buyer
  aggressed. Trade ids are contiguous per product: a repeated id (after a reconnect) is dropped, a
  jump is counted in ``stats.trade_gaps`` (trades cannot be recovered from the stream).
- level2 ``snapshot`` -> CLEAR delta (``side`` 0) and one ADD per level; ``l2update`` ``changes``
  (``[side, price, new size]``, size ``"0"`` removes the level) -> :class:`OrderBookDelta` events on a
  local L2 book per product. When ``emit_quotes`` is on, every change of the top of the book also
  emits a :class:`QuoteTick` (Coinbase has no separate best-bid/offer stream with sizes on every change).
- Sequence gaps: when level2 messages carry a ``sequence`` (the book's, one per update), an update
  that does not follow the last (``sequence != last + 1``) marks the book unsynced; updates are
  ignored until a new ``snapshot``, which :class:`CoinbaseFeed` requests by unsubscribing and
  resubscribing the product's level2 channel. A stale ``sequence`` (at or below the book's) is skipped.
  (The public ``level2`` messages of Coinbase Exchange carry no sequence; then only a reconnect or a
  resubscribe resynchronizes, and gap detection needs a sequenced source such as the replay server.)
- ``subscriptions``, ``heartbeat``, ``last_match`` and unknown types are ignored; ``error`` messages
  are counted and logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

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
    parse_iso_ns,
)
from tradeforge.model.data import Data, QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide
from tradeforge.model.instruments import Instrument

log = logging.getLogger(__name__)

__all__ = ["CoinbaseFeed", "CoinbaseNormalizer", "CoinbaseStats", "subscribe_message"]

_SIDES = {"buy": 1, "sell": -1}


@dataclass
class CoinbaseStats:
    ignored: int = 0
    server_errors: int = 0
    duplicate_trades: int = 0
    trade_gaps: int = 0
    snapshots: int = 0
    gaps: int = 0  # level2 sequence gaps (each asks for a resubscribe)
    stale_updates: int = 0
    unsynced_updates: int = 0  # l2updates dropped while waiting for a snapshot
    resubscribes: int = 0


class _Product:
    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.iid = str(inst.id)
        self.book = L2Book(self.iid)
        self.synced = False
        self.sequenced = False  # the last snapshot carried a sequence
        self.resync_due = False
        self.last_trade_id: int | None = None
        self.top: tuple[int, int, int, int] | None = None


def subscribe_message(product_ids: list[str], channels: list[str], unsubscribe: bool = False) -> dict[str, Any]:
    return {"type": "unsubscribe" if unsubscribe else "subscribe", "product_ids": product_ids, "channels": channels}


class CoinbaseNormalizer:
    """Coinbase Exchange messages -> events; ``instruments`` maps product ids (``BTC-USD``) to instruments."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        *,
        policy: BadRecordPolicy = BadRecordPolicy.QUARANTINE,
        source: str = "coinbase",
        emit_quotes: bool = True,
    ) -> None:
        self._products = {pid: _Product(inst) for pid, inst in instruments.items()}
        self.bad = BadMessages(source, policy)
        self.stats = CoinbaseStats()
        self.emit_quotes = emit_quotes
        self.received = 0

    def book(self, product_id: str) -> L2Book:
        return self._products[product_id].book

    def synced(self, product_id: str) -> bool:
        return self._products[product_id].synced

    def needs_resync(self) -> list[str]:
        """Products whose book saw a gap and whose resubscribe has not been requested yet."""
        return [pid for pid, p in self._products.items() if p.resync_due]

    def resync_requested(self, product_id: str) -> None:
        self._products[product_id].resync_due = False
        self.stats.resubscribes += 1

    def on_message(self, text: str, ts_init: int) -> list[Data]:
        self.received += 1
        try:
            msg = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.bad.report(self.received, "<json>", f"not JSON: {exc}", text)
            return []
        try:
            if not isinstance(msg, dict):
                raise FieldError("<message>", f"expected a JSON object, got {type(msg).__name__}")
            kind = field_of(msg, "type")
            if kind == "match":
                return self._match(msg, ts_init)
            if kind == "l2update":
                return self._update(msg, ts_init)
            if kind == "snapshot":
                return self._snapshot(msg, ts_init)
            if kind == "error":
                self.stats.server_errors += 1
                log.error("coinbase error message: %s", text[:500])
                return []
            self.stats.ignored += 1
            return []
        except FieldError as exc:
            self.bad.report(self.received, exc.field, exc.reason, text)
            return []

    def _product(self, msg: dict) -> _Product:
        pid = field_of(msg, "product_id")
        product = self._products.get(pid) if isinstance(pid, str) else None
        if product is None:
            raise FieldError("product_id", f"unknown product {pid!r}")
        return product

    @staticmethod
    def _time(msg: dict, default: int) -> int:
        if "time" not in msg:
            return default
        try:
            return parse_iso_ns(msg["time"])
        except ValueError as exc:
            raise FieldError("time", str(exc)) from None

    def _match(self, msg: dict, ts_init: int) -> list[Data]:
        p = self._product(msg)
        inst = p.inst
        trade_id = int_field(msg, "trade_id")
        price = decimal_field(msg, "price", inst.price_precision, inst.tick_size_raw)
        size = decimal_field(msg, "size", inst.size_precision, inst.lot_size_raw)
        maker_side = field_of(msg, "side")
        if maker_side not in _SIDES:
            raise FieldError("side", f"expected 'buy' or 'sell', got {maker_side!r}")
        ts_event = self._time(msg, ts_init)
        last = p.last_trade_id
        if last is not None:
            if trade_id <= last:
                self.stats.duplicate_trades += 1
                return []
            if trade_id != last + 1:
                self.stats.trade_gaps += 1
        p.last_trade_id = trade_id
        aggressor = AggressorSide.SELLER if maker_side == "buy" else AggressorSide.BUYER
        return [TradeTick(p.iid, price, size, aggressor, str(trade_id), ts_event, ts_init)]

    def _rows(self, msg: dict, key: str, inst: Instrument) -> list[tuple[int, int]]:
        rows = field_of(msg, key)
        if not isinstance(rows, list):
            raise FieldError(key, "expected a list of [price, size]")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) < 2:
                raise FieldError(f"{key}[{i}]", f"expected [price, size], got {row!r}")
            out.append(self._level(row[0], row[1], inst, f"{key}[{i}]"))
        return out

    @staticmethod
    def _level(price_text: Any, size_text: Any, inst: Instrument, name: str) -> tuple[int, int]:
        try:
            price, size = parse_decimal(price_text, inst.price_precision), parse_decimal(size_text, inst.size_precision)
        except ValueError as exc:
            raise FieldError(name, str(exc)) from None
        if price % inst.tick_size_raw or size % inst.lot_size_raw:
            raise FieldError(name, f"[{price_text!r}, {size_text!r}] is off the instrument's tick/lot grid")
        return price, size

    def _snapshot(self, msg: dict, ts_init: int) -> list[Data]:
        p = self._product(msg)
        bids, asks = self._rows(msg, "bids", p.inst), self._rows(msg, "asks", p.inst)
        seq = msg.get("sequence")
        if seq is not None and type(seq) is not int:
            raise FieldError("sequence", f"expected an integer, got {seq!r}")
        ts_event = self._time(msg, ts_init)
        out: list[Data] = list(p.book.reset(bids, asks, seq or 0, ts_event, ts_init))
        p.synced, p.sequenced, p.resync_due = True, seq is not None, False
        self.stats.snapshots += 1
        self._quote(p, ts_event, ts_init, out)
        return out

    def _update(self, msg: dict, ts_init: int) -> list[Data]:
        p = self._product(msg)
        changes = field_of(msg, "changes")
        if not isinstance(changes, list):
            raise FieldError("changes", "expected a list of [side, price, size]")
        parsed = []
        for i, ch in enumerate(changes):
            if not isinstance(ch, list) or len(ch) < 3 or ch[0] not in _SIDES:
                raise FieldError(f"changes[{i}]", f"expected ['buy'|'sell', price, size], got {ch!r}")
            parsed.append((_SIDES[ch[0]], *self._level(ch[1], ch[2], p.inst, f"changes[{i}]")))
        seq = msg.get("sequence")
        if seq is not None and type(seq) is not int:
            raise FieldError("sequence", f"expected an integer, got {seq!r}")
        ts_event = self._time(msg, ts_init)
        if not p.synced:
            self.stats.unsynced_updates += 1
            return []
        book = p.book
        if seq is not None and p.sequenced:
            if seq <= book.sequence:
                self.stats.stale_updates += 1
                return []
            if seq != book.sequence + 1:
                self.stats.gaps += 1
                p.synced = False
                p.resync_due = True
                return []
        out: list[Data] = []
        for side, price, size in parsed:
            delta = book.set_level(side, price, size, seq if seq is not None else book.sequence, ts_event, ts_init)
            if delta is not None:
                out.append(delta)
        if seq is not None:
            book.sequence = seq
        self._quote(p, ts_event, ts_init, out)
        return out

    def _quote(self, p: _Product, ts_event: int, ts_init: int, out: list[Data]) -> None:
        if not self.emit_quotes:
            return
        bid, ask = p.book.best_bid(), p.book.best_ask()
        if bid is None or ask is None:
            return
        top = (bid[0], ask[0], bid[1], ask[1])
        if top != p.top:
            p.top = top
            out.append(QuoteTick(p.iid, *top, ts_event, ts_init))


class CoinbaseFeed:
    """Drive a :class:`CoinbaseNormalizer` from a client; a book gap resubscribes the product's level2."""

    def __init__(self, client: ReconnectingWebSocket, normalizer: CoinbaseNormalizer, level2_channel: str = "level2"):
        self.client = client
        self.normalizer = normalizer
        self.level2_channel = level2_channel

    async def events(self, types: tuple[type, ...] | None = None) -> AsyncIterator[Data]:
        norm = self.normalizer
        async for msg in self.client.messages():
            for ev in norm.on_message(msg.text, msg.ts_init):
                if types is None or isinstance(ev, types):
                    yield ev
            for pid in norm.needs_resync():
                norm.resync_requested(pid)
                try:
                    await self.client.send(subscribe_message([pid], [self.level2_channel], unsubscribe=True))
                    await self.client.send(subscribe_message([pid], [self.level2_channel]))
                except (ConnectionError, OSError, ConnectionClosed) as exc:  # the reconnect's subscription brings a snapshot
                    log.warning("coinbase %s: resubscribe failed (%s); the reconnect will resync", pid, exc)
