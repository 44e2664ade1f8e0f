"""Message boundaries of ITCH 5.0 streams: BinaryFILE and MoldUDP64 framing, scanned by numba.

**BinaryFILE** (NASDAQ's historical files): each message is preceded by a 2-byte big-endian
length. Every prefix must equal the length the spec gives the message's type. Some files (the
RITCH sample ``ex20101224.TEST_ITCH_50``) write ``0x0000`` for every prefix; when the *first*
prefix is zero the file is read in zero-prefix mode: every prefix must then be zero, and the
length is taken from the type code (unambiguous, since every ITCH 5.0 type has one fixed length).
The scan reports that it did so, and :func:`~tradeforge.data.itch.decode.decode` turns that into a
:class:`ZeroLengthPrefixWarning` and a notice on the result.

**MoldUDP64** (the multicast transport): a packet is a 20-byte header, ``session`` (10 ASCII
bytes), ``sequence_number`` (8 bytes BE, the sequence number of the packet's first message) and
``message_count`` (2 bytes BE; 0 for a heartbeat, 0xFFFF for end of session), then
``message_count`` blocks of a 2-byte BE length and the message. A stream is packets laid end to
end (each is self-delimiting). Sequence gaps are found against the next expected number of the
same session; messages whose number was already seen (retransmissions) are flagged as duplicates.

Both scans run in one ``@numba.njit`` pass over the bytes (no Python per message) and stop at the
first framing error, returning an error code and the byte offset, which :func:`raise_scan_error`
turns into a :class:`~tradeforge.data.errors.BadRecordError` whose record is that byte offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba.core import types as nbt
from numba.extending import intrinsic

from tradeforge.data.errors import BadRecordError
from tradeforge.data.itch.spec import LENGTH_TABLE, TYPE_INDEX

#: The ``unit`` of every :class:`BadRecordError` raised for ITCH input: the record is a byte offset.
UNIT = "byte offset"
MOLD_HEADER = 20
MOLD_END_OF_SESSION = 0xFFFF
MIN_MESSAGE = 12  # the shortest ITCH 5.0 message (S, W)

OK = 0
ERR_TRUNCATED_PREFIX = 1  # fewer than 2 bytes left for a length prefix
ERR_NO_TYPE = 2  # a prefix with no type byte after it
ERR_UNKNOWN_TYPE = 3
ERR_PREFIX_MISMATCH = 4  # prefix != the type's length
ERR_ZERO_PREFIX = 5  # prefix 0 in a length-prefixed stream
ERR_NONZERO_PREFIX = 6  # prefix != 0 in a zero-prefix file
ERR_TRUNCATED_MESSAGE = 7
ERR_TRUNCATED_HEADER = 8  # MoldUDP64 packet header cut short


class ZeroLengthPrefixWarning(UserWarning):
    """A BinaryFILE stream whose length prefixes are all zero was decoded by message-type lengths."""


# ---------------------------------------------------------------------------------------------
# Unaligned loads and stores on a C-contiguous 1-D uint8 array, for the numba kernels: one machine
# load (plus ``bswap`` for the big-endian ones) instead of a shift-or of single bytes. They do no
# bounds check: callers index only bytes the framing scan has proven to exist.
# ---------------------------------------------------------------------------------------------

_INT_TYPES = {8: nbt.uint8, 16: nbt.uint16, 32: nbt.uint32, 64: nbt.uint64}


def _is_bytes(arr: object) -> bool:
    return isinstance(arr, nbt.Array) and arr.dtype == nbt.uint8 and arr.ndim == 1 and arr.layout == "C"


def _pointer(context, builder, arr_type, arr, pos, bits):  # type: ignore[no-untyped-def]
    data = context.make_array(arr_type)(context, builder, arr).data
    return builder.bitcast(builder.gep(data, [pos]), ir.IntType(bits).as_pointer())


def _load_intrinsic(bits: int, big_endian: bool):  # type: ignore[no-untyped-def]
    @intrinsic
    def load(typingctx, arr, pos):  # type: ignore[no-untyped-def]
        if not (_is_bytes(arr) and isinstance(pos, nbt.Integer)):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ptr = _pointer(context, builder, signature.args[0], args[0], args[1], bits)
            value = builder.load(ptr, align=1)
            return builder.bswap(value) if big_endian and bits > 8 else value

        return _INT_TYPES[bits](arr, pos), codegen

    return load


def _store_intrinsic(bits: int):  # type: ignore[no-untyped-def]
    @intrinsic
    def store(typingctx, arr, pos, value):  # type: ignore[no-untyped-def]
        if not (_is_bytes(arr) and isinstance(pos, nbt.Integer) and value == _INT_TYPES[bits]):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ptr = _pointer(context, builder, signature.args[0], args[0], args[1], bits)
            builder.store(args[2], ptr, align=1)
            return context.get_dummy_value()

        return nbt.void(arr, pos, value), codegen

    return store


#: ``load_be{16,32,64}(buf, pos)``: the big-endian unsigned integer at byte ``pos`` (native value).
load_be16, load_be32, load_be64 = (_load_intrinsic(b, True) for b in (16, 32, 64))
#: ``load_raw{16,32,64}(buf, pos)``: the bytes at ``pos`` as they are (for copying alpha fields).
load_raw16, load_raw32, load_raw64 = (_load_intrinsic(b, False) for b in (16, 32, 64))
#: ``store{16,32,64}(buf, pos, value)``: write a native integer at byte ``pos``.
store16, store32, store64 = (_store_intrinsic(b) for b in (16, 32, 64))


@numba.njit(cache=True, nogil=True)
def _be16(buf: np.ndarray, pos: int) -> int:
    return (np.int64(buf[pos]) << 8) | np.int64(buf[pos + 1])


@numba.njit(cache=True, nogil=True, boundscheck=False)
def scan_binaryfile_into(buf: np.ndarray, lengths: np.ndarray, type_index: np.ndarray, offsets: np.ndarray,
                         codes: np.ndarray, counts: np.ndarray) -> tuple[int, bool, int, int, int]:  # fmt: skip
    """The BinaryFILE scan writing into caller-allocated arrays (numpy allocations get transparent
    huge pages, numba's do not: that is 4x fewer page faults on large inputs).

    ``offsets`` and ``codes`` need room for ``len(buf) // 14 + 1`` messages; ``counts`` (one per
    type, zeroed) is incremented at ``type_index[type byte]``. Returns ``(k, zero_prefix, end, error,
    detail)``: ``offsets[:k]``/``codes[:k]`` are the messages found; see :func:`scan_binaryfile`.
    """
    n = buf.shape[0]
    k = 0
    pos = 0
    zero_mode = n >= 2 and buf[0] == 0 and buf[1] == 0
    while pos < n:
        if pos + 2 > n:
            return k, zero_mode, pos, ERR_TRUNCATED_PREFIX, n - pos
        prefix = _be16(buf, pos)
        if pos + 3 > n:
            return k, zero_mode, pos, ERR_NO_TYPE, prefix
        t = buf[pos + 2]
        length = lengths[t]
        if length == 0:
            return k, zero_mode, pos, ERR_UNKNOWN_TYPE, np.int64(t)
        if zero_mode:
            if prefix != 0:
                return k, zero_mode, pos, ERR_NONZERO_PREFIX, prefix
        elif prefix == 0:
            return k, zero_mode, pos, ERR_ZERO_PREFIX, np.int64(t)
        elif prefix != length:
            return k, zero_mode, pos, ERR_PREFIX_MISMATCH, prefix
        if pos + 2 + length > n:
            return k, zero_mode, pos, ERR_TRUNCATED_MESSAGE, length
        offsets[k] = pos + 2
        codes[k] = t
        counts[type_index[t]] += 1
        k += 1
        pos += 2 + length
    return k, zero_mode, pos, OK, 0


def binaryfile_capacity(n_bytes: int) -> int:
    """An upper bound on the messages of ``n_bytes`` of BinaryFILE (the shortest block is 14 bytes)."""
    return n_bytes // (MIN_MESSAGE + 2) + 1


def scan_binaryfile(buf: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, bool, int, int, int]:
    """Offsets of the messages (their type byte) of a BinaryFILE stream.

    Returns ``(offsets, zero_prefix, end, error, detail)``: ``end`` is the byte offset where the scan
    stopped (the offending length prefix when ``error != OK``); ``detail`` is the prefix, the type
    byte or the needed length, depending on the error.
    """
    cap = binaryfile_capacity(buf.shape[0])
    offsets = np.empty(cap, np.int64)
    k, zero_mode, end, error, detail = scan_binaryfile_into(
        buf, lengths, TYPE_INDEX, offsets, np.empty(cap, np.uint8), np.zeros(int(TYPE_INDEX.max()) + 1, np.int64)
    )
    return offsets[:k], bool(zero_mode), int(end), int(error), int(detail)


@numba.njit(cache=True, nogil=True)
def scan_moldudp64(buf: np.ndarray, lengths: np.ndarray):
    """Offsets, sequence numbers and packets of a stream of MoldUDP64 packets laid end to end.

    Returns ``(offsets, sequence, duplicate, packet_offset, packet_sequence, packet_count,
    gap_start, gap_end, end, error, detail)``. ``gap_start``/``gap_end`` are inclusive ranges of
    missing sequence numbers; ``duplicate`` flags messages whose number was already delivered.
    """
    n = buf.shape[0]
    cap = n // (MIN_MESSAGE + 2) + 1
    offsets = np.empty(cap, np.int64)
    sequence = np.empty(cap, np.uint64)
    duplicate = np.zeros(cap, np.bool_)
    pcap = n // MOLD_HEADER + 1
    p_off = np.empty(pcap, np.int64)
    p_seq = np.empty(pcap, np.uint64)
    p_cnt = np.empty(pcap, np.int64)
    g_start = np.empty(pcap, np.uint64)
    g_end = np.empty(pcap, np.uint64)
    k = 0
    p = 0
    g = 0
    pos = 0
    expected = np.uint64(0)
    prev_session = -1  # byte offset of the previous packet's header
    while pos < n:
        if pos + MOLD_HEADER > n:
            return (offsets[:k], sequence[:k], duplicate[:k], p_off[:p], p_seq[:p], p_cnt[:p],
                    g_start[:g], g_end[:g], pos, ERR_TRUNCATED_HEADER, n - pos)  # fmt: skip
        seq = np.uint64(0)
        for j in range(8):
            seq = (seq << np.uint64(8)) | np.uint64(buf[pos + 10 + j])
        count = _be16(buf, pos + 18)
        same_session = prev_session >= 0
        if same_session:
            for j in range(10):
                if buf[prev_session + j] != buf[pos + j]:
                    same_session = False
                    break
        if not same_session:
            expected = seq  # a new session (or the first packet): no gap before it
        elif seq > expected:
            g_start[g] = expected
            g_end[g] = seq - np.uint64(1)
            g += 1
        p_off[p] = pos
        p_seq[p] = seq
        n_msgs = 0 if count == MOLD_END_OF_SESSION else count
        p_cnt[p] = count
        p += 1
        prev_session = pos
        pos += MOLD_HEADER
        for c in range(n_msgs):
            if pos + 2 > n:
                return (offsets[:k], sequence[:k], duplicate[:k], p_off[:p], p_seq[:p], p_cnt[:p],
                        g_start[:g], g_end[:g], pos, ERR_TRUNCATED_PREFIX, n - pos)  # fmt: skip
            prefix = _be16(buf, pos)
            if pos + 3 > n:
                return (offsets[:k], sequence[:k], duplicate[:k], p_off[:p], p_seq[:p], p_cnt[:p],
                        g_start[:g], g_end[:g], pos, ERR_NO_TYPE, prefix)  # fmt: skip
            t = buf[pos + 2]
            length = lengths[t]
            err = OK
            detail = np.int64(0)
            if length == 0:
                err = ERR_UNKNOWN_TYPE
                detail = np.int64(t)
            elif prefix != length:
                err = ERR_PREFIX_MISMATCH
                detail = prefix
            elif pos + 2 + length > n:
                err = ERR_TRUNCATED_MESSAGE
                detail = length
            if err != OK:
                return (offsets[:k], sequence[:k], duplicate[:k], p_off[:p], p_seq[:p], p_cnt[:p],
                        g_start[:g], g_end[:g], pos, err, detail)  # fmt: skip
            s = seq + np.uint64(c)
            offsets[k] = pos + 2
            sequence[k] = s
            duplicate[k] = s < expected
            k += 1
            pos += 2 + length
        end = seq + np.uint64(n_msgs)
        if end > expected:
            expected = end
    return (offsets[:k], sequence[:k], duplicate[:k], p_off[:p], p_seq[:p], p_cnt[:p],
            g_start[:g], g_end[:g], pos, OK, 0)  # fmt: skip


@dataclass(frozen=True)
class MoldPackets:
    """The packets of a MoldUDP64 stream (arrays aligned by packet) and the sequence gaps found."""

    offset: np.ndarray  # int64: byte offset of each packet header
    sequence: np.ndarray  # uint64: the header's sequence number
    count: np.ndarray  # int64: the header's message count (0 heartbeat, 0xFFFF end of session)
    session: np.ndarray  # S10: the header's session
    gaps: list[tuple[int, int]]  # inclusive (first, last) ranges of missing sequence numbers

    def __len__(self) -> int:
        return int(self.offset.shape[0])


def raise_scan_error(source: str, error: int, offset: int, detail: int) -> None:
    """Raise the :class:`BadRecordError` of a scan's error code (``offset`` is the byte offset)."""
    if error == OK:
        return
    code = chr(detail) if 0 <= detail < 256 else "?"
    field, reason = {
        ERR_TRUNCATED_PREFIX: ("length", f"truncated: {detail} byte(s) left, a 2-byte length prefix expected"),
        ERR_NO_TYPE: ("message_type", "truncated: a length prefix with no message after it"),
        ERR_UNKNOWN_TYPE: ("message_type", f"unknown message type byte 0x{detail:02x} ({code!r})"),
        ERR_PREFIX_MISMATCH: ("length", f"length prefix {detail} disagrees with the message type's length"),
        ERR_ZERO_PREFIX: ("length", f"length prefix 0 for a {code!r} message in a length-prefixed stream"),
        ERR_NONZERO_PREFIX: ("length", f"length prefix {detail} in a stream whose prefixes are all 0"),
        ERR_TRUNCATED_MESSAGE: ("message", f"truncated: the message needs {detail} bytes"),
        ERR_TRUNCATED_HEADER: ("moldudp64_header", f"truncated: {detail} byte(s) left, a 20-byte header expected"),
    }.get(error, ("message", f"framing error {error}"))
    raise BadRecordError(source, int(offset), field, reason, unit=UNIT)


