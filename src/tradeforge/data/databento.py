"""Databento DBN market-by-order (MBO, L3) files: decode, check, convert to events, replay a book.

``load_dbn_mbo(path, ...)`` reads a ``.dbn`` or ``.dbn.zst`` file of schema ``mbo`` into
:class:`MboColumns` (raw fixed-point ``int64`` prices at the instrument's precision, ``ts_recv`` as
``ts_init``). The zstd layer is undone with ``zstandard`` (all frames, output size bounded), the DBN
metadata and records are decoded with ``databento_dbn.DBNDecoder``. Before any byte reaches the
decoder the record framing is checked here (every MBO record is 56 bytes, length byte 14, rtype
0xA0), because the decoder *panics* on a malformed record; so truncated or corrupted input always
ends in a :class:`BadRecordError` naming the byte offset or the record, never in a crash or a hang.

Every record is then checked (action, side, price exact at the instrument precision and on the tick,
positive sizes, one instrument, ``ts_recv`` never decreasing); under ``QUARANTINE`` bad records are
dropped and returned (record = 0-based record index in the file, unit ``"record"``).

Events (:func:`mbo_events`): ``A``/``C``/``M``/``R`` become :class:`OrderBookDelta` (ADD, DELETE or
UPDATE for a partial cancel, UPDATE, CLEAR); ``T`` becomes a :class:`TradeTick` (its side is the
aggressor's). ``F`` records are the per-order fills of a trade: they do not change the book (the
exchange follows them with ``C``/``M``) and are not separate prints (at an auction both sides'
orders get an ``F``), so they produce no event; they stay in the columns.

:class:`MboBook` is a small self-contained L3 book keyed by order id (the general book lives in
``tradeforge.data.book``); :func:`replay_book` drives it from the columns, clearing it when a
snapshot block (flag bit 32) starts.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeforge.data.columns import EventList, TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy
from tradeforge.model.data import Data, OrderBookDelta, TradeTick
from tradeforge.model.enums import AggressorSide, BookAction
from tradeforge.model.instruments import Instrument

__all__ = [
    "F_LAST",
    "F_SNAPSHOT",
    "MBO_DTYPE",
    "MboBook",
    "MboBookError",
    "MboColumns",
    "decode_dbn_mbo",
    "load_dbn_mbo",
    "mbo_deltas",
    "mbo_events",
    "mbo_trades",
    "replay_book",
]

F_LAST = 128  # last record of an event (packet) for this instrument: the book is consistent here
F_TOB = 64
F_SNAPSHOT = 32  # record belongs to a book snapshot
F_MBP = 16
F_BAD_TS_RECV = 8

UNDEF_PRICE = 2**63 - 1
DBN_PRICE_PRECISION = 9
MAX_DECOMPRESSED = 4 << 30  # refuse to inflate more than 4 GiB (a corrupted or hostile file)

ACTION_ADD, ACTION_CANCEL, ACTION_MODIFY = ord("A"), ord("C"), ord("M")
ACTION_CLEAR, ACTION_TRADE, ACTION_FILL, ACTION_NONE = ord("R"), ord("T"), ord("F"), ord("N")
_ACTIONS = np.array([ACTION_ADD, ACTION_CANCEL, ACTION_MODIFY, ACTION_CLEAR, ACTION_TRADE, ACTION_FILL,
                     ACTION_NONE], dtype=np.uint8)
_PRICED = np.array([ACTION_ADD, ACTION_CANCEL, ACTION_MODIFY, ACTION_TRADE, ACTION_FILL], dtype=np.uint8)
_BOOK_SIDED = np.array([ACTION_ADD, ACTION_CANCEL, ACTION_MODIFY], dtype=np.uint8)
_SIDE_CODES = {ord("B"): 1, ord("A"): -1, ord("N"): 0}

#: Layout of one DBN MBO record (``MboMsg``: the 16-byte record header, then the body); 56 bytes
#: in DBN versions 1 to 3, little-endian.
MBO_DTYPE = np.dtype([
    ("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"),
    ("ts_event", "<u8"), ("order_id", "<u8"), ("price", "<i8"), ("size", "<u4"), ("flags", "u1"),
    ("channel_id", "u1"), ("action", "u1"), ("side", "u1"), ("ts_recv", "<u8"), ("ts_in_delta", "<i4"),
    ("sequence", "<u4"),
])
assert MBO_DTYPE.itemsize == 56
_RTYPE_MBO = 0xA0
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)
_PREFIX = 8  # b"DBN" + version byte + u32 metadata length


@dataclass(frozen=True, eq=False)
class MboColumns:
    """Market-by-order records of one instrument, in file order.

    ``action`` holds ASCII codes (``ord("A")`` ...), ``side`` is 1 bid, -1 ask, 0 none; ``price`` is raw
    at the instrument's precision (0 where the record has no price); ``record`` is each row's 0-based
    record index in the file (rows dropped under quarantine leave holes).
    """

    instrument_id: str
    symbol: str
    ts_event: np.ndarray
    ts_init: np.ndarray  # DBN ts_recv
    action: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    order_id: np.ndarray  # uint64
    flags: np.ndarray
    sequence: np.ndarray
    channel_id: np.ndarray
    raw_instrument_id: np.ndarray  # the venue's numeric id (DBN instrument_id)
    record: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_init)

    def take(self, idx: np.ndarray) -> MboColumns:
        """The rows ``idx`` (an index array or boolean mask)."""
        arrays = {k: v[idx] for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        return MboColumns(self.instrument_id, self.symbol, **arrays)

    def action_counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.action, return_counts=True)
        return {chr(int(c)): int(n) for c, n in zip(codes, counts, strict=True)}


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _file_error(source: str, offset: int, reason: str, field: str = "<file>") -> BadRecordError:
    return BadRecordError(source, offset, field, reason, unit="byte")


def _decompress(data: bytes, source: str, max_bytes: int) -> bytes:
    """Inflate every zstd frame of ``data`` (plain DBN bytes are returned as they are)."""
    magic = int.from_bytes(data[:4], "little") if len(data) >= 4 else -1
    if data[:4] != _ZSTD_MAGIC and magic not in _ZSTD_SKIPPABLE:
        return data
    import zstandard

    out = bytearray()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        while True:
            chunk = reader.read(1 << 20)
            if not chunk:
                break
            out += chunk
            if len(out) > max_bytes:
                raise _file_error(source, 0, f"decompresses to more than {max_bytes} bytes")
    except zstandard.ZstdError as exc:
        raise _file_error(source, 0, f"corrupt zstd data after {len(out)} decompressed bytes: {exc}") from None
    return bytes(out)


def _run_decoder(source: str, offset: int, what: str, call: Callable[[], list]) -> list:
    """Run a ``DBNDecoder`` call, turning its errors (and Rust panics) into :class:`BadRecordError`."""
    try:
        return call()
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except BaseException as exc:  # DBNError, and pyo3's PanicException (a BaseException)
        raise _file_error(source, offset, f"DBN decoder rejected the {what}: {type(exc).__name__}: {exc}",
                          "<metadata>" if what == "metadata" else "<record>") from None


def _decode_metadata(data: bytes, source: str):
    import databento_dbn as dbn

    if len(data) < _PREFIX or data[:3] != b"DBN":
        raise _file_error(source, 0, "not a DBN stream (no 'DBN' signature)")
    version = data[3]
    if not 1 <= version <= 3:
        raise _file_error(source, 3, f"unsupported DBN version {version}")
    meta_len = int.from_bytes(data[4:8], "little")
    end = _PREFIX + meta_len
    if end > len(data):
        raise _file_error(source, 4, f"truncated metadata: it declares {meta_len} bytes, {len(data) - _PREFIX} present")
    decoder = dbn.DBNDecoder()
    items = _run_decoder(source, 0, "metadata", lambda: decoder.write_and_decode(data[:end]))
    if len(items) != 1 or not isinstance(items[0], dbn.Metadata):
        raise _file_error(source, 0, "could not decode the DBN metadata", "<metadata>")
    meta = items[0]
    if str(meta.schema) != "mbo":
        raise _file_error(source, 0, f"schema is {meta.schema}, expected mbo", "<metadata>")
    if meta.ts_out:
        raise _file_error(source, 0, "records with ts_out are not supported", "<metadata>")
    return meta, end, version


def _decode_records(body: bytes, source: str, version: int, offset: int) -> np.ndarray:
    """Decode framed MBO records with ``DBNDecoder`` into a structured array (``MBO_DTYPE``)."""
    import databento_dbn as dbn

    if not body:
        return np.zeros(0, dtype=MBO_DTYPE)
    decoder = dbn.DBNDecoder(has_metadata=False, input_version=version)
    records = _run_decoder(source, offset, "records", lambda: decoder.write_and_decode(body))
    if len(records) * MBO_DTYPE.itemsize != len(body) or decoder.buffer():
        raise _file_error(source, offset, "DBN decoder did not consume every record", "<record>")
    return np.frombuffer(b"".join(map(bytes, records)), dtype=MBO_DTYPE)


class _Checks:
    """First failing check per record wins (checks run in field order)."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int32)
        self.reasons: list[tuple[str, Callable[[int], str]]] = []

    @property
    def ok(self) -> np.ndarray:
        return self.code < 0

    def flag(self, mask: np.ndarray, field: str, reason: Callable[[int], str]) -> None:
        mask = np.asarray(mask, dtype=bool) & (self.code < 0)
        if mask.any():
            self.code[mask] = len(self.reasons)
            self.reasons.append((field, reason))


