"""Reconciliation on reconnect (mass status, per-order fallback), trade busts/corrections, PossResend,
duplicate Logon and in-session sequence reset, GTD expiry at the acceptor."""

from __future__ import annotations

import asyncio

from tradeforge.core.clock import LiveClock
from tradeforge.fix import tags as T
from tradeforge.fix.codec import FixMessage, decode, encode
from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.transport import _wait
from tradeforge.fix.values import format_timestamp
from tradeforge.fix.venue import FixVenue, TradeCorrection
from tradeforge.model.enums import OrderSide, OrderStatus
from tradeforge.node.kernel import Kernel

from ._util import FakeClock, Wire
from .test_venue_exchange import AAPL, client, order


def _msg(msg_type: bytes, fields) -> FixMessage:
    return decode(encode(msg_type, [(49, b"EX"), (56, b"C1"), (34, 1), (52, b"20231114-22:13:20"), *fields]))


def _sent(session: Session) -> list[FixMessage]:
    return [decode(raw) for _, raw in session.store.get(1, session.next_sender_seq - 1)]


def _reconnect_with_fills_missed(mass_status: bool) -> None:
    async def main() -> None:
        clock = LiveClock()
        # the exchange gap-fills instead of resending ExecutionReports: what happened while the
        # taker was away reaches it only through reconciliation
        ex = FixExchange([AAPL], clock, heartbeat_s=1, tick_s=0.02, resend_app_messages=False)
        port = await ex.start()
        mk, _, mini, _ = client("MAKER", port, clock)
        tk, tvenue, tini, _ = client("TAKER", port, clock)
        tvenue.mass_status = mass_status
        for ini in (mini, tini):
            ini.start()
            await ini.wait_logged_on()
        t1 = tk.execution.submit_order(order("T1", OrderSide.BUY, 10, 18700, clock))
        t2 = tk.execution.submit_order(order("T2", OrderSide.BUY, 20, 18600, clock))
        t3 = tk.execution.submit_order(order("T3", OrderSide.BUY, 5, 18500, clock))
        await _wait(lambda: all(o.status is OrderStatus.ACCEPTED for o in (t1, t2, t3)), 3)
        tini.drop()
        await _wait(lambda: not tvenue.session.is_connected, 3)
        m1 = mk.execution.submit_order(order("M1", OrderSide.SELL, 10, 18700, clock))  # fills T1 completely
        m2 = mk.execution.submit_order(order("M2", OrderSide.SELL, 8, 18600, clock))  # fills 8 of T2
        await _wait(lambda: m1.status is OrderStatus.FILLED and m2.status is OrderStatus.FILLED, 3)
        await tini.wait_logged_on()
        await _wait(lambda: t1.status is OrderStatus.FILLED and t2.filled_qty == 8, 3)
        await asyncio.sleep(0.05)  # any late or doubled report would land now
        assert t2.status is OrderStatus.PARTIALLY_FILLED and t3.status is OrderStatus.ACCEPTED
        assert tvenue.session.resend_requests_sent >= 1
        if mass_status:  # AF listed T2 and T3; T1 (closed meanwhile) was asked for with 35=H
            assert (tvenue.mass_status_requests, tvenue.status_requests) == (1, 1)
        else:
            assert (tvenue.mass_status_requests, tvenue.status_requests) == (0, 3)
        # nothing lost, nothing doubled
        assert sorted((f.client_order_id, f.last_qty) for f in tk.execution.fills) == [("T1", 10), ("T2", 8)]
        assert tk.portfolio.net_quantity("AAPL.XNAS") == 18 and not tvenue.errors and not tk.execution.errors
        # a second reconnect with nothing new: reconciliation finds nothing to add
        tini.drop()
        await _wait(lambda: not tvenue.session.is_connected, 3)
        await tini.wait_logged_on()
        await asyncio.sleep(0.1)
        assert len(tk.execution.fills) == 2 and tk.portfolio.net_quantity("AAPL.XNAS") == 18 and t2.filled_qty == 8
        tk.portfolio.check_invariant()
        for ini in (mini, tini):
            await ini.stop()
        await ex.stop()

    asyncio.run(main())


def test_reconnect_reconciles_with_mass_status() -> None:
    _reconnect_with_fills_missed(mass_status=True)


def test_reconnect_reconciles_per_order_without_mass_status() -> None:
    _reconnect_with_fills_missed(mass_status=False)


