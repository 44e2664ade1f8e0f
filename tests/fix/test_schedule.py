"""Session schedules and the daily sequence reset, on an injected clock (no waiting on the wall clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.schedule import SessionSchedule
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.store import FileStore
from tradeforge.fix.transport import Initiator, _wait

from ._util import FakeClock, Wire

NY = ZoneInfo("America/New_York")
US_EQUITY = SessionSchedule(time(9, 30), time(16, 0), "America/New_York", (0, 1, 2, 3, 4))
FX_DAY = SessionSchedule(time(17, 0), time(17, 0), "America/New_York")  # 24 h, new session at 17:00 New York


def ns(y: int, mo: int, d: int, h: int, mi: int = 0, s: float = 0.0, tz: ZoneInfo = NY) -> int:
    whole = int(s)
    dt = datetime(y, mo, d, h, mi, whole, tzinfo=tz)
    return int(dt.timestamp()) * 1_000_000_000 + round((s - whole) * 1e9)


def test_window_start_end_weekdays_and_over_midnight() -> None:
    assert US_EQUITY.in_session(ns(2023, 11, 14, 10))  # Tuesday
    assert US_EQUITY.in_session(ns(2023, 11, 14, 9, 30))  # start inclusive
    assert not US_EQUITY.in_session(ns(2023, 11, 14, 9, 29, 59.999))
    assert not US_EQUITY.in_session(ns(2023, 11, 14, 16))  # end exclusive
    assert not US_EQUITY.in_session(ns(2023, 11, 18, 10))  # Saturday
    assert US_EQUITY.window_start(ns(2023, 11, 14, 12)) == ns(2023, 11, 14, 9, 30)
    night = SessionSchedule(time(22), time(6))
    assert night.in_session(ns(2023, 11, 14, 23, tz=UTC)) and night.in_session(ns(2023, 11, 15, 5, 59, tz=UTC))
    assert not night.in_session(ns(2023, 11, 15, 6, tz=UTC)) and not night.in_session(ns(2023, 11, 15, 12, tz=UTC))
    assert night.window_start(ns(2023, 11, 15, 5, tz=UTC)) == ns(2023, 11, 14, 22, tz=UTC)
    # a 24 h window: always in session, a new one (sequence reset) at 17:00 New York, DST included
    assert FX_DAY.in_session(ns(2023, 11, 14, 16, 59, 59.9)) and FX_DAY.in_session(ns(2023, 11, 14, 17))
    assert FX_DAY.is_new_session(ns(2023, 11, 14, 16, 59), ns(2023, 11, 14, 17, 0, 0.001))
    assert not FX_DAY.is_new_session(ns(2023, 11, 14, 17, 0, 0.001), ns(2023, 11, 15, 16, 59))
    assert FX_DAY.window_start(ns(2023, 7, 4, 18)) == ns(2023, 7, 4, 17)  # EDT


def test_logon_outside_the_window_is_refused() -> None:
    w = Wire(clock=FakeClock(ns(2023, 11, 14, 20)), schedule=US_EQUITY)
    w.logon()
    assert w.closed and not w.session.is_logged_on and w.raw == []  # no Logon answer, disconnected
    assert "outside" in w.session.disconnect_reason
    w.clock.now = ns(2023, 11, 15, 9, 30, 0.5)
    w.peer_seq = 1
    w.logon()
    assert w.session.is_logged_on and w.take()[0].msg_type == b"A"


def test_initiator_outside_the_window_does_not_log_on() -> None:
    w = Wire(initiator=True, clock=FakeClock(ns(2023, 11, 18, 10)), schedule=US_EQUITY)
    w.connect()
    assert w.closed and w.raw == []


def test_window_close_logs_out() -> None:
    w = Wire(clock=FakeClock(ns(2023, 11, 14, 15, 59, 59)), schedule=US_EQUITY, heartbeat_s=30)
    w.logon()
    w.take()
    w.session.tick()
    assert w.take() == []
    w.clock.advance(1.001)
    w.session.tick()
    (logout,) = w.take()
    assert logout.msg_type == b"5" and b"window closed" in logout[58]


def test_daily_sequence_reset_at_the_configured_time() -> None:
    w = Wire(clock=FakeClock(ns(2023, 11, 14, 16, 59, 59.5)), schedule=FX_DAY, heartbeat_s=30)
    w.logon()
    for _ in range(3):
        w.peer(b"0")
    w.session.tick()
    assert w.session.is_logged_on and w.session.next_target_seq == 5
    w.clock.advance(0.49)  # 16:59:59.990: still the same session period
    w.session.tick()
    assert w.take()[-1].msg_type == b"A"
    w.clock.advance(0.02)  # 17:00:00.010: a new session period
    w.session.tick()
    (logout,) = w.take()
    assert logout.msg_type == b"5" and b"daily sequence reset" in logout[58]
    w.peer(b"5")  # the peer confirms; both sides start the new day at 1
    assert w.closed and w.session.next_sender_seq == 1 and w.session.next_target_seq == 1
    w.peer_seq = 1
    w.logon()
    assert w.session.is_logged_on and w.take()[0][34] == b"1"


def test_file_store_from_yesterday_is_reset_on_connect(tmp_path) -> None:
    clock = FakeClock(ns(2023, 11, 14, 12))
    store = FileStore(tmp_path, "FIX.4.4-US-THEM", clock.now)
    store.set_next_sender_seq(50)
    store.set_next_target_seq(40)
    store.close()
    clock.now = ns(2023, 11, 14, 16, 30)  # same period (17:00 to 17:00): numbers kept
    w = Wire(clock=clock, store=FileStore(tmp_path, "FIX.4.4-US-THEM", clock.now), schedule=FX_DAY)
    w.connect()
    assert (w.session.next_sender_seq, w.session.next_target_seq) == (50, 40)
    w.session.disconnected()
    w.session.store.close()
    clock.now = ns(2023, 11, 14, 17, 0, 1)  # restart after the reset time: a new day
    w2 = Wire(clock=clock, store=FileStore(tmp_path, "FIX.4.4-US-THEM", clock.now), schedule=FX_DAY)
    w2.connect()
    assert (w2.session.next_sender_seq, w2.session.next_target_seq) == (1, 1)
    w2.session.store.close()


def test_transport_waits_for_the_window() -> None:
    async def main() -> None:
        clock = FakeClock(ns(2023, 11, 18, 10))  # Saturday
        ex = FixExchange([], clock, comp_id="EX", heartbeat_s=1, tick_s=0.01, schedule=US_EQUITY)
        port = await ex.start()
        session = Session(SessionConfig("C", "EX", heartbeat_s=1, schedule=US_EQUITY), clock)
        ini = Initiator(session, "127.0.0.1", port, reconnect_min_s=0.01, tick_s=0.01)
        ini.start()
        await asyncio.sleep(0.05)
        assert ini.connects == 0 and not session.is_connected
        clock.now = ns(2023, 11, 20, 9, 30, 1)  # Monday morning
        await ini.wait_logged_on(2)
        clock.now = ns(2023, 11, 20, 16, 0, 1)  # the window closes: logged out, no reconnect
        await _wait(lambda: not session.is_connected, 2)
        connects = ini.connects
        await asyncio.sleep(0.05)
        assert ini.connects == connects
        await ini.stop()
        await ex.stop()

    asyncio.run(main())
