"""Shared helpers of the FIX tests: a settable clock, a scripted peer and sessions wired back to back."""

from __future__ import annotations

from tradeforge.fix.codec import FixMessage, decode, encode
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.store import MemoryStore
from tradeforge.fix.values import format_timestamp

T0 = 1_700_000_000 * 1_000_000_000


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def timestamp_ns(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


class Recorder:
    """An application that records what its session hands it."""

    def __init__(self) -> None:
        self.messages: list[FixMessage] = []
        self.logons = 0
        self.logouts = 0
        self.synced = 0

    def on_logon(self, session: Session) -> None:
        self.logons += 1

    def on_logout(self, session: Session) -> None:
        self.logouts += 1

    def on_message(self, session: Session, msg: FixMessage) -> None:
        self.messages.append(msg)

    def on_synced(self, session: Session) -> None:
        self.synced += 1


class Wire:
    """A session under test, connected to a scripted peer: ``sent`` are the decoded messages it wrote."""

    def __init__(self, initiator: bool = False, clock: FakeClock | None = None, store=None, **cfg) -> None:
        self.clock = clock or FakeClock()
        self.app = Recorder()
        config = SessionConfig("US", "THEM", initiator=initiator, heartbeat_s=cfg.pop("heartbeat_s", 30), **cfg)
        self.session = Session(config, self.clock, store or MemoryStore(self.clock.now), self.app)
        self.raw: list[bytes] = []
        self.closed = False
        self.peer_seq = 1

    def connect(self) -> None:
        self.closed = False
        self.session.connected(self.raw.append, self._close)

    def _close(self) -> None:
        self.closed = True

    @property
    def sent(self) -> list[FixMessage]:
        return [decode(r) for r in self.raw]

    def take(self) -> list[FixMessage]:
        out = self.sent
        self.raw.clear()
        return out

    def peer(self, msg_type: bytes, fields=(), seq: int | None = None, header=(), sending_time: int | None = None,
             sender: bytes = b"THEM", target: bytes = b"US") -> bytes:
        """Feed the session one message from the peer (next peer seq unless given); returns its bytes."""
        if seq is None:
            seq = self.peer_seq
            self.peer_seq += 1
        st = format_timestamp(self.clock.now if sending_time is None else sending_time)
        raw = encode(msg_type, [(49, sender), (56, target), (34, seq), (52, st), *header, *fields])
        self.session.on_data(raw)
        return raw

    def logon(self, hb: int = 30, reset: bool = False) -> None:
        self.connect()
        fields = [(98, b"0"), (108, hb)] + ([(141, b"Y")] if reset else [])
        self.peer(b"A", fields)


NOS = [(11, b"O1"), (21, b"1"), (55, b"AAPL"), (54, b"1"), (60, b"20231114-22:13:20"), (38, b"100"), (40, b"2"), (44, b"1.5")]
