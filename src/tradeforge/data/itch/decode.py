"""Vectorized ITCH 5.0 decoding: bytes -> one numpy structured array per message type.

``decode`` runs two numba passes and then numpy per type and field, never Python per message:

1. the framing scan (:mod:`.framing`) finds every message's byte offset (and, for MoldUDP64, its
   sequence number), stopping at the first framing error with its byte offset;
2. a grouping pass copies each message's bytes into one buffer laid out type by type (rows of a
   type contiguous, in file order), records each message's row within its type, and decodes the
   6-byte timestamps;
3. per type, the grouped bytes are viewed as the type's big-endian wire dtype (``np.frombuffer``,
   no copy) and copied field by field into the native dtype of :data:`.spec.DTYPES`.

The result keeps the file order as two arrays (``types``: the type byte of each message,
``index``: its row in that type's array), so consumers can replay the messages in file order.
"""

from __future__ import annotations

import gzip
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numba
import numpy as np

from tradeforge.data.errors import BadRecordError
from tradeforge.data.itch.framing import (
    UNIT,
    MoldPackets,
    ZeroLengthPrefixWarning,
    as_bytes_array,
    detect_framing,
    raise_scan_error,
    scan_binaryfile,
    scan_moldudp64,
)
from tradeforge.data.itch.spec import DTYPES, LENGTH_TABLE, MESSAGE_TYPES, TYPE_INDEX, WIRE_DTYPES

log = logging.getLogger(__name__)

_N_TYPES = len(MESSAGE_TYPES)
_SIDE_TYPES = ("A", "F", "P")  # types whose buy_sell_indicator must be b"B" or b"S"


# Field operations of the grouping kernel: how one wire field becomes one native field.
_OP_BYTES, _OP_U2, _OP_U4, _OP_U8, _OP_TS = 0, 1, 2, 3, 4


