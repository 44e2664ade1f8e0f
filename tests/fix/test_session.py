"""Session layer against a scripted peer, after the FIX session-level test cases (numbers in comments)."""

from __future__ import annotations

from tradeforge.fix.codec import encode
from tradeforge.fix.session import SessionState
from tradeforge.fix.store import FileStore
from tradeforge.fix.values import format_timestamp

from ._util import NOS, FakeClock, Wire


def test_acceptor_logon_answered_and_heartbeat_echoed() -> None:  # 1.S.a
    w = Wire()
    w.logon(hb=2)
    (logon,) = w.take()
    assert logon.msg_type == b"A" and logon[108] == b"2" and logon[34] == b"1"
    assert w.session.is_logged_on and w.app.logons == 1
    w.clock.advance(2)
    w.session.tick()
    assert [m.msg_type for m in w.take()] == [b"0"]  # heartbeat after HeartBtInt of our silence (2.a)


def test_first_message_not_logon_disconnects() -> None:  # 1.S.d
    w = Wire()
    w.connect()
    w.peer(b"D", NOS)
    assert w.closed and w.raw == []


def test_test_request_answered_and_sent_on_silence() -> None:  # 6, 2.l
    w = Wire()
    w.logon(hb=1)
    w.take()
    w.peer(b"1", [(112, b"PING")])
    (hb,) = w.take()
    assert hb.msg_type == b"0" and hb[112] == b"PING"
    w.clock.advance(1.3)
    w.session.tick()
    assert [m.msg_type for m in w.take()] == [b"0", b"1"]
    w.clock.advance(1.2)
    w.session.tick()
    assert w.closed  # TestRequest unanswered


def test_seq_too_high_queues_and_asks_resend_then_gap_fill() -> None:  # 2.f, 11
    w = Wire()
    w.logon()
    w.take()
    w.peer(b"D", NOS, seq=5)
    (rr,) = w.take()
    assert rr.msg_type == b"2" and rr[7] == b"2" and rr[16] == b"0"
    assert w.app.messages == []
    # peer resends 2: app message (PossDup), 3-4: gap fill
    w.peer(b"D", NOS, seq=2, header=[(43, b"Y"), (122, format_timestamp(w.clock.now))])
    w.peer(b"4", [(123, b"Y"), (36, 5)], seq=3, header=[(43, b"Y"), (122, format_timestamp(w.clock.now))])
    assert len(w.app.messages) == 2 and w.session.next_target_seq == 6 and not w.session.resend_pending
    assert w.app.synced == 2  # after the logon, and again once the gap is filled


def test_seq_too_low_without_possdup_logs_out() -> None:  # 2.g
    w = Wire()
    w.logon()
    w.peer(b"0", seq=2)
    w.take()
    w.peer(b"0", seq=2)
    out = w.take()
    assert out[0].msg_type == b"5" and b"too low" in out[0][58] and w.closed


def test_possdup_duplicate_ignored_and_origsendingtime_checked() -> None:  # 2.k, 2.m
    w = Wire()
    w.logon()
    w.peer(b"D", NOS)
    w.take()
    w.peer(b"D", NOS, seq=2, header=[(43, b"Y"), (122, format_timestamp(w.clock.now))])
    assert len(w.app.messages) == 1 and w.session.duplicates_ignored == 1 and w.raw == []
    w.peer(b"D", NOS, seq=2, header=[(43, b"Y")])  # no OrigSendingTime: reject 373=1 ref 122
    (rej,) = w.take()
    assert rej.msg_type == b"3" and rej[373] == b"1" and rej[371] == b"122"
    w.peer(b"D", NOS, seq=2, header=[(43, b"Y"), (122, format_timestamp(w.clock.now + 10**9))])
    out = w.take()
    assert [m.msg_type for m in out] == [b"3", b"5"] and out[0][373] == b"10"


def test_compid_and_sending_time_problems_reject_then_logout() -> None:  # 2.n, 2.o
    w = Wire()
    w.logon()
    w.take()
    w.peer(b"0", sender=b"OTHER")
    out = w.take()
    assert [m.msg_type for m in out] == [b"3", b"5"] and out[0][373] == b"9"
    w2 = Wire()
    w2.logon()
    w2.take()
    w2.peer(b"0", sending_time=w2.clock.now - 600 * 10**9)
    out = w2.take()
    assert [m.msg_type for m in out] == [b"3", b"5"] and out[0][373] == b"10"


