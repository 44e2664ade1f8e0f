"""Interop with a real QuickFIX engine (``quickfix-ssl``, a test dependency) on 127.0.0.1, both directions.

QuickFIX runs in a subprocess (``qf_peer.py``). Skipped only when ``import quickfix`` fails."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("quickfix", reason="quickfix-ssl is not installed (pip install quickfix-ssl); interop tests need it")

from tradeforge.core.clock import LiveClock
from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.store import FileStore
from tradeforge.fix.transport import Initiator, _wait
from tradeforge.fix.venue import FixVenue
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType
from tradeforge.model.identifiers import InstrumentId
from tradeforge.model.instruments import Instrument, InstrumentKind, InstrumentProvider
from tradeforge.model.orders import Order
from tradeforge.node.kernel import Kernel

PEER = Path(__file__).with_name("qf_peer.py")
AAPL = Instrument(InstrumentId("AAPL.XQF"), InstrumentKind.EQUITY, "USD", 2, 0, 1, 1, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_peer(mode: str, port: int, directory: Path, **env: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(PEER), mode, str(port), str(directory), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, **env})
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert line.strip() == b"READY", line
    return proc


async def stop_peer(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def client(port: int, clock: LiveClock, store_dir: Path):
    config = SessionConfig("CLIENT", "EXCHANGE", heartbeat_s=1)
    session = Session(config, clock, FileStore(store_dir, config.session_id, clock.timestamp_ns()))
    kernel = Kernel(InstrumentProvider([AAPL]), clock, "USD", 10**6 * 10**9)
    kernel.portfolio.register_instrument(AAPL)
    venue = FixVenue("XQF", session, [AAPL], clock)
    kernel.add_venue(venue)
    return kernel, venue, Initiator(session, "127.0.0.1", port, reconnect_min_s=0.3, tick_s=0.02)


def order(coid: str, side: OrderSide, qty: int, price: int, clock: LiveClock) -> Order:
    return Order(coid, "S", "AAPL.XQF", side, OrderType.LIMIT, qty, clock.timestamp_ns(), price=price)


def test_tradeforge_initiator_against_quickfix_acceptor(tmp_path: Path) -> None:
    async def main() -> None:
        clock = LiveClock()
        port = free_port()
        peer = await start_peer("acceptor", port, tmp_path, QF_FILL_DELAY="0.3")
        try:
            k, venue, ini = client(port, clock, tmp_path / "ours")
            ini.start()
            await ini.wait_logged_on(10)
            filled = k.execution.submit_order(order("F1", OrderSide.BUY, 100, 18725, clock))
            resting = k.execution.submit_order(order("R1", OrderSide.SELL, 50, 5000, clock))
            await _wait(lambda: filled.status is OrderStatus.FILLED and resting.status is OrderStatus.ACCEPTED, 5)
            k.execution.modify_order(resting, quantity=80, price=5100)
            await _wait(lambda: resting.quantity == 80 and resting.price == 5100 and resting.status is OrderStatus.ACCEPTED, 5)
            k.execution.cancel_order(resting)
            await _wait(lambda: resting.status is OrderStatus.CANCELED, 5)
            # forced disconnect after the ack: QuickFIX's fill goes out while we are away (lost), and an
            # order we send while down is stored; both come through by resend after the reconnect
            late_fill = k.execution.submit_order(order("F2", OrderSide.BUY, 10, 18725, clock))
            await _wait(lambda: late_fill.status is OrderStatus.ACCEPTED, 5)
            ini.drop()
            await _wait(lambda: not venue.session.is_connected, 5)
            sent_down = k.execution.submit_order(order("F3", OrderSide.BUY, 5, 18725, clock))
            await ini.wait_logged_on(10)
            await _wait(lambda: late_fill.status is OrderStatus.FILLED and sent_down.status is OrderStatus.FILLED, 10)
            assert venue.session.resend_requests_sent >= 1 and venue.session.resend_requests_received >= 1
            # QuickFIX refuses OrderMassStatusRequest (35=j): reconciliation fell back to OrderStatusRequest
            await _wait(lambda: venue.mass_status is False, 5)
            assert venue.mass_status_requests == 1
            assert not venue.errors and not k.execution.errors and venue.session.rejects_received == 0
            # restart of our process: a new session on the same file store logs on with the persisted numbers
            await ini.stop()
            seqs = (venue.session.next_sender_seq, venue.session.next_target_seq)
            venue.session.store.close()
            k2, venue2, ini2 = client(port, clock, tmp_path / "ours")
            assert (venue2.session.next_sender_seq, venue2.session.next_target_seq) == seqs
            ini2.start()
            await ini2.wait_logged_on(10)
            again = k2.execution.submit_order(order("F4", OrderSide.BUY, 1, 18725, clock))
            await _wait(lambda: again.status is OrderStatus.FILLED, 5)
            assert venue2.session.rejects_received == 0 and venue2.session.next_sender_seq > seqs[0]
            await ini2.stop()
            venue2.session.store.close()
        finally:
            await stop_peer(peer)

    asyncio.run(main())


def test_quickfix_initiator_against_tradeforge_acceptor(tmp_path: Path) -> None:
    async def main() -> None:
        clock = LiveClock()
        ex = FixExchange([AAPL], clock, comp_id="TRADEFORGE", heartbeat_s=1, tick_s=0.02)
        port = await ex.start()
        peer = await start_peer("initiator", port, tmp_path)
        try:
            assert peer.stdout is not None
            lines = []
            while b"ER 0 QF1" not in lines:
                lines.append((await asyncio.wait_for(peer.stdout.readline(), 10)).strip())
            assert b"LOGON" in lines
            session = next(iter(ex.acceptor.sessions.values()))
            assert session.is_logged_on and session.rejects_sent == 0 and session.rejects_received == 0
            assert ex.engines["AAPL"].best_bid() == 18725
        finally:
            await stop_peer(peer)
            await ex.stop()

    asyncio.run(main())