def decode_dbn_mbo(
    data: bytes,
    *,
    instrument: Instrument,
    source: str = "<bytes>",
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
    max_decompressed: int = MAX_DECOMPRESSED,
) -> tuple[MboColumns, list[BadRecord]]:
    """Decode DBN MBO bytes (zstd-compressed or not); see :func:`load_dbn_mbo`."""
    data = _decompress(bytes(data), source, max_decompressed)
    meta, start, version = _decode_metadata(data, source)
    size = MBO_DTYPE.itemsize
    n_full, tail = divmod(len(data) - start, size)
    raw = np.frombuffer(data, dtype=MBO_DTYPE, count=n_full, offset=start)
    checks = _Checks(n_full)
    flag = checks.flag
    # Framing first: only well-framed MBO records are handed to the decoder (it panics otherwise).
    flag(raw["length"] != size // 4, "length", lambda i: f"record length byte {raw['length'][i]} is not {size // 4}"
         " (an MBO record is 56 bytes): corrupt framing")
    flag(raw["rtype"] != _RTYPE_MBO, "rtype", lambda i: f"rtype 0x{raw['rtype'][i]:02X} is not MBO (0xA0)")
    framed = np.flatnonzero(checks.ok)
    decoded = np.zeros(n_full, dtype=MBO_DTYPE)
    decoded[framed] = _decode_records(raw[framed].tobytes(), source, version, start)
    rec = decoded
    action, side_code = rec["action"], rec["side"]
    # One instrument: the one the metadata maps the symbol to, else the first record's.
    ids = _mapped_ids(meta)
    wanted = ids[0] if len(ids) == 1 else (int(rec["instrument_id"][framed[0]]) if len(framed) else 0)
    flag(rec["instrument_id"] != wanted, "instrument_id",
         lambda i: f"instrument_id {rec['instrument_id'][i]} is not this file's instrument {wanted}")
    flag(~np.isin(action, _ACTIONS), "action", lambda i: f"unknown action {_char(action[i])}")
    flag(~np.isin(side_code, np.array([ord("A"), ord("B"), ord("N")], dtype=np.uint8)), "side",
         lambda i: f"unknown side {_char(side_code[i])}")
    flag(np.isin(action, _BOOK_SIDED) & (side_code == ord("N")), "side",
         lambda i: f"action {_char(action[i])} needs side A or B, found N")
    priced = np.isin(action, _PRICED)
    price = rec["price"]
    scale = 10 ** (DBN_PRICE_PRECISION - instrument.price_precision)
    flag(priced & (price == UNDEF_PRICE), "price", lambda i: "price is undefined")
    flag(priced & (price <= 0), "price", lambda i: f"non-positive price {price[i] / 1e9!r}")
    flag(priced & (price % scale != 0), "price",
         lambda i: f"price {price[i] / 1e9!r} has more than {instrument.price_precision} decimal places")
    price_raw = np.where(priced & checks.ok, price // scale, 0)
    flag(priced & (price_raw % instrument.tick_size_raw != 0), "price",
         lambda i: f"price {price[i] / 1e9!r} is off the tick grid")
    size_raw = rec["size"].astype(np.int64) * 10**instrument.size_precision
    flag(priced & (size_raw <= 0), "size", lambda i: "size is zero")
    flag(priced & (size_raw % instrument.lot_size_raw != 0), "size", lambda i: f"size {rec['size'][i]} is off the lot grid")
    ts_recv = rec["ts_recv"].astype(np.int64)
    ok_idx = np.flatnonzero(checks.ok)
    if len(ok_idx) > 1:
        running = np.maximum.accumulate(ts_recv[ok_idx])
        late = np.zeros(n_full, dtype=bool)
        late[ok_idx[1:]] = ts_recv[ok_idx[1:]] < running[:-1]
        flag(late, "ts_recv", lambda i: f"ts_recv {ts_recv[i]} is before an earlier record's")

    bad: list[BadRecord] = []
    for i in np.flatnonzero(~checks.ok).tolist():
        field, reason = checks.reasons[checks.code[i]]
        record = BadRecord(source, i, field, reason(i), _raw_text(rec[i] if field not in ("length", "rtype")
                                                                    else raw[i]), "record")
        if policy is BadRecordPolicy.RAISE:
            raise record.to_error()
        bad.append(record)
    if tail:
        record = BadRecord(source, n_full, "<record>", f"truncated: the last record has {tail} of {size} bytes",
                           data[start + n_full * size:].hex(), "record")
        if policy is BadRecordPolicy.RAISE:
            raise record.to_error()
        bad.append(record)

    keep = np.flatnonzero(checks.ok)
    r = rec[keep]
    sides = np.zeros(256, dtype=np.int8)
    for code, value in _SIDE_CODES.items():
        sides[code] = value
    columns = MboColumns(
        instrument_id=str(instrument.id),
        symbol=meta.symbols[0] if len(meta.symbols) == 1 else "",
        ts_event=r["ts_event"].astype(np.int64),
        ts_init=r["ts_recv"].astype(np.int64),
        action=r["action"].copy(),
        side=sides[r["side"]],
        price=price_raw[keep].astype(np.int64),
        size=size_raw[keep],
        order_id=r["order_id"].copy(),
        flags=r["flags"].copy(),
        sequence=r["sequence"].astype(np.int64),
        channel_id=r["channel_id"].copy(),
        raw_instrument_id=r["instrument_id"].copy(),
        record=keep.astype(np.int64),
    )
    return columns, bad


def _char(code: int) -> str:
    c = int(code)
    return repr(chr(c)) if 32 <= c < 127 else f"0x{c:02X}"


def _raw_text(row: np.void) -> str:
    return ", ".join(f"{name}={row[name]}" for name in MBO_DTYPE.names)


def _mapped_ids(meta) -> list[int]:
    ids: set[int] = set()
    try:
        for intervals in meta.mappings.values():
            for interval in intervals:
                ids.add(int(interval["symbol"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return []
    return sorted(ids)


def load_dbn_mbo(
    path: str | Path,
    *,
    instrument: Instrument,
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
    max_decompressed: int = MAX_DECOMPRESSED,
) -> tuple[MboColumns, list[BadRecord]]:
    """Load a Databento MBO file (``.dbn`` or ``.dbn.zst``) of one instrument into :class:`MboColumns`.

    Prices (1e-9 fixed point in DBN) become raw integers at ``instrument.price_precision`` and must
    be exact there and on the tick; sizes are contracts scaled to the size precision. File-level
    faults (not DBN, corrupt zstd, bad metadata) raise :class:`BadRecordError` with ``unit="byte"``
    whatever the policy; record faults follow ``policy``.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    return decode_dbn_mbo(data, instrument=instrument, source=str(path), policy=policy,
                          max_decompressed=max_decompressed)


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


_AGGRESSOR = {1: AggressorSide.BUYER, -1: AggressorSide.SELLER, 0: AggressorSide.NONE}


def mbo_trades(columns: MboColumns) -> TradeColumns:
    """``T`` records as trade prints (aggressor from the side; trade id = the file record index)."""
    idx = np.flatnonzero(columns.action == ACTION_TRADE)
    return TradeColumns(columns.instrument_id, columns.ts_event[idx], columns.ts_init[idx], columns.price[idx],
                        columns.size[idx], columns.side[idx].astype(np.int64), columns.record[idx])


def _events(columns: MboColumns, with_trades: bool) -> list[Data]:
    iid = columns.instrument_id
    resting: dict[int, int] = {}
    out: list[Data] = []
    rows = zip(columns.action.tolist(), columns.side.tolist(), columns.price.tolist(), columns.size.tolist(),
               columns.order_id.tolist(), columns.sequence.tolist(), columns.ts_event.tolist(),
               columns.ts_init.tolist(), columns.record.tolist(), strict=True)
    for action, side, price, size, oid, seq, te, ti, rec in rows:
        if action == ACTION_ADD:
            resting[oid] = size
            out.append(OrderBookDelta(iid, BookAction.ADD, side, price, size, oid, seq, te, ti))
        elif action == ACTION_CANCEL:
            left = resting.get(oid, size) - size
            if left > 0:  # partial cancel: the order stays with the rest
                resting[oid] = left
                out.append(OrderBookDelta(iid, BookAction.UPDATE, side, price, left, oid, seq, te, ti))
            else:
                resting.pop(oid, None)
                out.append(OrderBookDelta(iid, BookAction.DELETE, side, price, size, oid, seq, te, ti))
        elif action == ACTION_MODIFY:
            resting[oid] = size
            out.append(OrderBookDelta(iid, BookAction.UPDATE, side, price, size, oid, seq, te, ti))
        elif action == ACTION_CLEAR:
            resting.clear()
            out.append(OrderBookDelta(iid, BookAction.CLEAR, 0, 0, 0, 0, seq, te, ti))
        elif action == ACTION_TRADE and with_trades:
            out.append(TradeTick(iid, price, size, _AGGRESSOR[side], str(rec), te, ti))
    return out


def mbo_deltas(columns: MboColumns) -> EventList:
    """``A``/``C``/``M``/``R`` records as :class:`OrderBookDelta` events, in file order.

    ``C`` that removes the whole order is DELETE (size: the cancelled size); a partial ``C`` is an
    UPDATE to the remaining size; ``M`` is UPDATE (new price and size); ``R`` is CLEAR.
    """
    return EventList.of(_events(columns, False), columns.instrument_id)


def mbo_events(columns: MboColumns) -> EventList:
    """Book deltas and ``T`` trade prints interleaved in file order (``F``/``N`` give no event)."""
    return EventList.of(_events(columns, True), columns.instrument_id)


# --------------------------------------------------------------------------------------------
# A small L3 book
# --------------------------------------------------------------------------------------------


class MboBookError(ValueError):
    """A book action that the book cannot apply (unknown order, over-cancel, duplicate add)."""


class MboBook:
    """Orders by id, sizes by price level, best prices through lazy heaps.

    Sizes are raw integers; an order's size is always positive (a cancel of more than rests raises,
    so the book can never hold a negative size).
    """

    __slots__ = ("_ask_heap", "_bid_heap", "asks", "bids", "orders")

    def __init__(self) -> None:
        self.orders: dict[int, tuple[int, int, int]] = {}  # order id -> (side, price, size)
        self.bids: dict[int, int] = {}  # price -> total size
        self.asks: dict[int, int] = {}
        self._bid_heap: list[int] = []  # -price
        self._ask_heap: list[int] = []

    def __len__(self) -> int:
        return len(self.orders)

    def clear(self) -> None:
        self.orders.clear()
        self.bids.clear()
        self.asks.clear()
        self._bid_heap.clear()
        self._ask_heap.clear()

    def _level_add(self, side: int, price: int, size: int) -> None:
        levels = self.bids if side > 0 else self.asks
        total = levels.get(price, 0) + size
        if total:
            if price not in levels:
                heapq.heappush(self._bid_heap if side > 0 else self._ask_heap, -price if side > 0 else price)
            levels[price] = total
        else:
            del levels[price]

    def add(self, order_id: int, side: int, price: int, size: int) -> None:
        if side not in (1, -1):
            raise MboBookError(f"order {order_id}: side {side} is not 1 (bid) or -1 (ask)")
        if size <= 0:
            raise MboBookError(f"order {order_id}: add with size {size}")
        if order_id in self.orders:
            raise MboBookError(f"order {order_id} added twice")
        self.orders[order_id] = (side, price, size)
        self._level_add(side, price, size)

    def cancel(self, order_id: int, size: int) -> None:
        """Remove ``size`` from the order (all of it removes the order)."""
        try:
            side, price, resting = self.orders[order_id]
        except KeyError:
            raise MboBookError(f"cancel of unknown order {order_id}") from None
        if size <= 0 or size > resting:
            raise MboBookError(f"order {order_id}: cancel of {size} but {resting} rests")
        self._level_add(side, price, -size)
        if size == resting:
            del self.orders[order_id]
        else:
            self.orders[order_id] = (side, price, resting - size)

    def modify(self, order_id: int, side: int, price: int, size: int) -> None:
        """Set the order's price and size (an unknown order is added, as Databento documents)."""
        if size <= 0:
            raise MboBookError(f"order {order_id}: modify to size {size}")
        old = self.orders.pop(order_id, None)
        if old is not None:
            self._level_add(old[0], old[1], -old[2])
        self.add(order_id, side, price, size)

    def apply(self, action: int, side: int, price: int, size: int, order_id: int) -> None:
        """Apply one MBO action code; ``T``, ``F`` and ``N`` leave the book as it is."""
        if action == ACTION_ADD:
            self.add(order_id, side, price, size)
        elif action == ACTION_CANCEL:
            self.cancel(order_id, size)
        elif action == ACTION_MODIFY:
            self.modify(order_id, side, price, size)
        elif action == ACTION_CLEAR:
            self.clear()

    def best_bid(self) -> tuple[int, int] | None:
        heap, levels = self._bid_heap, self.bids
        while heap and -heap[0] not in levels:
            heapq.heappop(heap)
        return (-heap[0], levels[-heap[0]]) if heap else None

    def best_ask(self) -> tuple[int, int] | None:
        heap, levels = self._ask_heap, self.asks
        while heap and heap[0] not in levels:
            heapq.heappop(heap)
        return (heap[0], levels[heap[0]]) if heap else None

    def depth(self, side: int, n: int = 10) -> list[tuple[int, int]]:
        """The best ``n`` levels of one side as ``(price, size)``."""
        levels = self.bids if side > 0 else self.asks
        prices = sorted(levels, reverse=side > 0)[:n]
        return [(p, levels[p]) for p in prices]

    def check_invariant(self) -> None:
        """Recompute the levels from the orders; raise if they disagree or any size is not positive."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for oid, (side, price, size) in self.orders.items():
            if size <= 0:
                raise MboBookError(f"order {oid} holds size {size}")
            levels = bids if side > 0 else asks
            levels[price] = levels.get(price, 0) + size
        if bids != self.bids or asks != self.asks:
            raise MboBookError("price levels disagree with the orders")


def replay_book(columns: MboColumns, book: MboBook | None = None) -> Iterator[tuple[int, MboBook]]:
    """Apply every record to ``book``; yield ``(row, book)`` after each record flagged ``F_LAST``.

    The book is cleared when a snapshot block (flag bit 32) begins, so a snapshot rebuilds it.
    Errors name the row and the file record.
    """
    book = MboBook() if book is None else book
    in_snapshot = False
    rows = zip(columns.action.tolist(), columns.side.tolist(), columns.price.tolist(), columns.size.tolist(),
               columns.order_id.tolist(), columns.flags.tolist(), strict=True)
    for i, (action, side, price, size, oid, flags) in enumerate(rows):
        snapshot = bool(flags & F_SNAPSHOT)
        if snapshot and not in_snapshot:
            book.clear()
        in_snapshot = snapshot
        try:
            book.apply(action, side, price, size, oid)
        except MboBookError as exc:
            raise MboBookError(f"row {i} (record {int(columns.record[i])}): {exc}") from None
        if flags & F_LAST:
            yield i, book