def test_invalid_message_rejected_and_seq_consumed() -> None:  # 14.*
    w = Wire()
    w.logon()
    w.take()
    w.peer(b"D", NOS[1:])  # ClOrdID missing
    (rej,) = w.take()
    assert rej[373] == b"1" and rej[371] == b"11" and rej[45] == b"2"
    assert w.session.next_target_seq == 3 and w.session.is_logged_on
    w.peer(b"ZZ")
    (rej,) = w.take()
    assert rej[373] == b"11"


def test_garbled_messages_ignored_seq_not_consumed() -> None:  # 2.d, 3.c
    w = Wire()
    w.logon()
    w.take()
    good = encode(b"0", [(49, b"THEM"), (56, b"US"), (34, 2), (52, format_timestamp(w.clock.now))])
    w.session.on_data(good[:-4] + b"000\x01")  # bad checksum
    w.session.on_data(b"garbage\x01\x01")
    assert w.session.next_target_seq == 2 and w.raw == [] and w.session.garbled >= 1
    w.session.on_data(good)
    assert w.session.next_target_seq == 3


def test_resend_request_answered_with_possdup_and_gap_fill() -> None:  # 8
    w = Wire()
    w.logon()  # our seq 1: logon answer
    w.session.send(b"D", NOS)  # 2
    w.session.tick()
    w.clock.advance(31)
    w.session.tick()  # 3: heartbeat
    w.session.send(b"D", NOS)  # 4
    w.take()
    w.peer(b"0")
    w.peer(b"2", [(7, 1), (16, 0)])
    out = w.take()
    assert [(m.msg_type, m[34]) for m in out] == [(b"4", b"1"), (b"D", b"2"), (b"4", b"3"), (b"D", b"4")]
    assert out[0][36] == b"2" and out[0][123] == b"Y" and out[2][36] == b"4"
    assert out[1][43] == b"Y" and 122 in out[1]
    assert w.session.next_sender_seq == 5


def test_sequence_reset_reset_and_lower_value_rejected() -> None:  # 10, 11.c
    w = Wire()
    w.logon()
    w.take()
    w.peer(b"4", [(36, 20)], seq=99)
    assert w.session.next_target_seq == 20
    w.peer(b"4", [(36, 5)], seq=20)
    (rej,) = w.take()
    assert rej[373] == b"5" and rej[371] == b"36"


def test_logout_handshake_and_initiator_logon() -> None:  # 13
    w = Wire(initiator=True)
    w.connect()
    (logon,) = w.take()
    assert logon.msg_type == b"A" and w.session.state is SessionState.LOGON_SENT
    w.peer(b"A", [(98, b"0"), (108, 30)])
    assert w.session.is_logged_on
    w.peer(b"5", [(58, b"bye")])
    assert [m.msg_type for m in w.take()] == [b"5"] and w.closed and w.app.logouts == 1


def test_business_reject_from_application() -> None:
    from tradeforge.fix.session import BusinessReject

    w = Wire()

    def refuse(session, msg):
        raise BusinessReject(3, "unsupported", 11)

    w.app.on_message = refuse  # type: ignore[method-assign]
    w.logon()
    w.take()
    w.peer(b"D", NOS)
    (j,) = w.take()
    assert j.msg_type == b"j" and j[380] == b"3" and j[379] == b"O1" and j[372] == b"D"


def test_file_store_survives_restart(tmp_path) -> None:
    clock = FakeClock()
    w = Wire(clock=clock, store=FileStore(tmp_path, "US-THEM", clock.now))
    w.logon()
    w.session.send(b"D", NOS)
    w.peer(b"0")
    w.session.store.close()
    store = FileStore(tmp_path, "US-THEM", clock.now)
    assert (store.next_sender_seq(), store.next_target_seq()) == (3, 3)
    assert [s for s, _ in store.get(1, 10)] == [1, 2]
    w2 = Wire(clock=clock, store=store)
    w2.peer_seq = 3
    w2.logon()
    assert w2.session.is_logged_on and w2.take()[0][34] == b"3"
    store.reset(clock.now)
    assert FileStore(tmp_path, "US-THEM").next_sender_seq() == 1
