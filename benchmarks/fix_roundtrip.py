"""``fix_roundtrip``: NewOrderSingle -> ExecutionReport (ack) latency over loopback TCP, p50/p99.

A tradeforge initiator session sends ``n`` limit orders one at a time (each waits for its ack) to
(1) tradeforge's :class:`~tradeforge.fix.exchange.FixExchange` (matching engine behind a FIX acceptor)
in the same process, and (2) a QuickFIX acceptor (``tests/fix/qf_peer.py``, in a subprocess; skipped
when ``quickfix`` is not installed). Orders are priced so they rest (ack only). ``events_per_s``:
round trips per second against our acceptor. Latencies in microseconds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import base_record, peak_rss_mb

NAME = "fix_roundtrip"
DEFAULT_N = 2_000
PEER = Path(__file__).resolve().parents[1] / "tests" / "fix" / "qf_peer.py"


class _Acks:
    def __init__(self) -> None:
        self.waiting: asyncio.Future[None] | None = None

    def on_logon(self, session: Any) -> None:
        pass

    def on_logout(self, session: Any) -> None:
        pass

    def on_message(self, session: Any, msg: Any) -> None:
        if msg.msg_type == b"8" and msg.get(150) == b"0" and self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(None)


async def _measure(port: int, target: str, sender: str, n: int) -> list[float]:
    from tradeforge.core.clock import LiveClock
    from tradeforge.fix.session import Session, SessionConfig
    from tradeforge.fix.transport import Initiator

    acks = _Acks()
    session = Session(SessionConfig(sender, target, heartbeat_s=30), LiveClock(), application=acks)
    ini = Initiator(session, "127.0.0.1", port, reconnect_min_s=0.1)
    ini.start()
    await ini.wait_logged_on(10)
    loop = asyncio.get_running_loop()
    lat = []
    for i in range(n):
        acks.waiting = loop.create_future()
        t0 = time.perf_counter()
        session.send(b"D", [(11, b"B%d" % i), (21, b"1"), (55, b"AAPL"), (54, b"1" if i % 2 else b"2"),
                            (60, b"20240102-14:30:00"), (38, b"10"), (40, b"2"),
                            (44, b"50" if i % 2 else b"60"), (59, b"1")])
        await acks.waiting
        lat.append((time.perf_counter() - t0) * 1e6)
    await ini.stop()
    return lat


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1)


async def _ours(n: int) -> list[float]:
    from tradeforge.core.clock import LiveClock
    from tradeforge.fix.application import FixInstrument
    from tradeforge.fix.exchange import FixExchange

    ex = FixExchange([FixInstrument("AAPL.BENCH", "AAPL", 2, 0, "USD")], LiveClock(), comp_id="EXCHANGE", heartbeat_s=30)
    port = await ex.start()
    try:
        return await _measure(port, "EXCHANGE", "CLIENT", n)
    finally:
        await ex.stop()


async def _quickfix(n: int) -> list[float] | None:
    try:
        import quickfix  # noqa: F401
    except ImportError:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        proc = await asyncio.create_subprocess_exec(sys.executable, str(PEER), "acceptor", str(port), d,
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                    env={**os.environ})
        assert proc.stdout is not None and proc.stdin is not None
        await asyncio.wait_for(proc.stdout.readline(), 10)
        try:
            return await _measure(port, "EXCHANGE", "CLIENT", n)
        finally:
            proc.stdin.close()
            await proc.wait()


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    ours = asyncio.run(_ours(n))
    seconds = time.perf_counter() - t0
    rss = peak_rss_mb()
    t1 = time.perf_counter()
    qf = asyncio.run(_quickfix(n))
    qf_seconds = time.perf_counter() - t1
    rec = base_record(NAME, n, seconds, qf_seconds if qf else seconds, 0.0, rss)
    rec.update({
        "ours_p50_us": _pct(ours, 0.5), "ours_p99_us": _pct(ours, 0.99), "ours_mean_us": round(sum(ours) / n, 1),
        "quickfix_p50_us": _pct(qf, 0.5) if qf else None, "quickfix_p99_us": _pct(qf, 0.99) if qf else None,
        "note": "bare_loop_* = the same round trips against QuickFIX (incl. its logon); seconds incl. logon",
        "seed": seed, "repeats": 1,
        "cross_check": "ok" if len(ours) == n and (qf is None or len(qf) == n) else "MISMATCH",
    })
    return rec
