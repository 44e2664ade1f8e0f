"""A reconnecting WebSocket client, and the pieces the exchange normalizers share.

:class:`ReconnectingWebSocket` connects, sends its subscription messages, and hands out every text
frame stamped with the injected clock (``ts_init``) and the number of the connection it came on.
When the connection fails or drops it reconnects with exponential backoff: the delay of failed
attempt ``n`` (1-based) is ``min(cap, base * factor**(n-1))``, of which a ``jitter`` fraction is
drawn from a ``random.Random(seed)`` -- so a run is reproducible. ``max_attempts`` consecutive failed
attempts raise :class:`ConnectionGaveUp`; a successful connection resets the count. Time comes
only from the clock passed in; sleeping goes through an injectable ``sleep``.

Also here, shared by :mod:`.binance` and :mod:`.coinbase`: :class:`L2Book` (a market-by-price book
of raw integers that turns level changes into :class:`~tradeforge.model.data.OrderBookDelta`),
:class:`BadMessages` (the bad-record policy for a live feed) and exact decimal-text parsing.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy
from tradeforge.model.data import OrderBookDelta, OrderBookDepth
from tradeforge.model.enums import BookAction

log = logging.getLogger(__name__)

__all__ = [
    "BackoffPolicy",
    "BadMessages",
    "ConnectionGaveUp",
    "L2Book",
    "ReconnectingWebSocket",
    "TimestampClock",
    "WsMessage",
    "parse_decimal",
    "parse_iso_ns",
]


class TimestampClock(Protocol):
    """What the client needs of a clock (``LiveClock`` and ``SimulatedClock`` both qualify)."""

    def timestamp_ns(self) -> int: ...


class ConnectionGaveUp(ConnectionError):
    """``max_attempts`` consecutive connection attempts failed."""


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with jitter and a cap; ``max_attempts`` None retries forever."""

    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    jitter: float = 0.5  # fraction of each delay drawn at random: delay = d * (1 - jitter + jitter * U[0,1))
    max_attempts: int | None = 10

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < 0 or self.factor < 1:
            raise ValueError("backoff needs base_s >= 0, cap_s >= 0 and factor >= 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None)")

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1-based)."""
        d = min(self.cap_s, self.base_s * self.factor ** (failures - 1))
        return d * (1.0 - self.jitter) + d * self.jitter * rng.random()


class WsMessage(msgspec.Struct, frozen=True, gc=False):
    """One text frame: its text, when it was received (clock ns), and the connection number (1-based)."""

    text: str
    ts_init: int
    connection: int


@dataclass
class ClientStats:
    attempts: int = 0  # connection attempts, successful or not
    connects: int = 0  # successful connections
    failures: int = 0  # failed attempts and dropped connections
    messages: int = 0
    delays: list[float] = field(default_factory=list)  # every backoff delay slept, in seconds
    errors: list[str] = field(default_factory=list)  # why each attempt failed / connection dropped


Subscribe = Callable[["ReconnectingWebSocket"], Awaitable[None]]


class ReconnectingWebSocket:
    """Connect, subscribe, read, reconnect with backoff; ``close()`` ends :meth:`messages` cleanly.

    ``subscribe`` is a list of JSON-able messages sent after every (re)connection, or an async
    callable given the client (to :meth:`send` what it needs). ``stop_close_codes``: close codes from
    the server that end the stream instead of reconnecting (for recorded replays; empty for live).
    """

    def __init__(
        self,
        url: str,
        clock: TimestampClock,
        *,
        subscribe: Iterable[Any] | Subscribe = (),
        backoff: BackoffPolicy | None = None,
        seed: int = 0,
        open_timeout_s: float = 10.0,
        idle_timeout_s: float | None = 60.0,
        stop_close_codes: Iterable[int] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_queue: int = 1024,
    ) -> None:
        self.url = url
        self.clock = clock
        self._subscribe = subscribe if callable(subscribe) else list(subscribe)
        self.backoff = backoff or BackoffPolicy()
        self._rng = random.Random(seed)
        self.open_timeout_s = open_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.stop_close_codes = frozenset(stop_close_codes)
        self._sleep = sleep
        self._max_queue = max_queue
        self._ws: ClientConnection | None = None
        self._closing = asyncio.Event()
        self.stats = ClientStats()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def send(self, message: Any) -> None:
        """Send a JSON message (or text) on the current connection; raises if not connected."""
        ws = self._ws
        if ws is None:
            raise ConnectionError(f"{self.url}: not connected")
        await ws.send(message if isinstance(message, str) else msgspec.json.encode(message).decode())

    async def close(self) -> None:
        """Stop reading and close the connection; :meth:`messages` then ends without error."""
        self._closing.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def _connect_once(self) -> ClientConnection:
        self.stats.attempts += 1
        ws = await connect(self.url, open_timeout=self.open_timeout_s, max_queue=self._max_queue)
        self._ws = ws
        try:
            if callable(self._subscribe):
                await self._subscribe(self)
            else:
                for msg in self._subscribe:
                    await self.send(msg)
        except BaseException:
            self._ws = None
            await ws.close()
            raise
        self.stats.connects += 1
        return ws

    async def _wait(self, reason: str) -> None:
        """Count a failure; sleep the backoff delay, or give up after ``max_attempts`` in a row."""
        self._failures += 1
        self.stats.failures += 1
        self.stats.errors.append(reason)
        limit = self.backoff.max_attempts
        if limit is not None and self._failures >= limit:
            raise ConnectionGaveUp(f"{self.url}: {self._failures} consecutive failed attempts; last: {reason}")
        delay = self.backoff.delay(self._failures, self._rng)
        self.stats.delays.append(delay)
        log.warning("%s: %s; reconnecting in %.3fs (attempt %d)", self.url, reason, delay, self._failures + 1)
        if delay > 0:  # sleep, but wake up at once on close()
            sleeper = asyncio.ensure_future(self._sleep(delay))
            closer = asyncio.ensure_future(self._closing.wait())
            try:
                await asyncio.wait({sleeper, closer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                closer.cancel()

    async def messages(self) -> AsyncIterator[WsMessage]:
        """Every text frame of every connection, in order, until :meth:`close` or a stop close code."""
        self._failures = 0
        clock = self.clock
        while not self._closing.is_set():
            try:
                ws = await self._connect_once()
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                await self._wait(f"connect failed: {type(exc).__name__}: {exc}")
                continue
            except InvalidURI:
                raise
            self._failures = 0
            connection = self.stats.connects
            reason = ""
            try:
                while True:
                    if self.idle_timeout_s is None:
                        frame = await ws.recv()
                    else:
                        async with asyncio.timeout(self.idle_timeout_s):
                            frame = await ws.recv()
                    text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                    self.stats.messages += 1
                    yield WsMessage(text, clock.timestamp_ns(), connection)
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if self._closing.is_set() or code in self.stop_close_codes:
                    return
                reason = f"connection dropped: {exc}"
            except TimeoutError:
                reason = f"no message for {self.idle_timeout_s}s"
            finally:
                self._ws = None
                await ws.close()
            if self._closing.is_set():
                return
            await self._wait(reason)


# --------------------------------------------------------------------------------------------
# Shared by the normalizers
# --------------------------------------------------------------------------------------------


def parse_decimal(text: Any, precision: int) -> int:
    """Exact raw integer of a non-negative decimal string (``"39432.48000000"`` at 2 -> 3943248).

    Raises ``ValueError`` for anything that is not plain decimal text or that has non-zero digits
    beyond ``precision`` places.
    """
    if type(text) is not str:
        raise ValueError(f"expected a decimal string, got {type(text).__name__} {text!r}")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if not whole.isascii() or not whole.isdigit() or (frac and (not frac.isascii() or not frac.isdigit())):
        raise ValueError(f"{text!r} is not a non-negative decimal number")
    if len(frac) > precision:
        raise ValueError(f"{text!r} has more than {precision} decimal places")
    return int(whole) * 10**precision + (int(frac.ljust(precision, "0")) if frac else 0)


def parse_iso_ns(text: str) -> int:
    """UNIX ns of ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`` (exact; up to 9 fraction digits)."""
    if type(text) is not str or len(text) < 20 or text[-1] != "Z" or text[10] != "T":
        raise ValueError(f"{text!r} is not an ISO-8601 UTC time")
    main, _, frac = text[:-1].partition(".")
    if frac and (len(frac) > 9 or not frac.isascii() or not frac.isdigit()):
        raise ValueError(f"{text!r}: bad fraction of a second")
    try:
        dt = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO-8601 UTC time") from exc
    return calendar.timegm(dt.timetuple()) * 1_000_000_000 + (int(frac.ljust(9, "0")) if frac else 0)


class BadMessages:
    """The bad-record policy of one feed: raise :class:`BadRecordError`, or count, log and keep.

    ``record`` is the 1-based number of the message within the feed (``unit`` ``"message"``); the
    last ``keep`` bad records stay in :attr:`records` for the report, :attr:`count` counts them all.
    """

    def __init__(self, source: str, policy: BadRecordPolicy = BadRecordPolicy.QUARANTINE, keep: int = 1000) -> None:
        self.source = source
        self.policy = policy
        self.count = 0
        self.records: deque[BadRecord] = deque(maxlen=keep)

    def report(self, record: int, field: str, reason: str, raw_text: str) -> None:
        bad = BadRecord(self.source, record, field, reason, raw_text[:2000], unit="message")
        if self.policy is BadRecordPolicy.RAISE:
            raise bad.to_error()
        self.count += 1
        self.records.append(bad)
        log.warning("bad message skipped: %s", bad)


class FieldError(ValueError):
    """A field of a message is missing or invalid (turned into a bad record by the normalizer)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def field_of(obj: Any, key: str, where: str = "") -> Any:
    """``obj[key]`` or a :class:`FieldError` naming the (dotted) field."""
    name = f"{where}{key}"
    if not isinstance(obj, dict):
        raise FieldError(where.rstrip(".") or "<message>", f"expected an object, got {type(obj).__name__}")
    try:
        return obj[key]
    except KeyError:
        raise FieldError(name, "missing") from None


