"""FIX tag=value wire codec: framing, BodyLength/CheckSum, encode and decode (bytes only, no dictionary).

``encode(msg_type, fields)`` builds ``8=..|9=..|35=..|<fields>|10=..|`` with precomputed tag
prefixes; ``decode(raw)`` checks the frame (BeginString first, BodyLength, CheckSum) and returns a
:class:`FixMessage` holding every field from ``35`` up to (not including) ``10`` in wire order as
``(tag, value bytes)`` pairs. DATA fields (whose value may contain SOH) are read by the length given
in their LENGTH field. :class:`Framer` cuts a byte stream into whole messages and skips garbage.
Dictionary checks (required fields, enums, groups) live in :mod:`tradeforge.fix.validation`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Final

SOH: Final = b"\x01"
BEGIN_FIX44: Final = b"FIX.4.4"
MAX_MESSAGE_BYTES: Final = 1 << 20

#: LENGTH tag -> DATA tag of FIX 4.4 (also in the dictionary; kept here so the codec needs none).
DATA_LENGTH_TAGS: Final = {
    90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355, 356: 357, 358: 359,
    360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
}
_DATA_RE: Final = re.compile(b"\x01(?:" + b"|".join(str(t).encode() for t in DATA_LENGTH_TAGS) + b")=")

_TAG_PREFIX: dict[int, bytes] = {t: b"%d=" % t for t in range(1, 1000)}
_START: Final = b"8=FIX"
_CHECKSUM: Final = [b"10=%03d\x01" % i for i in range(256)]

FieldValue = bytes | str | int


class FixDecodeError(ValueError):
    """The bytes are not one well-framed FIX message (garbled: to be ignored, per the FIX rules)."""


class FixMessage:
    """A decoded (or to-be-sent) message: ``fields`` are ``(tag, bytes)`` pairs in wire order from 35 on."""

    __slots__ = ("_index", "begin_string", "fields", "msg_type", "raw")

    def __init__(self, msg_type: bytes, fields: list[tuple[int, bytes]], raw: bytes = b"",
                 begin_string: bytes = BEGIN_FIX44) -> None:
        self.msg_type = msg_type
        self.fields = fields
        self.raw = raw
        self.begin_string = begin_string
        self._index: dict[int, bytes] | None = None

    def _idx(self) -> dict[int, bytes]:
        idx = self._index
        if idx is None:  # first occurrence wins (group members repeat)
            idx = self._index = dict(reversed(self.fields))
        return idx

    def get(self, tag: int, default: bytes | None = None) -> bytes | None:
        """The first value of ``tag`` (bytes), or ``default``."""
        return self._idx().get(tag, default)

    def __getitem__(self, tag: int) -> bytes:
        return self._idx()[tag]

    def __contains__(self, tag: object) -> bool:
        return tag in self._idx()

    def get_str(self, tag: int, default: str = "") -> str:
        v = self._idx().get(tag)
        return default if v is None else v.decode("latin-1")

    def get_int(self, tag: int, default: int | None = None) -> int | None:
        v = self._idx().get(tag)
        if v is None:
            return default
        try:
            return int(v)
        except ValueError:
            return default

    def count(self, tag: int) -> int:
        return sum(1 for t, _ in self.fields if t == tag)

    @property
    def seq_num(self) -> int:
        return self.get_int(34, 0) or 0

    def __repr__(self) -> str:
        body = "|".join(f"{t}={v.decode('latin-1')}" for t, v in self.fields)
        return f"FixMessage({body})"


def tag_prefix(tag: int) -> bytes:
    p = _TAG_PREFIX.get(tag)
    if p is None:
        p = _TAG_PREFIX[tag] = b"%d=" % tag
    return p


def to_bytes(value: FieldValue) -> bytes:
    """Field value to wire bytes (``str`` as latin-1, ``int`` as decimal, ``bool`` as Y/N)."""
    if type(value) is bytes:
        return value
    if type(value) is str:
        return value.encode("latin-1")
    if type(value) is bool:
        return b"Y" if value else b"N"
    if type(value) is int:
        return b"%d" % value
    if isinstance(value, str):  # str subclasses: identifiers such as ClientOrderId
        return str(value).encode("latin-1")
    if isinstance(value, int):
        return b"%d" % int(value)
    raise TypeError(f"FIX field value must be bytes, str or int, got {type(value).__name__}")


def encode_body(msg_type: bytes, fields: Iterable[tuple[int, FieldValue]]) -> bytes:
    """``35=<type>|<fields>|`` (the part BodyLength counts)."""
    parts = [b"35=", msg_type, SOH]
    prefixes = _TAG_PREFIX
    for tag, value in fields:
        if type(value) is not bytes:
            value = to_bytes(value)
        parts += (prefixes.get(tag) or tag_prefix(tag), value, SOH)
    return b"".join(parts)


def frame(body: bytes, begin_string: bytes = BEGIN_FIX44) -> bytes:
    """Wrap an encoded body with BeginString, BodyLength and CheckSum."""
    msg = b"8=%b\x019=%d\x01%b" % (begin_string, len(body), body)
    return msg + _CHECKSUM[sum(msg) & 255]


def encode(msg_type: bytes, fields: Iterable[tuple[int, FieldValue]], begin_string: bytes = BEGIN_FIX44) -> bytes:
    """A whole message: header fields (49, 56, 34, 52, ...) must be first in ``fields``."""
    return frame(encode_body(msg_type, fields), begin_string)


def checksum(data: bytes) -> int:
    return sum(data) & 255


def _split_exact(body: bytes) -> list[tuple[int, bytes]]:
    """Slow path: field by field, DATA fields by their LENGTH field, bad tags as tag 0."""
    out: list[tuple[int, bytes]] = []
    pos, n = 0, len(body)
    data_len: dict[int, int] = {}  # DATA tag -> announced length
    while pos < n:
        eq = body.find(b"=", pos)
        if eq < 0:
            out.append((0, body[pos:].rstrip(SOH)))
            break
        try:
            tag = int(body[pos:eq])
            if tag <= 0 or not body[pos:eq].isdigit():
                raise ValueError
        except ValueError:
            tag = 0
        if tag in data_len:
            length = data_len.pop(tag)
            end = eq + 1 + length
            if end > n or body[end:end + 1] != SOH:
                raise FixDecodeError(f"DATA field {tag} is not {length} bytes long")
        else:
            end = body.find(SOH, eq)
            if end < 0:
                end = n
        value = body[eq + 1:end]
        if tag in DATA_LENGTH_TAGS:
            with contextlib.suppress(ValueError):
                data_len[DATA_LENGTH_TAGS[tag]] = max(int(value), 0)
        out.append((tag, value))
        pos = end + 1
    return out


def split_fields(body: bytes) -> list[tuple[int, bytes]]:
    """``body`` (``35=...|...|``, trailing SOH) into ``(tag, value)`` pairs."""
    if _DATA_RE.search(body) is None:
        try:
            out = []
            for p in body[:-1].split(SOH):
                t, _, v = p.partition(b"=")
                out.append((int(t), v))
            return out
        except ValueError:
            pass
    return _split_exact(body)


def decode(raw: bytes) -> FixMessage:
    """Check the frame of one whole message and split its fields; raises :class:`FixDecodeError`."""
    if raw[:2] != b"8=":
        raise FixDecodeError("message does not start with 8=")
    i = raw.find(SOH, 2)
    if i < 0 or raw[i + 1:i + 3] != b"9=":
        raise FixDecodeError("BodyLength (9) must be the second field")
    j = raw.find(SOH, i + 3)
    try:
        body_len = int(raw[i + 3:j])
    except ValueError:
        raise FixDecodeError("BodyLength is not a number") from None
    start = j + 1
    end = start + body_len
    if raw[end:end + 3] != b"10=" or raw[end - 1:end] != SOH or len(raw) != end + 7 or raw[-1:] != SOH:
        raise FixDecodeError(f"BodyLength {body_len} does not match the message")
    try:
        ck = int(raw[end + 3:end + 6])
    except ValueError:
        raise FixDecodeError("CheckSum is not a number") from None
    if sum(raw[:end]) & 255 != ck:
        raise FixDecodeError(f"CheckSum {ck:03d} does not match {sum(raw[:end]) & 255:03d}")
    if raw[start:start + 3] != b"35=":
        raise FixDecodeError("MsgType (35) must be the third field")
    fields = split_fields(raw[start:end])
    if not fields or fields[0][0] != 35 or not fields[0][1]:
        raise FixDecodeError("MsgType (35) must be the third field")
    return FixMessage(fields[0][1], fields, raw, raw[2:i])


class Framer:
    """Cuts a byte stream into whole messages; garbage between messages is skipped and counted."""

    __slots__ = ("_buf", "garbled")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbled = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete messages now available (frames may still be bad)."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        while True:
            start = buf.find(_START)
            if start < 0:
                if len(buf) > 4:
                    self.garbled += 1
                    del buf[:-4]
                return out
            if start:
                self.garbled += 1
                del buf[:start]
            i = buf.find(SOH)
            if i < 0:
                if len(buf) > 64:
                    self._skip()
                    continue
                return out
            if buf[i + 1:i + 3] != b"9=":
                if len(buf) >= i + 3:
                    self._skip()
                    continue
                return out
            j = buf.find(SOH, i + 3)
            if j < 0:
                if len(buf) - i > 16:
                    self._skip()
                    continue
                return out
            try:
                body_len = int(buf[i + 3:j])
            except ValueError:
                self._skip()
                continue
            if body_len < 0 or body_len > MAX_MESSAGE_BYTES:
                self._skip()
                continue
            end = j + 1 + body_len + 7
            if len(buf) < end:
                return out
            if buf[end - 7:end - 4] != b"10=" or buf[end - 1] != 1:
                self._skip()  # wrong BodyLength: resynchronize on the next 8=
                continue
            out.append(bytes(buf[:end]))
            del buf[:end]

    def _skip(self) -> None:
        self.garbled += 1
        nxt = self._buf.find(_START, 1)
        del self._buf[: nxt if nxt > 0 else len(self._buf)]

    @property
    def pending(self) -> int:
        return len(self._buf)
