"""FIX over TLS with certificates made by the test (``openssl``): our initiator and our acceptor
(mutual TLS), a client that does not trust the server's CA, and QuickFIX's SSL acceptor and initiator."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from tradeforge.core.clock import LiveClock
from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.transport import Initiator, _wait
from tradeforge.fix.venue import FixVenue
from tradeforge.model.enums import OrderSide, OrderStatus
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.node.kernel import Kernel

from .test_venue_exchange import AAPL, order

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line tool")
KEY = ["-newkey", "rsa:2048", "-nodes"]  # RSA: QuickFIX loads RSA client keys only


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(d: Path, name: str) -> None:
    _openssl("req", "-x509", *KEY, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d: Path, name: str, ext: str) -> None:
    _openssl("req", *KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    (d / f"{name}.ext").write_text(ext)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    _ca(d, "ca")
    _ca(d, "rogue")  # a CA nobody trusts
    _leaf(d, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _leaf(d, "client", "extendedKeyUsage=clientAuth\n")
    return d


def server_context(d: Path, require_client_cert: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(d / "ca.pem"))
    ctx.load_cert_chain(d / "server.pem", d / "server.key")
    ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE
    return ctx


def client_context(d: Path, ca: str = "ca.pem") -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(d / ca))  # verifies the server's chain and its name (IP SAN)
    ctx.load_cert_chain(d / "client.pem", d / "client.key")
    return ctx


def tls_client(name: str, target: str, port: int, clock: LiveClock, ctx: ssl.SSLContext, symbol_venue=AAPL):
    session = Session(SessionConfig(name, target, heartbeat_s=1), clock)
    kernel = Kernel(InstrumentProvider([symbol_venue]), clock, "USD", 10**6 * 10**9)
    kernel.portfolio.register_instrument(symbol_venue)
    venue = FixVenue(str(symbol_venue.venue), session, [symbol_venue], clock)
    kernel.add_venue(venue)
    return kernel, venue, Initiator(session, "127.0.0.1", port, ssl=ctx, reconnect_min_s=0.05, tick_s=0.02)


def test_our_initiator_and_acceptor_over_mutual_tls(certs: Path) -> None:
    async def main() -> None:
        clock = LiveClock()
        ex = FixExchange([AAPL], clock, heartbeat_s=1, tick_s=0.02, ssl=server_context(certs))
        port = await ex.start()
        mk, _, mini = tls_client("MAKER", "TRADEFORGE", port, clock, client_context(certs))
        tk, _, tini = tls_client("TAKER", "TRADEFORGE", port, clock, client_context(certs))
        for ini in (mini, tini):
            ini.start()
            await ini.wait_logged_on()
        ask = mk.execution.submit_order(order("M1", OrderSide.SELL, 10, 18725, clock))
        await _wait(lambda: ask.status is OrderStatus.ACCEPTED, 3)
        buy = tk.execution.submit_order(order("T1", OrderSide.BUY, 10, 18730, clock))
        await _wait(lambda: buy.status is OrderStatus.FILLED and ask.status is OrderStatus.FILLED, 3)
        assert buy.avg_px == 18725
        # the connection really is TLS, and the acceptor saw the client's certificate
        writer = tini._writer
        assert writer is not None
        assert writer.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
        assert writer.get_extra_info("peercert")["subjectAltName"] == (("IP Address", "127.0.0.1"), ("DNS", "localhost"))
        for ini in (mini, tini):
            await ini.stop()
        await ex.stop()

    asyncio.run(main())


def test_untrusted_server_or_missing_client_certificate_never_logs_on(certs: Path) -> None:
    async def main() -> None:
        clock = LiveClock()
        ex = FixExchange([AAPL], clock, heartbeat_s=1, tick_s=0.02, ssl=server_context(certs))
        port = await ex.start()
        _, _, rogue = tls_client("ROGUE", "TRADEFORGE", port, clock, client_context(certs, "rogue.pem"))
        anon_ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))  # trusts the server, no client cert
        _, _, anon = tls_client("ANON", "TRADEFORGE", port, clock, anon_ctx)
        plain = Initiator(Session(SessionConfig("PLAIN", "TRADEFORGE", heartbeat_s=1), clock), "127.0.0.1", port,
                          reconnect_min_s=0.05, tick_s=0.02)
        for ini in (rogue, anon, plain):
            ini.start()
        await asyncio.sleep(0.4)
        assert rogue.connects == 0 and rogue.logons == 0  # certificate verify failed: no connection at all
        assert anon.logons == 0 and plain.logons == 0
        assert not any(s.is_logged_on for s in ex.acceptor.sessions.values())
        for ini in (rogue, anon, plain):
            await ini.stop(logout=False)
        await ex.stop()

    asyncio.run(main())


def test_quickfix_over_tls_both_directions(certs: Path, tmp_path: Path) -> None:
    pytest.importorskip("quickfix", reason="quickfix-ssl is not installed")
    from .test_quickfix_interop import AAPL as QF_AAPL
    from .test_quickfix_interop import free_port, start_peer, stop_peer
    from .test_quickfix_interop import order as qf_order

    async def main() -> None:
        clock = LiveClock()
        # QuickFIX's SSLSocketAcceptor, our initiator verifying its certificate
        port = free_port()
        peer = await start_peer("acceptor", port, tmp_path / "a", QF_SSL_DIR=str(certs))
        try:
            k, venue, ini = tls_client("CLIENT", "EXCHANGE", port, clock, client_context(certs), QF_AAPL)
            ini.start()
            await ini.wait_logged_on(10)
            o = k.execution.submit_order(qf_order("Q1", OrderSide.BUY, 10, 18725, clock))
            await _wait(lambda: o.status is OrderStatus.FILLED, 5)
            assert venue.session.rejects_received == 0
            await ini.stop()
        finally:
            await stop_peer(peer)
        # QuickFIX's SSLSocketInitiator with its client certificate, our acceptor requiring one
        ex = FixExchange([QF_AAPL], clock, comp_id="TRADEFORGE", heartbeat_s=1, tick_s=0.02, ssl=server_context(certs))
        port = await ex.start()
        peer = await start_peer("initiator", port, tmp_path / "i", QF_SSL_DIR=str(certs))
        try:
            assert peer.stdout is not None
            lines: list[bytes] = []
            while b"ER 0 QF1" not in lines:
                lines.append((await asyncio.wait_for(peer.stdout.readline(), 10)).strip())
            assert b"LOGON" in lines and ex.engines["AAPL"].best_bid() == 18725
        finally:
            await stop_peer(peer)
            await ex.stop()

    for sub in ("a", "i"):
        (tmp_path / sub).mkdir()
    asyncio.run(main())