def test_mass_status_refused_falls_back_to_order_status() -> None:
    clock = FakeClock()
    session = Session(SessionConfig("C1", "EX"), clock)
    kernel = Kernel(_provider(), clock, "USD", 10**15)  # type: ignore[arg-type]
    kernel.portfolio.register_instrument(AAPL)
    venue = FixVenue("XNAS", session, [AAPL], clock)
    kernel.add_venue(venue)
    o = kernel.execution.submit_order(order("A1", OrderSide.BUY, 10, 18700, clock))  # type: ignore[arg-type]
    venue.on_message(session, _msg(b"8", _er("A1", b"0", b"0", "E1")))
    venue.on_synced(session)
    af = _sent(session)[-1]
    assert af.msg_type == b"AF" and af[585] == b"7"
    venue.on_message(session, _msg(b"j", [(45, af.seq_num), (372, b"AF"), (380, b"3"), (58, b"Unsupported")]))
    h = _sent(session)[-1]
    assert h.msg_type == b"H" and h[11] == b"A1" and venue.mass_status is False and not venue.errors
    venue.on_synced(session)  # next time: straight to per-order requests
    assert [m.msg_type for m in _sent(session)[-1:]] == [b"H"] and o.status is OrderStatus.ACCEPTED


def _provider():
    from tradeforge.model.instruments import InstrumentProvider

    return InstrumentProvider([AAPL])


def _er(clid: str, exec_type: bytes, status: bytes, exec_id: str, last: tuple[str, str] | None = None,
        cum: str = "0", extra=()) -> list:
    f = [(37, b"O1"), (11, clid), (17, exec_id), (150, exec_type), (39, status), (55, b"AAPL"), (54, b"1"),
         (38, b"10"), (40, b"2"), (44, b"187.00")]
    if last:
        f += [(32, last[0]), (31, last[1])]
    return [*f, (151, b"0"), (14, cum), (6, b"0"), *extra]


def test_trade_bust_and_correct_reach_the_hook_and_the_books_but_never_the_order() -> None:
    clock = FakeClock()
    session = Session(SessionConfig("C1", "EX"), clock)
    kernel = Kernel(_provider(), clock, "USD", 10**15)  # type: ignore[arg-type]
    kernel.portfolio.register_instrument(AAPL)
    corrections: list[TradeCorrection] = []
    errors: list = []
    venue = FixVenue("XNAS", session, [AAPL], clock, on_trade_correction=corrections.append, on_error=errors.append)
    kernel.add_venue(venue)
    o = kernel.execution.submit_order(order("A1", OrderSide.BUY, 10, 18700, clock))  # type: ignore[arg-type]
    venue.on_message(session, _msg(b"8", _er("A1", b"0", b"0", "E1")))
    venue.on_message(session, _msg(b"8", _er("A1", b"F", b"1", "E2", (b"6", b"187.00"), "6")))
    venue.on_message(session, _msg(b"8", _er("A1", b"F", b"2", "E3", (b"4", b"186.50"), "10")))
    # the same fill resent by the venue with PossResend: ignored here (and deduplicated by the OMS anyway)
    venue.on_message(session, _msg(b"8", _er("A1", b"F", b"2", "E3", (b"4", b"186.50"), "10", [(97, b"Y")])))
    assert venue.duplicates_ignored == 1 and o.status is OrderStatus.FILLED and o.filled_qty == 10
    events_before = len(kernel.execution.fills)
    venue.on_message(session, _msg(b"8", _er("A1", b"H", b"1", "E4", (b"6", b"187.00"), "4", [(19, b"E2")])))
    venue.on_message(session, _msg(b"8", _er("A1", b"G", b"1", "E5", (b"4", b"186.40"), "4", [(19, b"E3")])))
    bust, fix_ = corrections
    assert (bust.kind, bust.ref_exec_id, bust.original_qty, bust.original_px, bust.position_delta) == ("bust", "E2", 6, 18700, -6)
    assert bust.notional_delta == -6 * 18700
    assert (fix_.kind, fix_.position_delta, fix_.corrected_px, fix_.notional_delta) == ("correct", 0, 18640, 4 * 18640 - 4 * 18650)
    assert len(errors) == 2 and "bust" in errors[0].message and errors[0].source == "venue.XNAS"
    assert o.status is OrderStatus.FILLED and o.filled_qty == 10 and len(kernel.execution.fills) == events_before
    assert not kernel.execution.errors
    # booked: the busted 6 @ 187.00 leave the position and the cash comes back; 4 @ 186.50 became 4 @ 186.40
    pf = kernel.portfolio
    assert pf.net_quantity("AAPL.XNAS") == 4 and kernel.risk.state.inst["AAPL.XNAS"].total.qty == 4
    assert pf.cash == 10**15 - 4 * 18640 * AAPL.notional_factor
    book = kernel.execution.corrections
    assert [e.execution_id for e in book.entries] == ["E4:reverse", "E5:reverse", "E5:rebook"]
    assert [c.kind for c in book.corrections] == ["bust", "correct"]
    # the venue sends the bust again: a duplicate; a bust of a fill never booked: an error, nothing booked
    venue.on_message(session, _msg(b"8", _er("A1", b"H", b"1", "E4", (b"6", b"187.00"), "4", [(19, b"E2")])))
    venue.on_message(session, _msg(b"8", _er("A1", b"H", b"1", "E6", (b"1", b"187.00"), "4", [(19, b"E9")])))
    assert kernel.execution.duplicate_fills == 1 and pf.net_quantity("AAPL.XNAS") == 4
    assert len(kernel.execution.errors) == 1 and "never booked" in kernel.execution.errors[0].message


