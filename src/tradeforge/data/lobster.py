"""LOBSTER message and orderbook files: read them into columns and rebuild the book.

LOBSTER (lobsterdata.com) writes, per ticker and day, a *message* file (``time, type, order_id,
size, price, direction``; no header) and an *orderbook* file (``ask_price_1, ask_size_1,
bid_price_1, bid_size_1, ...`` after each message). ``time`` is seconds after midnight (local, New
York) with up to nine decimals; prices are dollars x 10000 (raw integers at precision 4); message
types are 1 submit, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden execution, 6 cross
trade, 7 trading halt. Both readers are vectorized (pyarrow string kernels, numpy) and check every
line; a bad line is reported with file, line and field, raising :class:`BadRecordError` or
quarantined.

**Rebuilding the book.** A LOBSTER file of *N* levels holds only the messages that changed the
book's first *N* levels: an order submitted deeper than level *N* is never shown, nor are its
cancels while it stays there. So when a message empties the touch, the level that becomes the
touch is generally not derivable from the messages (in the AMZN level-1 sample 13,953 of 57,515
messages do that), and orders resting since before the start time are unknown. :func:`rebuild_book`
therefore replays the messages on an :class:`~tradeforge.data.book.L3Book` whose unknown order ids
act on the level's *unattributed* size, and, given the orderbook file, takes exactly those revealed
levels from it; every other row must then match the file, and any that does not is counted as a
mismatch (0 on the AMZN sample).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradeforge.data.book.l3 import (
    MISMATCH_ASK,
    MISMATCH_BID,
    REVEAL_ASK,
    REVEAL_BID,
    Action,
    BookUpdates,
    L3Book,
    UnknownOrderPolicy,
)
from tradeforge.data.columns import TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordPolicy

__all__ = [
    "LobsterMessages",
    "LobsterOrderbook",
    "LobsterReplay",
    "book_actions",
    "read_lobster_messages",
    "read_lobster_orderbook",
    "rebuild_book",
    "trade_columns",
]

PathLike = str | Path

PRICE_PRECISION = 4  # dollars x 10000
MESSAGE_FIELDS = ("time", "type", "order_id", "size", "price", "direction")
_ROW = "<row>"
_INT_RE = r"^-?[0-9]{1,18}$"
_UINT_RE = r"^[0-9]{1,18}$"
_TIME_RE = r"^[0-9]{1,6}(\.[0-9]{1,9})?$"
_NAME_RE = re.compile(r"(?P<ticker>[^_/\\]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_(?:message|orderbook)_(?P<levels>\d+)")
_NANOS_PER_DAY = 86_400 * 10**9
# LOBSTER message type -> book action
_ACTIONS = np.array([Action.NONE, Action.ADD, Action.CANCEL, Action.DELETE, Action.EXECUTE,
                     Action.NONE, Action.NONE, Action.NONE], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class LobsterMessages:
    """Columns of a message file; ``line`` is each row's 1-based line in the file."""

    source: str
    line: np.ndarray
    ts_event: np.ndarray  # UNIX ns
    time_ns: np.ndarray  # ns after local midnight, as in the file
    type: np.ndarray
    order_id: np.ndarray
    size: np.ndarray
    price: np.ndarray
    direction: np.ndarray

    def __len__(self) -> int:
        return len(self.line)


@dataclass(frozen=True, eq=False)
class LobsterOrderbook:
    """Columns of an orderbook file, each ``(n, levels)``; empty levels are LOBSTER's dummies
    (ask 9999999999, bid -9999999999, size 0)."""

    source: str
    line: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray
    bid_price: np.ndarray
    bid_size: np.ndarray

    def __len__(self) -> int:
        return len(self.line)

    @property
    def levels(self) -> int:
        return self.ask_price.shape[1]


@dataclass(frozen=True, eq=False)
class LobsterReplay:
    """The rebuilt book, what each message changed, and the level-one check's verdicts."""

    book: L3Book
    updates: BookUpdates
    reveals: np.ndarray  # message indices whose new touch came from the orderbook file
    mismatches: np.ndarray  # message indices where the book disagreed with the file otherwise


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def _lines(path: PathLike) -> tuple[str, pa.Array, np.ndarray, np.ndarray, list[bytes]]:
    source = str(path)
    with pa.input_stream(source, compression="detect") as stream:
        data = stream.read()
    lines = data.splitlines()
    binary = pa.array(lines, pa.binary())
    invalid = np.zeros(len(lines), dtype=bool)
    try:
        text = binary.cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        texts = []
        for i, raw in enumerate(lines):  # error path only
            try:
                texts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append("")
                invalid[i] = True
        text = pa.array(texts, pa.string())
    blank = pc.match_substring_regex(text, r"^\s*$").to_numpy(zero_copy_only=False) & ~invalid
    return source, text, invalid, blank, lines