def decimal_field(obj: Any, key: str, precision: int, grid: int, where: str = "") -> int:
    value = field_of(obj, key, where)
    try:
        raw = parse_decimal(value, precision)
    except ValueError as exc:
        raise FieldError(f"{where}{key}", str(exc)) from None
    if raw % grid:
        raise FieldError(f"{where}{key}", f"{value!r} is off the grid of {grid} raw units")
    return raw


def int_field(obj: Any, key: str, where: str = "") -> int:
    value = field_of(obj, key, where)
    if type(value) is not int:
        raise FieldError(f"{where}{key}", f"expected an integer, got {value!r}")
    return value


__all__ += ["BadRecordError", "FieldError"]


class L2Book:
    """A market-by-price book of raw integers for one instrument; level changes become deltas.

    ``set_level`` returns the :class:`OrderBookDelta` for the change (ADD, UPDATE or DELETE), or
    ``None`` when nothing changed (a delete of an absent level is normal on Binance and Coinbase).
    ``reset`` returns the CLEAR delta (``side`` 0) and one ADD per level of a snapshot.
    """

    __slots__ = ("asks", "bids", "instrument_id", "sequence")

    def __init__(self, instrument_id: str) -> None:
        self.instrument_id = instrument_id
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.sequence = 0

    def set_level(self, side: int, price: int, size: int, sequence: int, ts_event: int, ts_init: int) -> OrderBookDelta | None:
        levels = self.bids if side == 1 else self.asks
        old = levels.get(price)
        if size == 0:
            if old is None:
                return None
            del levels[price]
            action = BookAction.DELETE
        else:
            if old == size:
                return None
            levels[price] = size
            action = BookAction.ADD if old is None else BookAction.UPDATE
        return OrderBookDelta(self.instrument_id, action, side, price, size, 0, sequence, ts_event, ts_init)

    def reset(
        self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], sequence: int, ts_event: int, ts_init: int
    ) -> list[OrderBookDelta]:
        iid = self.instrument_id
        self.bids = {}
        self.asks = {}
        self.sequence = sequence
        out = [OrderBookDelta(iid, BookAction.CLEAR, 0, 0, 0, 0, sequence, ts_event, ts_init)]
        for side, levels, book in ((1, bids, self.bids), (-1, asks, self.asks)):
            for price, size in levels:
                if size > 0:
                    book[price] = size
            for price in sorted(book, reverse=side == 1):
                out.append(OrderBookDelta(iid, BookAction.ADD, side, price, book[price], 0, sequence, ts_event, ts_init))
        return out

    def best_bid(self) -> tuple[int, int] | None:
        if not self.bids:
            return None
        p = max(self.bids)
        return p, self.bids[p]

    def best_ask(self) -> tuple[int, int] | None:
        if not self.asks:
            return None
        p = min(self.asks)
        return p, self.asks[p]

    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(bids, asks)`` as ``(price, size)`` lists, best first."""
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())

    def depth(self, ts_event: int, ts_init: int, n: int | None = None) -> OrderBookDepth:
        bids, asks = self.levels()
        return OrderBookDepth(self.instrument_id, tuple(bids[:n]), tuple(asks[:n]), self.sequence, ts_event, ts_init)

