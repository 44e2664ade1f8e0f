"""asyncio TCP (optionally TLS) transports for :class:`~tradeforge.fix.session.Session`.

:class:`Initiator` connects, logs on, and reconnects with exponential backoff (within the session's
schedule) until stopped. :class:`Acceptor` listens (127.0.0.1 unless told otherwise), routes each
connection to its session by the CompIDs of the first message (or a ``factory`` for unknown
counterparties) and refuses a second connection for a session already connected. Both tick their
sessions every ``tick_s`` seconds for heartbeats and timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as _ssl
from collections.abc import Callable, Iterable

from tradeforge.fix.codec import FixDecodeError, Framer, decode
from tradeforge.fix.session import Session

log = logging.getLogger("tradeforge.fix")


async def _tick_loop(session: Session, tick_s: float) -> None:
    while True:
        await asyncio.sleep(tick_s)
        session.tick()


async def serve_connection(
    session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tick_s: float, first: bytes = b""
) -> None:
    """Run ``session`` over one connection until either side closes it."""
    closed = asyncio.Event()

    def close() -> None:
        closed.set()
        transport = writer.transport
        if transport is not None and not transport.is_closing():
            transport.close()

    session.connected(writer.write, close)
    ticker = asyncio.create_task(_tick_loop(session, tick_s))
    try:
        if first:
            session.on_data(first)
        while not closed.is_set() and session.is_connected:
            data = await reader.read(65536)
            if not data:
                break
            session.on_data(data)
    except (ConnectionError, OSError, _ssl.SSLError) as exc:
        log.info("%s: connection error: %s", session.config.session_id, exc)
    finally:
        ticker.cancel()
        if session.is_connected:
            session.disconnected()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class Initiator:
    """Keeps one session connected to ``host:port`` (see the module docstring)."""

    def __init__(
        self, session: Session, host: str, port: int, ssl: _ssl.SSLContext | None = None,
        reconnect_min_s: float = 0.5, reconnect_max_s: float = 30.0, tick_s: float = 0.1,
    ) -> None:
        self.session = session
        self.host, self.port = host, port
        self.ssl = ssl
        self.reconnect_min_s, self.reconnect_max_s = reconnect_min_s, reconnect_max_s
        self.tick_s = tick_s
        self.connects = 0
        self.logons = 0
        session.logon_listeners.append(self._count_logon)
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        delay = self.reconnect_min_s
        sched = self.session.config.schedule
        while not self._stopping:
            if sched is not None and not sched.in_session(self.session.clock.timestamp_ns()):
                await asyncio.sleep(self.tick_s)
                continue
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
            except (OSError, _ssl.SSLError) as exc:
                log.info("%s: connect failed: %s; retry in %.2fs", self.session.config.session_id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max_s)
                continue
            self.connects += 1
            self._writer = writer
            logons = self.logons
            await serve_connection(self.session, reader, writer, self.tick_s)
            self._writer = None
            if self.logons > logons:  # the connection worked: start over with the shortest delay
                delay = self.reconnect_min_s
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max_s)

    def _count_logon(self, session: Session) -> None:
        self.logons += 1

    def drop(self) -> None:
        """Abort the connection without a Logout (tests: a cable pulled); the initiator reconnects."""
        w = self._writer
        if w is not None and w.transport is not None:
            w.transport.abort()

    async def wait_logged_on(self, timeout: float = 5.0) -> None:
        await _wait(lambda: self.session.is_logged_on and not self.session.resend_pending, timeout)

    async def stop(self, logout: bool = True, timeout: float = 2.0) -> None:
        """Log out (waiting for the answer up to ``timeout``), then stop reconnecting."""
        self._stopping = True
        if logout and self.session.is_logged_on:
            self.session.logout()
            with contextlib.suppress(TimeoutError):
                await _wait(lambda: not self.session.is_connected, timeout)
        self.drop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.session.is_connected:
            self.session.disconnected()


class Acceptor:
    """Listens for counterparties and serves their sessions (see the module docstring)."""

    def __init__(
        self, sessions: Iterable[Session] = (), host: str = "127.0.0.1", port: int = 0,
        ssl: _ssl.SSLContext | None = None, tick_s: float = 0.1,
        factory: Callable[[str, str], Session | None] | None = None, logon_timeout_s: float = 10.0,
    ) -> None:
        self.sessions: dict[tuple[bytes, bytes], Session] = {}
        for s in sessions:
            self.add(s)
        self.host, self.port = host, port
        self.ssl = ssl
        self.tick_s = tick_s
        self.factory = factory
        self.logon_timeout_s = logon_timeout_s
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = 0

    def add(self, session: Session) -> None:
        c = session.config
        self.sessions[(c.sender_comp_id.encode(), c.target_comp_id.encode())] = session

    async def start(self) -> int:
        """Start listening; returns the bound port."""
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer()
        received = b""
        session = None
        try:
            async with asyncio.timeout(self.logon_timeout_s):
                while session is None:
                    data = await reader.read(65536)
                    if not data:
                        break
                    received += data
                    frames = framer.feed(data)
                    if frames:
                        session = self._route(frames[0])
                        if session is None:
                            break
        except (TimeoutError, ConnectionError, OSError, _ssl.SSLError):
            session = None
        if session is None or session.is_connected:
            self.refused += 1
            writer.close()
            return
        await serve_connection(session, reader, writer, self.tick_s, received)

    def _route(self, raw: bytes) -> Session | None:
        try:
            msg = decode(raw)
        except FixDecodeError:
            return None
        ours, theirs = msg.get(56) or b"", msg.get(49) or b""
        session = self.sessions.get((ours, theirs))
        if session is None and self.factory is not None:
            session = self.factory(ours.decode("latin-1"), theirs.decode("latin-1"))
            if session is not None:
                self.add(session)
        return session

    async def stop(self, timeout: float = 2.0) -> None:
        """Log every session out, close the listener and the connections."""
        for s in self.sessions.values():
            if s.is_logged_on:
                s.logout()
        with contextlib.suppress(TimeoutError):
            await _wait(lambda: not any(s.is_connected for s in self.sessions.values()), timeout)
        for s in self.sessions.values():
            s.disconnect("acceptor stopped")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()


async def _wait(cond: Callable[[], bool], timeout: float, step: float = 0.005) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(step)