def test_exchange_gtd_expiry_and_possresend() -> None:
    clock = FakeClock()
    ex = FixExchange([AAPL], clock, comp_id="EX")
    s = ex._new_session("EX", "C1")
    assert s is not None

    def nos(clid: bytes, *extra) -> FixMessage:
        return _msg(b"D", [(11, clid), (21, b"1"), (55, b"AAPL"), (54, b"1"), (60, b"20231114-22:13:20"),
                           (38, b"10"), (40, b"2"), (44, b"187.00"), *extra])

    ex.on_message(s, nos(b"G1", (59, b"6"), (126, format_timestamp(clock.now + 60 * 10**9))))
    ex.on_message(s, nos(b"G2", (59, b"6"), (126, format_timestamp(clock.now - 10**9))))  # already expired
    ex.on_message(s, nos(b"G3", (59, b"6"), (432, b"20231115")))  # ExpireDate: end of that day (UTC)
    acks = [(m[11], m[150]) for m in _sent(s)]
    assert acks == [(b"G1", b"0"), (b"G2", b"8"), (b"G3", b"0")]
    assert _sent(s)[0][126] == format_timestamp(clock.now + 60 * 10**9)
    clock.advance(59.9)
    assert ex.expire_due() == 0
    clock.advance(0.2)
    assert ex.expire_due() == 1
    expired = _sent(s)[-1]
    assert (expired[11], expired[150], expired[39]) == (b"G1", b"C", b"C") and ex.engines["AAPL"].best_bid() == 18700
    clock.advance(2 * 86_400)
    ex.on_message(s, nos(b"N1"))  # any message runs the expiry first
    assert [(m[11], m[150]) for m in _sent(s)[-2:]] == [(b"G3", b"C"), (b"N1", b"0")]
    # PossResend of an order already processed: ignored; of a new one: processed normally
    n = s.next_sender_seq
    ex.on_message(s, nos(b"N1", (97, b"Y")))
    assert s.next_sender_seq == n and ex.possresend_ignored == 1
    ex.on_message(s, nos(b"N2", (97, b"Y")))
    assert _sent(s)[-1][11] == b"N2" and _sent(s)[-1][150] == b"0"
    # mass status: one 150=I per open order of this owner, the last with 912=Y
    ex.on_message(s, _msg(b"AF", [(584, b"MS1"), (585, b"7")]))
    reports = _sent(s)[-2:]
    assert [(m[11], m[150], m[584], m[911], m[912]) for m in reports] == [
        (b"N1", b"I", b"MS1", b"2", b"N"), (b"N2", b"I", b"MS1", b"2", b"Y")]
    other = ex._new_session("EX", "C2")
    assert other is not None
    ex.on_message(other, _msg(b"AF", [(584, b"MS2"), (585, b"7")]))
    (none,) = _sent(other)
    assert (none[37], none[911], none[912]) == (b"NONE", b"0", b"Y")


def test_duplicate_logon_logs_out() -> None:
    w = Wire()
    w.logon()
    w.take()
    w.peer(b"A", [(98, b"0"), (108, 30)])
    (logout,) = w.take()
    assert logout.msg_type == b"5" and w.closed and w.session.duplicate_logons == 1


def test_logon_with_reset_while_logged_on_resets_both_sequences() -> None:
    w = Wire()
    w.logon()
    for _ in range(4):
        w.peer(b"0")
    w.take()
    assert w.session.next_target_seq == 6
    w.peer(b"A", [(98, b"0"), (108, 30), (141, b"Y")], seq=1)
    (answer,) = w.take()
    assert answer.msg_type == b"A" and answer[141] == b"Y" and answer[34] == b"1"
    assert (w.session.next_sender_seq, w.session.next_target_seq) == (2, 2) and w.session.is_logged_on
    # and initiated by us: the peer's Logon 141=Y answers it
    w.session.reset_sequences()
    (ours,) = w.take()
    assert ours[141] == b"Y" and ours[34] == b"1"
    w.peer(b"A", [(98, b"0"), (108, 30), (141, b"Y")], seq=1)
    assert w.take() == [] and (w.session.next_sender_seq, w.session.next_target_seq) == (2, 2)
    assert T.LOGON == b"A"