def as_bytes_array(buffer: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """A read-only 1-D ``uint8`` view of ``buffer`` (no copy for bytes or a contiguous array)."""
    if isinstance(buffer, np.ndarray):
        if buffer.dtype != np.uint8 or buffer.ndim != 1:
            raise TypeError(f"an ITCH buffer array must be 1-D uint8, got {buffer.dtype} with shape {buffer.shape}")
        return np.ascontiguousarray(buffer)
    if isinstance(buffer, bytes | bytearray | memoryview):
        return np.frombuffer(buffer, dtype=np.uint8)
    raise TypeError(f"an ITCH buffer must be bytes or a uint8 array, got {type(buffer).__name__}")


def detect_framing(buf: np.ndarray) -> str:
    """``"binaryfile"`` or ``"moldudp64"`` from the first bytes (``"binaryfile"`` when neither fits).

    A BinaryFILE stream starts with a prefix of 0 or the type's length followed by a known type
    byte; a MoldUDP64 stream starts with a 10-byte printable ASCII session (never a zero byte).
    """
    n = buf.shape[0]
    if n >= 3:
        length = int(LENGTH_TABLE[buf[2]])
        prefix = (int(buf[0]) << 8) | int(buf[1])
        if length and prefix in (0, length):
            return "binaryfile"
    if n >= MOLD_HEADER and bool(np.all((buf[:10] >= 0x20) & (buf[:10] < 0x7F))):
        return "moldudp64"
    return "binaryfile"
