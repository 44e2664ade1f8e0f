"""The FIX session layer, without I/O: sequencing, logon/logout, heartbeats, resend and gap fill.

A :class:`Session` is fed bytes (:meth:`Session.on_data`) and ticked (:meth:`Session.tick`) by a
transport (:mod:`tradeforge.fix.transport`), and writes bytes through the callables it was
:meth:`~Session.connected` with. Time comes only from the injected clock, so a session driven by a
``SimulatedClock`` and scripted bytes is deterministic. It follows the FIX session rules:

* the first message must be a Logon (acceptor: answered with a Logon; ``141=Y`` resets both sequences);
* a garbled frame (bad BodyLength, CheckSum, BeginString position) is ignored, seq not consumed;
* MsgSeqNum higher than expected: the message is queued and a ResendRequest ``7=expected 16=0`` sent;
  queued messages are processed in order once the gap is filled;
* lower than expected: ignored when ``PossDupFlag=Y`` (OrigSendingTime required and not after
  SendingTime), else Logout and disconnect;
* wrong CompIDs (373=9) or SendingTime accuracy (373=10): Reject, then Logout;
* dictionary errors: Reject (35=3) with the SessionRejectReason, sequence number consumed;
* ResendRequest: stored application messages are resent with ``43=Y`` and ``122``; admin messages and
  gaps become SequenceReset-GapFill; SequenceReset (gap fill or reset) moves the expected number up;
* a Heartbeat after ``HeartBtInt`` of silence from us, a TestRequest after 1.2 x of silence from the
  peer, and disconnect when it stays unanswered;
* a Logon while logged on: with ``141=Y`` an in-session sequence reset, else Logout and disconnect;
* schedule: no Logon outside the window (disconnect), Logout when it closes, and at a new session
  period (daily reset) Logout with both sequence numbers back to 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from tradeforge.fix import tags as T
from tradeforge.fix.codec import FieldValue, FixDecodeError, FixMessage, Framer, decode, encode
from tradeforge.fix.dictionary import DataDictionary, load_dictionary
from tradeforge.fix.schedule import SessionSchedule
from tradeforge.fix.store import MemoryStore, MessageStore
from tradeforge.fix.validation import (
    COMPID_PROBLEM,
    REQUIRED_TAG_MISSING,
    SENDING_TIME_ACCURACY,
    VALUE_INCORRECT,
    SessionReject,
    Validator,
)
from tradeforge.fix.values import FixValueError, format_timestamp, parse_timestamp

log = logging.getLogger("tradeforge.fix")
NANOS = 1_000_000_000
_RESENT_HEADER = frozenset({T.SenderCompID, T.TargetCompID, T.MsgSeqNum, T.PossDupFlag, T.SendingTime, T.OrigSendingTime})


class SessionState(Enum):
    DISCONNECTED = "DISCONNECTED"
    CONNECTED = "CONNECTED"  # transport up, no Logon yet
    LOGON_SENT = "LOGON_SENT"
    LOGGED_ON = "LOGGED_ON"
    LOGOUT_SENT = "LOGOUT_SENT"


class ClockLike(Protocol):
    def timestamp_ns(self) -> int: ...


class Application(Protocol):
    """What a session tells its owner. ``on_message`` gets application messages in sequence order."""

    def on_logon(self, session: Session) -> None: ...

    def on_logout(self, session: Session) -> None: ...

    def on_message(self, session: Session, msg: FixMessage) -> None: ...


class BusinessReject(Exception):
    """Raised by an application handler: the session answers with a BusinessMessageReject (35=j)."""

    def __init__(self, reason: int, text: str = "", ref_id_tag: int | None = None) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text
        self.ref_id_tag = ref_id_tag


class NullApplication:
    def on_logon(self, session: Session) -> None:
        pass

    def on_logout(self, session: Session) -> None:
        pass

    def on_message(self, session: Session, msg: FixMessage) -> None:
        pass


@dataclass
class SessionConfig:
    """One FIX session (our CompID, theirs, role and timers)."""

    sender_comp_id: str
    target_comp_id: str
    initiator: bool = True
    heartbeat_s: float = 30.0
    begin_string: bytes = b"FIX.4.4"
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    max_latency_s: float | None = 120.0
    logon_timeout_s: float = 10.0
    logout_timeout_s: float = 2.0
    validate: bool = True
    resend_app_messages: bool = True
    schedule: SessionSchedule | None = None

    @property
    def session_id(self) -> str:
        return f"{self.begin_string.decode()}-{self.sender_comp_id}-{self.target_comp_id}"


class Session:
    """One FIX session (see the module docstring)."""

    def __init__(
        self,
        config: SessionConfig,
        clock: ClockLike,
        store: MessageStore | None = None,
        application: Application | None = None,
        dictionary: DataDictionary | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store: MessageStore = store if store is not None else MemoryStore(clock.timestamp_ns())
        self.app: Application = application or NullApplication()
        self.dd = dictionary or load_dictionary()
        self.validator = Validator(self.dd)
        self.state = SessionState.DISCONNECTED
        self.heartbeat_ns = int(config.heartbeat_s * NANOS)
        self._sender_b = config.sender_comp_id.encode()
        self._target_b = config.target_comp_id.encode()
        self._write: Callable[[bytes], None] | None = None
        self._close: Callable[[], None] | None = None
        self._framer = Framer()
        self._queue: dict[int, FixMessage] = {}
        self._resend_until: int | None = None  # we asked for a resend up to this seq
        self._last_sent = self._last_recv = 0
        self._test_req_sent: int | None = None
        self._test_req_id = 0
        self._state_since = 0
        self._pending_reset = False
        self._reset_requested = False
        # counters, for tests and monitoring
        self.garbled = 0
        self.rejects_sent = 0
        self.rejects_received = 0
        self.resend_requests_sent = 0
        self.resend_requests_received = 0
        self.duplicates_ignored = 0
        self.app_errors = 0
        self.duplicate_logons = 0
        self.disconnect_reason = ""
        #: called after each logon (transports count them); the application gets ``on_logon`` too
        self.logon_listeners: list[Callable[[Session], None]] = []

    # -- properties ---------------------------------------------------------------------------------

    @property
    def is_logged_on(self) -> bool:
        return self.state is SessionState.LOGGED_ON

    @property
    def is_connected(self) -> bool:
        return self.state is not SessionState.DISCONNECTED

    @property
    def resend_pending(self) -> bool:
        return self._resend_until is not None or bool(self._queue)

    @property
    def next_sender_seq(self) -> int:
        return self.store.next_sender_seq()

    @property
    def next_target_seq(self) -> int:
        return self.store.next_target_seq()

    # -- transport hooks -----------------------------------------------------------------------------

    def connected(self, write: Callable[[bytes], None], close: Callable[[], None]) -> None:
        """The transport is up; an initiator sends its Logon now."""
        now = self.clock.timestamp_ns()
        self._write, self._close = write, close
        self._framer = Framer()
        self._queue.clear()
        self._resend_until = None
        self._test_req_sent = None
        self._last_sent = self._last_recv = now
        self._reset_requested = False
        self._set_state(SessionState.CONNECTED, now)
        self._check_new_session(now)
        sched = self.config.schedule
        if sched is not None and not sched.in_session(now):
            self.disconnect("outside the session window")
            return
        if self.config.initiator:
            self.send_logon()

    def disconnected(self) -> None:
        """The transport is gone (either side closed it)."""
        was_on = self.state in (SessionState.LOGGED_ON, SessionState.LOGOUT_SENT)
        self._write = self._close = None
        self._set_state(SessionState.DISCONNECTED, self.clock.timestamp_ns())
        self._queue.clear()
        self._resend_until = None
        if self.config.reset_on_disconnect or self._pending_reset:
            self._pending_reset = False
            self.store.reset(self.clock.timestamp_ns())
        if was_on:
            self.app.on_logout(self)

    def disconnect(self, reason: str = "") -> None:
        """Close the transport now."""
        if reason:
            self.disconnect_reason = reason
            log.info("%s: disconnect: %s", self.config.session_id, reason)
        close = self._close
        if close is not None:
            self.disconnected()
            close()

    def on_data(self, data: bytes) -> None:
        """Bytes received from the transport."""
        framer = self._framer
        for raw in framer.feed(data):
            self.on_raw(raw)
            if self.state is SessionState.DISCONNECTED:
                return
        if framer.garbled:
            self.garbled += framer.garbled
            framer.garbled = 0

    def tick(self) -> None:
        """Timers: heartbeat, test request, logon/logout timeouts, schedule. Call often (e.g. 10 x per second)."""
        st = self.state
        if st is SessionState.DISCONNECTED:
            return
        now = self.clock.timestamp_ns()
        sched = self.config.schedule
        if sched is not None and st is SessionState.LOGGED_ON:
            if not sched.in_session(now):
                self.logout("session window closed")
                return
            if sched.is_new_session(self.store.creation_time_ns, now):
                self._pending_reset = True  # sequence numbers restart at 1 once disconnected
                self.logout("new session period: daily sequence reset")
                return
        if st is SessionState.LOGON_SENT or st is SessionState.CONNECTED:
            if now - self._state_since > self.config.logon_timeout_s * NANOS:
                self.disconnect("logon timed out")
            return
        if st is SessionState.LOGOUT_SENT:
            if now - self._state_since > self.config.logout_timeout_s * NANOS:
                self.disconnect("logout timed out")
            return
        hb = self.heartbeat_ns
        if hb <= 0:
            return
        if now - self._last_sent >= hb:
            self._send_admin(T.HEARTBEAT, ())
        silent = now - self._last_recv
        if self._test_req_sent is None:
            if silent >= hb * 1.2:
                self._test_req_id += 1
                self._test_req_sent = now
                self._send_admin(T.TEST_REQUEST, ((T.TestReqID, b"TEST-%d" % self._test_req_id),))
        elif silent >= hb * 2.4:
            self.disconnect("peer silent: TestRequest unanswered")

    # -- sending -------------------------------------------------------------------------------------

    def send(self, msg_type: bytes, fields: Iterable[tuple[int, FieldValue]]) -> int:
        """Send an application message; returns its MsgSeqNum. While not logged on it is stored only
        (the peer gets it when it asks for a resend after the next logon)."""
        return self._send(msg_type, fields, store=True, transmit=self.state is SessionState.LOGGED_ON)

    def _send_admin(self, msg_type: bytes, fields: Iterable[tuple[int, FieldValue]]) -> int:
        return self._send(msg_type, fields, store=True, transmit=True)

    def _header(self, seq: int, now: int) -> list[tuple[int, FieldValue]]:
        return [(T.SenderCompID, self._sender_b), (T.TargetCompID, self._target_b), (T.MsgSeqNum, b"%d" % seq),
                (T.SendingTime, format_timestamp(now))]

    def _send(self, msg_type: bytes, fields: Iterable[tuple[int, FieldValue]], store: bool, transmit: bool) -> int:
        st = self.store
        seq = st.next_sender_seq()
        now = self.clock.timestamp_ns()
        header = self._header(seq, now)
        header.extend(fields)
        raw = encode(msg_type, header, self.config.begin_string)
        if store:
            st.save(seq, raw)
        st.set_next_sender_seq(seq + 1)
        if transmit:
            self._transmit(raw, now)
        return seq

    def _transmit(self, raw: bytes, now: int) -> None:
        w = self._write
        if w is not None:
            w(raw)
            self._last_sent = now

    def send_logon(self) -> None:
        """Initiator: send the Logon (with ``141=Y`` and fresh sequence numbers when configured)."""
        now = self.clock.timestamp_ns()
        fields: list[tuple[int, FieldValue]] = [(T.EncryptMethod, b"0"), (T.HeartBtInt, b"%d" % int(self.config.heartbeat_s))]
        if self.config.reset_on_logon:
            self.store.reset(now)
            fields.append((T.ResetSeqNumFlag, b"Y"))
        self._set_state(SessionState.LOGON_SENT, now)
        self._send_admin(T.LOGON, fields)

    def logout(self, text: str = "") -> None:
        """Start a Logout; the transport closes when the peer answers (or after the logout timeout)."""
        if self.state in (SessionState.DISCONNECTED, SessionState.LOGOUT_SENT):
            return
        self._send_admin(T.LOGOUT, ((T.Text, text),) if text else ())
        self._set_state(SessionState.LOGOUT_SENT, self.clock.timestamp_ns())
        if self.config.reset_on_logout:
            self._pending_reset = True

    def send_reject(self, msg: FixMessage, rej: SessionReject) -> None:
        """A session-level Reject (35=3) of ``msg``."""
        fields: list[tuple[int, FieldValue]] = [(T.RefSeqNum, b"%d" % msg.seq_num)]
        if rej.ref_tag is not None and rej.ref_tag > 0:
            fields.append((T.RefTagID, b"%d" % rej.ref_tag))
        fields.append((T.RefMsgType, msg.msg_type))
        fields.append((T.SessionRejectReason, b"%d" % rej.reason))
        if rej.text:
            fields.append((T.Text, rej.text))
        self.rejects_sent += 1
        self._send_admin(T.REJECT, fields)

    def business_reject(self, msg: FixMessage, reason: int, text: str = "", ref_id_tag: int | None = None) -> None:
        """A BusinessMessageReject (35=j) of application message ``msg``."""
        fields: list[tuple[int, FieldValue]] = [(T.RefSeqNum, b"%d" % msg.seq_num), (T.RefMsgType, msg.msg_type)]
        ref_id = msg.get(ref_id_tag) if ref_id_tag else None
        if ref_id:
            fields.append((T.BusinessRejectRefID, ref_id))
        fields.append((T.BusinessRejectReason, b"%d" % reason))
        if text:
            fields.append((T.Text, text))
        self.rejects_sent += 1
        self.send(T.BUSINESS_MESSAGE_REJECT, fields)

    # -- receiving -----------------------------------------------------------------------------------

    def on_raw(self, raw: bytes) -> None:
        """One framed message from the peer."""
        try:
            msg = decode(raw)
        except FixDecodeError as exc:
            self.garbled += 1
            log.warning("%s: garbled message ignored: %s", self.config.session_id, exc)
            return
        now = self.clock.timestamp_ns()
        self._last_recv = now
        self._test_req_sent = None
        if msg.begin_string != self.config.begin_string:
            self.logout("Incorrect BeginString")
            self.disconnect("Incorrect BeginString")
            return
        mt = msg.msg_type
        if self.state in (SessionState.CONNECTED, SessionState.LOGON_SENT) and mt != T.LOGON:
            if mt == T.LOGOUT and self.state is SessionState.LOGON_SENT:
                self.disconnect(f"logon refused: {msg.get_str(T.Text)}")
            else:
                self.disconnect("first message was not a Logon")
            return
        seq = msg.get_int(T.MsgSeqNum)
        if seq is None or seq <= 0:
            self.logout("MsgSeqNum missing or invalid")
            self.disconnect("MsgSeqNum missing")
            return
        if msg.get(T.SenderCompID) != self._target_b or msg.get(T.TargetCompID) != self._sender_b:
            if mt == T.LOGON and not self.is_logged_on:
                self.disconnect("Logon with wrong CompIDs")
                return
            self.send_reject(msg, SessionReject(COMPID_PROBLEM, T.SenderCompID, "CompID problem"))
            self.logout("CompID problem")
            return
        if not self._sending_time_ok(msg, now):
            if mt == T.LOGON and not self.is_logged_on:
                self.disconnect("Logon SendingTime accuracy problem")
                return
            self.send_reject(msg, SessionReject(SENDING_TIME_ACCURACY, T.SendingTime, "SendingTime accuracy problem"))
            self.logout("SendingTime accuracy problem")
            return
        if mt == T.SEQUENCE_RESET and msg.get(T.GapFillFlag) != b"Y":
            self._on_sequence_reset(msg, gap_fill=False)
            return
        if mt == T.LOGON:
            self._on_logon(msg, seq)
            return
        self._sequenced(msg, seq)

    def _sending_time_ok(self, msg: FixMessage, now: int) -> bool:
        lat = self.config.max_latency_s
        if lat is None:
            return True
        st = msg.get(T.SendingTime)
        if st is None:
            return True  # the validator reports it missing
        try:
            return abs(now - parse_timestamp(st)) <= lat * NANOS
        except FixValueError:
            return True  # format error: the validator rejects it

    def _sequenced(self, msg: FixMessage, seq: int) -> None:
        expected = self.store.next_target_seq()
        if seq > expected:
            if msg.msg_type == T.RESEND_REQUEST:
                self._on_resend_request(msg)  # answer now, count it when the gap is filled
            self._queue[seq] = msg
            if self._resend_until is None:
                self._request_resend(expected, seq)
            return
        if seq < expected:
            self._too_low(msg, seq, expected)
            return
        self._process(msg, seq)
        self._drain()

    def _too_low(self, msg: FixMessage, seq: int, expected: int) -> None:
        if msg.get(T.PossDupFlag) == b"Y":
            if msg.msg_type == T.SEQUENCE_RESET:
                self.duplicates_ignored += 1
                return
            orig = msg.get(T.OrigSendingTime)
            if orig is None:
                self.send_reject(msg, SessionReject(REQUIRED_TAG_MISSING, T.OrigSendingTime, "Required tag missing"))
                return
            try:
                late = parse_timestamp(orig) > parse_timestamp(msg.get(T.SendingTime) or b"")
            except FixValueError:
                late = False
            if late:
                self.send_reject(msg, SessionReject(SENDING_TIME_ACCURACY, T.OrigSendingTime, "SendingTime accuracy problem"))
                self.logout("OrigSendingTime after SendingTime")
                return
            self.duplicates_ignored += 1
            return
        text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
        self.logout(text)
        self.disconnect(text)

    def _request_resend(self, begin: int, upto: int) -> None:
        self._resend_until = upto
        self.resend_requests_sent += 1
        self._send_admin(T.RESEND_REQUEST, ((T.BeginSeqNo, b"%d" % begin), (T.EndSeqNo, b"0")))

    def _drain(self) -> None:
        q = self._queue
        st = self.store
        while q:
            expected = st.next_target_seq()
            for s in [s for s in q if s < expected]:
                del q[s]
            msg = q.pop(expected, None)
            if msg is None:
                break
            if msg is _CONSUMED_LOGON or msg.msg_type == T.RESEND_REQUEST:
                st.set_next_target_seq(expected + 1)  # handled when it arrived
            else:
                self._process(msg, expected)
            if self.state is SessionState.DISCONNECTED:
                return
        if self._resend_until is not None and st.next_target_seq() > self._resend_until:
            self._resend_until = None
            if q:  # another gap behind the one just filled
                self._request_resend(st.next_target_seq(), max(q))
            elif self.is_logged_on:
                self._synced()

    def _synced(self) -> None:
        hook = getattr(self.app, "on_synced", None)
        if hook is not None:
            hook(self)

    def _process(self, msg: FixMessage, seq: int) -> None:
        """A message at the expected sequence number."""
        mt = msg.msg_type
        if mt == T.SEQUENCE_RESET:
            self._on_sequence_reset(msg, gap_fill=True)
            return
        if self.config.validate:
            rej = self.validator.validate(msg)
            if rej is not None:
                self.store.set_next_target_seq(seq + 1)
                self.send_reject(msg, rej)
                return
        self.store.set_next_target_seq(seq + 1)
        if mt == T.HEARTBEAT:
            return
        if mt == T.TEST_REQUEST:
            self._send_admin(T.HEARTBEAT, ((T.TestReqID, msg.get(T.TestReqID) or b""),))
        elif mt == T.RESEND_REQUEST:
            if seq not in self._queue:
                self._on_resend_request(msg)
        elif mt == T.REJECT:
            self.rejects_received += 1
            log.warning("%s: peer rejected seq %s: %s", self.config.session_id, msg.get_str(T.RefSeqNum), msg.get_str(T.Text))
        elif mt == T.LOGOUT:
            if self.state is SessionState.LOGOUT_SENT:
                self.disconnect("logout confirmed")
            else:
                self._send_admin(T.LOGOUT, ())
                if self.config.reset_on_logout:
                    self._pending_reset = True
                self.disconnect(f"peer logged out: {msg.get_str(T.Text)}")
        elif mt in T.ADMIN_TYPES:
            pass
        else:
            try:
                self.app.on_message(self, msg)
            except BusinessReject as br:
                self.business_reject(msg, br.reason, br.text, br.ref_id_tag)
            except Exception:  # the application's bug must not take the session down
                self.app_errors += 1
                log.exception("%s: application failed on %r", self.config.session_id, msg)

    def _on_logon(self, msg: FixMessage, seq: int) -> None:
        now = self.clock.timestamp_ns()
        sched = self.config.schedule
        if sched is not None and not sched.in_session(now):
            self.disconnect("Logon outside the session window")  # as QuickFIX: no answer, disconnect
            return
        if self.state is SessionState.LOGGED_ON:
            self._logon_while_logged_on(msg, seq, now)
            return
        if self.config.validate:
            rej = self.validator.validate(msg)
            if rej is not None:
                self.disconnect(f"invalid Logon: {rej}")
                return
        reset = msg.get(T.ResetSeqNumFlag) == b"Y"
        if reset and not self.config.initiator:
            self.store.reset(now)
        elif reset and self.config.initiator and self.store.next_target_seq() != 1:
            self.store.set_next_target_seq(1)
        if not self.config.initiator:
            hb = msg.get_int(T.HeartBtInt, -1)
            if hb is None or hb < 0:
                self.disconnect("Logon without a valid HeartBtInt")
                return
            self.heartbeat_ns = hb * NANOS
            fields: list[tuple[int, FieldValue]] = [(T.EncryptMethod, b"0"), (T.HeartBtInt, b"%d" % hb)]
            if reset:
                fields.append((T.ResetSeqNumFlag, b"Y"))
            self._send_admin(T.LOGON, fields)
        expected = self.store.next_target_seq()
        if seq < expected:
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self.logout(text)
            self.disconnect(text)
            return
        self._set_state(SessionState.LOGGED_ON, now)
        if seq == expected:
            self.store.set_next_target_seq(seq + 1)
        for listener in self.logon_listeners:
            listener(self)
        self.app.on_logon(self)
        if seq > expected:
            self._request_resend(expected, seq)
            self._queue[seq] = _CONSUMED_LOGON
        else:
            self._synced()

    def _logon_while_logged_on(self, msg: FixMessage, seq: int, now: int) -> None:
        """A Logon on an established session: with ``141=Y`` an in-session sequence reset (both sides
        restart at 1; answered with a Logon ``141=Y`` unless it answers ours); otherwise a duplicate
        Logon, a protocol violation: Logout and disconnect."""
        if msg.get(T.ResetSeqNumFlag) != b"Y":
            self.duplicate_logons += 1
            self.logout("Duplicate Logon received while logged on")
            self.disconnect("duplicate Logon")
            return
        if self._reset_requested:
            self._reset_requested = False
            self.store.set_next_target_seq(seq + 1)
            return
        self.store.reset(now)
        self.store.set_next_target_seq(seq + 1)
        self._queue.clear()
        self._resend_until = None
        self._send_admin(T.LOGON, ((T.EncryptMethod, b"0"), (T.HeartBtInt, b"%d" % (self.heartbeat_ns // NANOS)),
                                   (T.ResetSeqNumFlag, b"Y")))

    def reset_sequences(self) -> None:
        """Start an in-session sequence reset: a Logon ``141=Y`` with MsgSeqNum 1 (the peer answers in kind)."""
        if not self.is_logged_on:
            raise RuntimeError("an in-session sequence reset needs a logged-on session")
        self.store.reset(self.clock.timestamp_ns())
        self._reset_requested = True
        self._send_admin(T.LOGON, ((T.EncryptMethod, b"0"), (T.HeartBtInt, b"%d" % (self.heartbeat_ns // NANOS)),
                                   (T.ResetSeqNumFlag, b"Y")))

    def _on_sequence_reset(self, msg: FixMessage, gap_fill: bool) -> None:
        new = msg.get_int(T.NewSeqNo)
        expected = self.store.next_target_seq()
        if new is None:
            self.send_reject(msg, SessionReject(REQUIRED_TAG_MISSING, T.NewSeqNo, "Required tag missing"))
            return
        if new < expected:
            self.send_reject(msg, SessionReject(VALUE_INCORRECT, T.NewSeqNo, "Value is incorrect (out of range) for this tag"))
            if gap_fill:
                self.store.set_next_target_seq(expected + 1 if msg.seq_num == expected else expected)
            return
        self.store.set_next_target_seq(new)
        self._drain()

    def _on_resend_request(self, msg: FixMessage) -> None:
        self.resend_requests_received += 1
        begin = msg.get_int(T.BeginSeqNo, 1) or 1
        end = msg.get_int(T.EndSeqNo, 0) or 0
        last = self.store.next_sender_seq() - 1
        if end == 0 or end > last:
            end = last
        if begin > end:
            return
        now = self.clock.timestamp_ns()
        gap_start: int | None = None
        stored = dict(self.store.get(begin, end))
        for s in range(begin, end + 1):
            raw = stored.get(s)
            old = None
            if raw is not None:
                try:
                    old = decode(raw)
                except FixDecodeError:
                    old = None
            if old is None or old.msg_type in T.ADMIN_TYPES or not self.config.resend_app_messages:
                if gap_start is None:
                    gap_start = s
                continue
            if gap_start is not None:
                self._gap_fill(gap_start, s, now)
                gap_start = None
            fields = self._header(s, now)
            fields.insert(3, (T.PossDupFlag, b"Y"))
            fields.append((T.OrigSendingTime, old.get(T.SendingTime) or format_timestamp(now)))
            fields.extend(f for f in old.fields[1:] if f[0] not in _RESENT_HEADER)
            self._transmit(encode(old.msg_type, fields, self.config.begin_string), now)
        if gap_start is not None:
            self._gap_fill(gap_start, end + 1, now)

    def _gap_fill(self, seq: int, new_seq: int, now: int) -> None:
        fields = self._header(seq, now)
        fields.insert(3, (T.PossDupFlag, b"Y"))
        fields.append((T.OrigSendingTime, format_timestamp(now)))
        fields.append((T.GapFillFlag, b"Y"))
        fields.append((T.NewSeqNo, b"%d" % new_seq))
        self._transmit(encode(T.SEQUENCE_RESET, fields, self.config.begin_string), now)

    # -- helpers -------------------------------------------------------------------------------------

    def _set_state(self, state: SessionState, now: int) -> None:
        self.state = state
        self._state_since = now

    def _check_new_session(self, now: int) -> None:
        sched = self.config.schedule
        if sched is not None and sched.is_new_session(self.store.creation_time_ns, now):
            self.store.reset(now)


_CONSUMED_LOGON = FixMessage(T.HEARTBEAT, [(T.MsgType, T.HEARTBEAT)])