def _op_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per type, the field operations ``(kind, wire offset, native offset, size)`` as flat arrays
    (``start[j]:start[j+1]`` are type ``j``'s) and each type's native row size."""
    kinds: list[int] = []
    src: list[int] = []
    dst: list[int] = []
    size: list[int] = []
    starts = np.zeros(_N_TYPES + 1, np.int64)
    for j, code in enumerate(MESSAGE_TYPES):
        wire, native = WIRE_DTYPES[code], DTYPES[code]
        for name in native.names or ():
            w_dt, w_off = wire.fields[name][:2]
            n_dt, n_off = native.fields[name][:2]
            if name == "timestamp":
                kind = _OP_TS
            elif n_dt.kind == "u":
                kind = {2: _OP_U2, 4: _OP_U4, 8: _OP_U8}[n_dt.itemsize]
            else:
                kind = _OP_BYTES
            kinds.append(kind)
            src.append(w_off)
            dst.append(n_off)
            size.append(w_dt.itemsize)
            if kind != _OP_BYTES:
                assert n_off % n_dt.itemsize == 0 and native.itemsize % 8 == 0, (code, name)
        starts[j + 1] = len(kinds)
    row_sizes = np.array([DTYPES[c].itemsize for c in MESSAGE_TYPES], np.int64)
    return (np.array(kinds, np.int64), np.array(src, np.int64), np.array(dst, np.int64),
            np.array(size, np.int64), starts), row_sizes  # fmt: skip


_OPS, _ROW_SIZES = _op_tables()


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _group(buf: np.ndarray, offsets: np.ndarray, type_index: np.ndarray, op_kind: np.ndarray, op_src: np.ndarray,
           op_dst: np.ndarray, op_size: np.ndarray, op_start: np.ndarray, row_sizes: np.ndarray):  # fmt: skip
    """Decode every message into one zeroed buffer of native (aligned) rows grouped by type, in
    file order within a type; return ``(codes, index, counts, grouped)``."""
    m = offsets.shape[0]
    n_types = row_sizes.shape[0]
    counts = np.zeros(n_types, np.int64)
    codes = np.empty(m, np.uint8)
    for i in range(m):
        t = buf[offsets[i]]
        codes[i] = t
        counts[type_index[t]] += 1
    byte_base = np.zeros(n_types, np.int64)
    for j in range(1, n_types):
        byte_base[j] = byte_base[j - 1] + counts[j - 1] * row_sizes[j - 1]
    total = byte_base[n_types - 1] + counts[n_types - 1] * row_sizes[n_types - 1]
    g8 = np.zeros(total // 8, np.uint64)  # every row size is a multiple of 8
    g1 = g8.view(np.uint8)
    g2 = g8.view(np.uint16)
    g4 = g8.view(np.uint32)
    index = np.empty(m, np.int64)
    fill = np.zeros(n_types, np.int64)
    for i in range(m):  # file order: each message read once, written to its type's next row
        j = type_index[codes[i]]
        r = fill[j]
        fill[j] = r + 1
        index[i] = r
        src = offsets[i]
        dst = byte_base[j] + r * row_sizes[j]
        for o in range(op_start[j], op_start[j + 1]):
            kind = op_kind[o]
            s = src + op_src[o]
            d = dst + op_dst[o]
            if kind == 3:  # u8
                v = np.uint64(0)
                for b in range(8):
                    v = (v << np.uint64(8)) | np.uint64(buf[s + b])
                g8[d >> 3] = v
            elif kind == 2:  # u4
                g4[d >> 2] = (np.uint32(buf[s]) << np.uint32(24)) | (np.uint32(buf[s + 1]) << np.uint32(16)) | (
                    np.uint32(buf[s + 2]) << np.uint32(8)) | np.uint32(buf[s + 3])  # fmt: skip
            elif kind == 1:  # u2
                g2[d >> 1] = (np.uint16(buf[s]) << np.uint16(8)) | np.uint16(buf[s + 1])
            elif kind == 4:  # 6-byte timestamp
                v = np.uint64(0)
                for b in range(6):
                    v = (v << np.uint64(8)) | np.uint64(buf[s + b])
                g8[d >> 3] = v
            else:  # alpha bytes
                for b in range(op_size[o]):
                    g1[d + b] = buf[s + b]
    return codes, index, counts, g1


class ItchMessages:
    """Decoded ITCH messages: one structured array per type plus the file order.

    - ``messages["A"]`` (or ``messages.arrays["A"]``): the Add Order rows, dtype ``spec.DTYPES["A"]``
      (an empty array for a type that did not occur);
    - ``types`` (uint8, one per message in file order): the type byte; ``index`` (int64): the row
      of that message in its type's array; ``offsets`` (int64): the byte offset of its type byte;
    - ``sequence`` (uint64, MoldUDP64 only): each message's sequence number; ``packets``: the
      :class:`~.framing.MoldPackets` (with ``gaps``); ``duplicates``: retransmitted messages dropped;
    - ``zero_prefix``/``notices``: whether the BinaryFILE zero-prefix fallback was used, and why.
    """

    def __init__(
        self,
        source: str,
        framing: str,
        arrays: dict[str, np.ndarray],
        types: np.ndarray,
        index: np.ndarray,
        offsets: np.ndarray,
        bytes_consumed: int,
        *,
        zero_prefix: bool = False,
        notices: list[str] | None = None,
        sequence: np.ndarray | None = None,
        packets: MoldPackets | None = None,
        duplicates: int = 0,
    ) -> None:
        self.source = source
        self.framing = framing
        self.arrays = arrays
        self.types = types
        self.index = index
        self.offsets = offsets
        self.bytes_consumed = bytes_consumed
        self.zero_prefix = zero_prefix
        self.notices = notices or []
        self.sequence = sequence
        self.packets = packets
        self.duplicates = duplicates

    def __len__(self) -> int:
        return int(self.types.shape[0])

    def __getitem__(self, code: str) -> np.ndarray:
        if code not in DTYPES:
            raise KeyError(f"not an ITCH 5.0 message type: {code!r}")
        return self.arrays.get(code, np.empty(0, DTYPES[code]))

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """MoldUDP64 sequence gaps as inclusive ``(first, last)`` ranges (empty for BinaryFILE)."""
        return self.packets.gaps if self.packets is not None else []

    def counts(self) -> dict[str, int]:
        """Messages per type code, for the types that occur."""
        return {code: int(arr.shape[0]) for code, arr in self.arrays.items() if arr.shape[0]}

    def timestamps(self) -> np.ndarray:
        """Each message's timestamp (ns since midnight, uint64) in file order (vectorized gather)."""
        out = np.empty(len(self), np.uint64)
        for code, arr in self.arrays.items():
            mask = self.types == ord(code)
            out[mask] = arr["timestamp"][self.index[mask]]
        return out

    def iter_rows(self) -> Iterator[tuple[str, np.void]]:
        """``(type code, row)`` in file order: a convenience loop for small inputs, not a hot path."""
        chars = [chr(c) for c in range(256)]
        for t, i in zip(self.types.tolist(), self.index.tolist(), strict=True):
            code = chars[t]
            yield code, self.arrays[code][i]

    def to_arrow(self, code: str, *, strip: bool = True) -> Any:
        """One type's rows as a ``pyarrow.Table``: integers as unsigned ints (prices raw), alpha
        fields as strings (latin-1, trailing spaces stripped when ``strip``)."""
        import pyarrow as pa

        arr = self[code]
        columns: dict[str, Any] = {}
        for name in arr.dtype.names or ():
            col = arr[name]
            if col.dtype.kind == "S":
                text = np.char.decode(col, "latin-1")
                if strip:
                    text = np.char.rstrip(text, " ")
                columns[name] = pa.array(text, type=pa.string())
            else:
                columns[name] = pa.array(col)
        return pa.table(columns)

    def __repr__(self) -> str:
        return f"ItchMessages({self.source!r}, {self.framing}, {len(self)} messages, {self.counts()})"


def _split(grouped: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per type, a structured view of its rows in the grouped buffer (no copy)."""
    arrays: dict[str, np.ndarray] = {}
    pos = 0
    for j, code in enumerate(MESSAGE_TYPES):
        k = int(counts[j])
        if k:
            arrays[code] = np.frombuffer(grouped.data, dtype=DTYPES[code], count=k, offset=pos)
            pos += k * int(_ROW_SIZES[j])
    return arrays


def _validate(source: str, arrays: dict[str, np.ndarray], types: np.ndarray, index: np.ndarray,
              offsets: np.ndarray) -> None:  # fmt: skip
    for code in _SIDE_TYPES:
        arr = arrays.get(code)
        if arr is None:
            continue
        side = arr["buy_sell_indicator"]
        bad = np.flatnonzero((side != b"B") & (side != b"S"))
        if bad.size:
            row = int(bad[0])
            pos = int(offsets[np.flatnonzero((types == ord(code)) & (index == row))[0]])
            raise BadRecordError(
                source, pos, "buy_sell_indicator", f"{side[row]!r} in a {code!r} message (expected b'B' or b'S')", UNIT
            )


def decode(
    buffer: bytes | bytearray | memoryview | np.ndarray,
    framing: str = "auto",
    source: str = "<itch>",
    *,
    validate: bool = True,
    keep_duplicates: bool = False,
) -> ItchMessages:
    """Decode an ITCH 5.0 byte stream.

    ``framing``: ``"binaryfile"`` (2-byte length prefixes; an all-zero-prefix file is decoded by
    type lengths with a :class:`ZeroLengthPrefixWarning`), ``"moldudp64"`` (packets laid end to
    end) or ``"auto"`` (sniffed from the first bytes). Any framing error, unknown type byte or
    truncation raises :class:`BadRecordError` naming ``source`` and the byte offset (``unit`` is
    ``"byte offset"``). With ``validate``, a ``buy_sell_indicator`` other than B/S in A, F or P is
    also a :class:`BadRecordError`. Retransmitted MoldUDP64 messages are dropped unless
    ``keep_duplicates``.
    """
    buf = as_bytes_array(buffer)
    if framing == "auto":
        framing = detect_framing(buf)
    notices: list[str] = []
    zero_prefix = False
    sequence = None
    packets = None
    duplicates = 0
    if framing == "binaryfile":
        offsets, zero_prefix, end, error, detail = scan_binaryfile(buf, LENGTH_TABLE)
        raise_scan_error(source, int(error), int(end), int(detail))
        if zero_prefix:
            notice = (
                f"{source}: every BinaryFILE length prefix is 0; {offsets.shape[0]} messages were framed by "
                "their type's length from the ITCH 5.0 spec"
            )
            notices.append(notice)
            log.warning(notice)
            warnings.warn(notice, ZeroLengthPrefixWarning, stacklevel=2)
    elif framing == "moldudp64":
        (offsets, sequence, dup, p_off, p_seq, p_cnt, g_start, g_end, end, error,
         detail) = scan_moldudp64(buf, LENGTH_TABLE)  # fmt: skip
        raise_scan_error(source, int(error), int(end), int(detail))
        session = np.empty(p_off.shape[0], "S10")
        if p_off.shape[0]:
            session[:] = buf[p_off[:, None] + np.arange(10)].view("S10").ravel()
        gaps = [(int(a), int(b)) for a, b in zip(g_start.tolist(), g_end.tolist(), strict=True)]
        packets = MoldPackets(p_off.copy(), p_seq.copy(), p_cnt.copy(), session, gaps)
        duplicates = int(dup.sum())
        if duplicates and not keep_duplicates:
            keep = ~dup
            offsets, sequence = offsets[keep], sequence[keep]
        else:
            sequence = sequence.copy()
        for a, b in gaps:
            notices.append(f"{source}: MoldUDP64 sequence gap, messages {a}..{b} missing")
    else:
        raise ValueError(f"framing must be 'binaryfile', 'moldudp64' or 'auto', not {framing!r}")
    codes, index, counts, grouped = _group(buf, offsets, TYPE_INDEX, *_OPS, _ROW_SIZES)
    arrays = _split(grouped, counts)
    if validate:
        _validate(source, arrays, codes, index, offsets)
    return ItchMessages(
        source, framing, arrays, codes, index, offsets, int(end),
        zero_prefix=zero_prefix, notices=notices, sequence=sequence, packets=packets, duplicates=duplicates,
    )  # fmt: skip


def decode_file(path: str | Path, framing: str = "auto", **kwargs: Any) -> ItchMessages:
    """Read ``path`` (gzip when it ends in ``.gz``) and :func:`decode` it; the source is the path."""
    p = Path(path)
    data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    return decode(data, framing, str(p), **kwargs)