class _Verdicts:
    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, np.int32)
        self.reasons: list[tuple[str, str]] = []

    def flag(self, mask: np.ndarray, field: str, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & (self.code < 0)
        if mask.any():
            self.code[mask] = len(self.reasons)
            self.reasons.append((field, reason))

    def finish(self, source: str, lines: list[bytes], policy: BadRecordPolicy) -> tuple[np.ndarray, list[BadRecord]]:
        bad = np.flatnonzero(self.code >= 0)
        out = []
        for i in bad.tolist():
            field, reason = self.reasons[self.code[i]]
            rec = BadRecord(source, i + 1, field, reason, lines[i].decode("utf-8", "replace"))
            if policy is BadRecordPolicy.RAISE:
                raise rec.to_error()
            out.append(rec)
        return self.code < 0, out


def _split(text: pa.Array, ncols: int, v: _Verdicts, invalid: np.ndarray, blank: np.ndarray) -> list[pa.Array]:
    n = len(text)
    v.flag(invalid, _ROW, "not valid UTF-8 text")
    v.flag(blank, _ROW, "empty line")
    nfields = pc.count_substring(text, ",").to_numpy(zero_copy_only=False) + 1
    wrong = nfields != ncols
    if wrong.any():
        first = int(np.flatnonzero(wrong & (v.code < 0))[0]) if (wrong & (v.code < 0)).any() else -1
        v.flag(wrong, _ROW, f"expected {ncols} comma-separated fields"
               + (f" (line {first + 1} has {int(nfields[first])})" if first >= 0 else ""))
    text = pc.if_else(pa.array(v.code < 0), text, pa.scalar(",".join(["0"] * ncols)))
    flat = pc.utf8_trim_whitespace(pc.list_flatten(pc.split_pattern(text, ",")))
    return [flat.take(pa.array(np.arange(j, n * ncols, ncols, dtype=np.int64))) for j in range(ncols)]


def _ints(col: pa.Array, field: str, v: _Verdicts, regex: str = _INT_RE) -> np.ndarray:
    ok = pc.match_substring_regex(col, regex).to_numpy(zero_copy_only=False)
    v.flag(~ok, field, "not an integer" if regex == _INT_RE else "not a non-negative integer")
    clean = pc.if_else(pa.array(ok & (v.code < 0)), col, pa.scalar("0"))
    return pc.cast(clean, pa.int64()).to_numpy(zero_copy_only=False)


def _date_of(source: str, date: str | Date | None) -> Date:
    if isinstance(date, Date):
        return date
    if isinstance(date, str):
        return Date.fromisoformat(date)
    m = _NAME_RE.search(Path(source).name)
    if not m:
        raise ValueError(f"{source}: no date in the file name; pass date=")
    return Date.fromisoformat(m.group("date"))


def _midnight_utc_ns(day: Date, timezone: str) -> int:
    """UNIX ns of local midnight, using the UTC offset at local noon (the session's offset)."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(timezone))
    offset = noon.utcoffset()
    assert offset is not None
    epoch_days = (day - Date(1970, 1, 1)).days
    return epoch_days * _NANOS_PER_DAY - int(offset.total_seconds()) * 10**9


def read_lobster_messages(
    path: PathLike,
    *,
    date: str | Date | None = None,
    timezone: str = "America/New_York",
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> tuple[LobsterMessages, list[BadRecord]]:
    """Read a message file (``.csv`` or compressed, e.g. ``.csv.gz``) into columns.

    ``date`` defaults to the one in LOBSTER's file name (``TICKER_YYYY-MM-DD_...``). Checks per
    line: six fields; ``time`` seconds with at most 9 decimals and not before the previous line's;
    ``type`` 1..7; ``order_id``, ``size`` non-negative integers; ``price`` and ``direction``
    (-1/1) integers; types 1-6 with positive size and price, types 1-4 with a positive order id;
    type 7 (halt) with order id 0, size 0, price -1/0/1. Returns the columns of the good lines and
    the quarantined records (always empty under ``RAISE``).
    """
    source, text, invalid, blank, lines = _lines(path)
    day = _date_of(source, date)
    base = _midnight_utc_ns(day, timezone)
    v = _Verdicts(len(text))
    t_col, ty_col, id_col, sz_col, px_col, dir_col = _split(text, 6, v, invalid, blank)
    ok_t = pc.match_substring_regex(t_col, _TIME_RE).to_numpy(zero_copy_only=False)
    v.flag(~ok_t, "time", "not seconds after midnight with at most 9 decimals")
    t_clean = pc.if_else(pa.array(v.code < 0), t_col, pa.scalar("0"))
    parts = pc.extract_regex(t_clean, r"^(?P<s>[0-9]+)(?:\.(?P<f>[0-9]*))?$")
    secs = pc.cast(pc.struct_field(parts, "s"), pa.int64()).to_numpy(zero_copy_only=False)
    frac = pc.cast(pc.utf8_rpad(pc.struct_field(parts, "f"), 9, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    time_ns = secs * 10**9 + frac
    v.flag(time_ns >= _NANOS_PER_DAY, "time", "at or after the end of the day")
    typ = _ints(ty_col, "type", v, _UINT_RE)
    v.flag((typ < 1) | (typ > 7), "type", "not a LOBSTER message type 1..7")
    oid = _ints(id_col, "order_id", v, _UINT_RE)
    size = _ints(sz_col, "size", v, _UINT_RE)
    price = _ints(px_col, "price", v)
    direction = _ints(dir_col, "direction", v)
    v.flag((direction != 1) & (direction != -1), "direction", "not -1 (sell) or 1 (buy)")
    halt = typ == 7
    v.flag(~halt & (typ <= 4) & (oid <= 0), "order_id", "must be positive for message types 1-4")
    v.flag(~halt & (size <= 0), "size", "must be positive")
    v.flag(~halt & (price <= 0), "price", "must be positive")
    v.flag(halt & (oid != 0), "order_id", "must be 0 for a trading halt (type 7)")
    v.flag(halt & (size != 0), "size", "must be 0 for a trading halt (type 7)")
    v.flag(halt & ((price < -1) | (price > 1)), "price", "must be -1, 0 or 1 for a trading halt (type 7)")
    # time order among the good lines
    good = np.flatnonzero(v.code < 0)
    if len(good) > 1:
        back = np.flatnonzero(time_ns[good][1:] < time_ns[good][:-1])
        if len(back):
            mask = np.zeros(len(text), dtype=bool)
            mask[good[back + 1]] = True
            v.flag(mask, "time", "before the previous line's time")
    keep, bad = v.finish(source, lines, policy)
    idx = np.flatnonzero(keep)
    msgs = LobsterMessages(
        source, idx + 1, base + time_ns[idx], time_ns[idx], typ[idx], oid[idx], size[idx], price[idx], direction[idx]
    )
    return msgs, bad


def read_lobster_orderbook(
    path: PathLike, *, policy: BadRecordPolicy = BadRecordPolicy.RAISE
) -> tuple[LobsterOrderbook, list[BadRecord]]:
    """Read an orderbook file (``4 x levels`` integer columns, no header) into ``(n, levels)`` arrays.

    The number of levels comes from the file name (``..._orderbook_N``) or else the first line.
    Checks: the field count; integers; sizes non-negative; an empty level (size 0) carries the
    dummy price; a non-empty side is not crossed at level one.
    """
    source, text, invalid, blank, lines = _lines(path)
    m = _NAME_RE.search(Path(source).name)
    if m:
        levels = int(m.group("levels"))
    else:
        first = next((t for t in text.to_pylist() if t and t.strip()), "")
        levels = max(1, (first.count(",") + 1) // 4)
    v = _Verdicts(len(text))
    cols = _split(text, 4 * levels, v, invalid, blank)
    names = [f"{k}_{lv}" for lv in range(1, levels + 1) for k in ("ask_price", "ask_size", "bid_price", "bid_size")]
    arrs = [_ints(c, name, v) for c, name in zip(cols, names, strict=True)]
    for j, name in enumerate(names):
        if "size" in name:
            v.flag(arrs[j] < 0, name, "negative size")
    ap = np.stack(arrs[0::4], axis=1)
    asz = np.stack(arrs[1::4], axis=1)
    bp = np.stack(arrs[2::4], axis=1)
    bsz = np.stack(arrs[3::4], axis=1)
    both = (asz[:, 0] > 0) & (bsz[:, 0] > 0)
    v.flag(both & (bp[:, 0] >= ap[:, 0]), "bid_price_1", "crossed: best bid at or above best ask")
    keep, bad = v.finish(source, lines, policy)
    idx = np.flatnonzero(keep)
    return LobsterOrderbook(source, idx + 1, ap[idx], asz[idx], bp[idx], bsz[idx]), bad


# --------------------------------------------------------------------------------------------
# the book
# --------------------------------------------------------------------------------------------


def book_actions(messages: LobsterMessages) -> np.ndarray:
    """The :class:`~tradeforge.data.book.Action` of each message (5, 6, 7 change nothing)."""
    return _ACTIONS[messages.type]


def rebuild_book(
    messages: LobsterMessages,
    orderbook: LobsterOrderbook | None = None,
    *,
    instrument_id: str = "",
    unknown: UnknownOrderPolicy | None = None,
) -> LobsterReplay:
    """Replay the messages on an :class:`L3Book`.

    With ``orderbook`` (rows matched to messages by line number) the level-one check runs: after
    each message the touch is compared with the file; where the message emptied the touch (or the
    side was empty) the new touch is *revealed* from the file (its size beyond the known orders
    becomes unattributed); any other difference is a *mismatch* (re-synced, and reported).
    Unknown order ids then act on unattributed size (``UnknownOrderPolicy.LEVEL``). Without
    ``orderbook`` they default to ``IGNORE``.
    """
    if unknown is None:
        unknown = UnknownOrderPolicy.IGNORE if orderbook is None else UnknownOrderPolicy.LEVEL
    book = L3Book(instrument_id, unknown=unknown, capacity=max(1024, len(messages) // 4))
    expect = None
    if orderbook is not None:
        pos = np.searchsorted(orderbook.line, messages.line)
        pos = np.minimum(pos, max(len(orderbook) - 1, 0))
        if len(orderbook) == 0 or not np.array_equal(orderbook.line[pos], messages.line):
            missing = messages.line[orderbook.line[pos] != messages.line] if len(orderbook) else messages.line
            raise ValueError(f"{orderbook.source}: no orderbook row for message line(s) {missing[:5].tolist()}")
        expect = (orderbook.ask_price[pos, 0], orderbook.ask_size[pos, 0],
                  orderbook.bid_price[pos, 0], orderbook.bid_size[pos, 0])
    dirs = messages.direction
    updates = book.apply(book_actions(messages), messages.order_id, dirs, messages.price, messages.size, expect=expect)
    assert updates is not None
    flags = updates.flags
    reveals = np.flatnonzero(flags & (REVEAL_BID | REVEAL_ASK))
    mismatches = np.flatnonzero(flags & (MISMATCH_BID | MISMATCH_ASK))
    return LobsterReplay(book, updates, reveals, mismatches)


def trade_columns(messages: LobsterMessages, instrument_id: str, ts_init: np.ndarray | int | None = None) -> TradeColumns:
    """Trade prints: executions of visible (4) and hidden (5) orders and cross trades (6).

    The aggressor is the opposite of the resting order's direction (LOBSTER: executing a sell
    limit order is a buyer-initiated trade); cross trades have none. ``trade_id`` is the line.
    ``ts_init`` defaults to ``ts_event``.
    """
    idx = np.flatnonzero((messages.type >= 4) & (messages.type <= 6))
    typ = messages.type[idx]
    aggressor = np.where(typ == 6, 0, -messages.direction[idx]).astype(np.int64)
    ts_event = messages.ts_event[idx]
    if ts_init is None:
        ti = ts_event.copy()
    elif np.isscalar(ts_init):
        ti = np.full(len(idx), int(ts_init), np.int64)  # type: ignore[arg-type]
    else:
        ti = np.asarray(ts_init, np.int64)[idx]
    return TradeColumns(
        instrument_id, ts_event, ti, messages.price[idx], messages.size[idx], aggressor, messages.line[idx].astype(np.int64)
    )
