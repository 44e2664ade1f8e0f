"""ITCH 5.0 -> full-depth L3 books per stock, L2 depth deltas and trades as tradeforge events.

Input is a decoded stream (:class:`~tradeforge.data.itch.decode.ItchMessages`, or the generator's
:class:`~tradeforge.data.itch.generator.GeneratedItch`: anything with per-type ``arrays`` and the
file order ``types``/``index``). The book messages are gathered into file-order columns
vectorized, grouped by ``stock_locate`` (every ITCH message names its stock's locate code) and each
stock's messages are applied in one batch to its own :class:`~tradeforge.data.book.L3Book`:

- ``A``/``F`` add, ``E`` executed, ``C`` executed with price, ``X`` partial cancel, ``D`` delete,
  ``U`` replace (new reference, new price and shares, same side, priority lost);
- trades: ``E`` at the resting order's price, ``C`` at its execution price when printable, ``P``
  non-cross (hidden) trades and ``Q`` cross trades; the aggressor is the opposite of the resting
  order's side (``Q``: none);
- ``H`` trading actions are kept as ``(stock, ts_event, trading_state)`` rows.

Prices are ITCH ``Price(4)`` raw integers (precision 4), sizes are shares. ``ts_event`` is the ITCH
timestamp (ns after midnight) plus the UNIX ns of local midnight of ``date`` (0 when no date).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numba
import numpy as np

from tradeforge.data.book.events import level_deltas, trade_ticks
from tradeforge.data.book.l3 import Action, BookUpdates, L3Book, UnknownOrderPolicy
from tradeforge.data.columns import TradeColumns
from tradeforge.data.itch.framing import load_raw16, load_raw32, load_raw64
from tradeforge.data.itch.spec import DTYPES
from tradeforge.model.data import OrderBookDelta, TradeTick

__all__ = ["BookColumns", "ItchBookReplay", "book_columns", "events", "rebuild_books"]

PRICE_PRECISION = 4
_BOOK_TYPES = {"A": Action.ADD, "F": Action.ADD, "E": Action.EXECUTE, "C": Action.EXECUTE,
               "X": Action.CANCEL, "D": Action.DELETE, "U": Action.REPLACE}


class _Decoded(Protocol):
    arrays: dict[str, np.ndarray]
    types: np.ndarray
    index: np.ndarray


@dataclass(frozen=True, eq=False)
class BookColumns:
    """The book messages of a stream in file order (``position``: index in the whole stream)."""

    position: np.ndarray
    code: np.ndarray  # uint8 ITCH type byte
    locate: np.ndarray
    timestamp: np.ndarray  # ns after midnight
    action: np.ndarray
    order_id: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    new_id: np.ndarray

    def __len__(self) -> int:
        return len(self.position)

    def take(self, idx: np.ndarray) -> BookColumns:
        return BookColumns(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    def slice(self, start: int, stop: int) -> BookColumns:
        """Rows ``start:stop`` as views (no copy)."""
        return BookColumns(*(getattr(self, f)[start:stop] for f in self.__dataclass_fields__))


@dataclass(eq=False)
class ItchBookReplay:
    """Books per stock after the replay, and per stock the changes, trades and trading actions."""

    books: dict[str, L3Book]
    columns: dict[str, BookColumns]  # each stock's book messages, file order
    updates: dict[str, BookUpdates]  # aligned with ``columns``
    trades: dict[str, TradeColumns]
    trading_actions: list[tuple[str, int, str]] = field(default_factory=list)
    midnight_ns: int = 0
    venue: str = "XNAS"

    def instrument_id(self, stock: str) -> str:
        return f"{stock}.{self.venue}"

    def depth_deltas(self, stock: str, ts_init: np.ndarray | int | None = None) -> list[OrderBookDelta]:
        """The stock's L2 changes as :class:`OrderBookDelta` (sequence = position in the stream)."""
        cols = self.columns[stock]
        te = cols.timestamp.astype(np.int64) + self.midnight_ns
        deltas = level_deltas(self.instrument_id(stock), self.updates[stock], te, te if ts_init is None else ts_init)
        pos = cols.position.tolist()
        # renumber: level_deltas numbers messages 0..n-1 within the stock
        return [OrderBookDelta(d.instrument_id, d.action, d.side, d.price, d.size, 0, pos[d.sequence], d.ts_event,
                               d.ts_init) for d in deltas]

    def trade_ticks(self, stock: str, ts_init: np.ndarray | int | None = None) -> list[TradeTick]:
        t = self.trades[stock]
        return trade_ticks(t.instrument_id, t.price, t.size, t.aggressor, t.trade_id, t.ts_event,
                           t.ts_init if ts_init is None else ts_init)


def _midnight_ns(date: str | Date | None, timezone: str) -> int:
    if date is None:
        return 0
    day = Date.fromisoformat(date) if isinstance(date, str) else date
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(timezone))
    off = noon.utcoffset()
    assert off is not None
    return (day - Date(1970, 1, 1)).days * 86_400 * 10**9 - int(off.total_seconds()) * 10**9


_SIDE_OF_BYTE = np.zeros(256, np.int64)
_SIDE_OF_BYTE[ord("B")] = 1
_SIDE_OF_BYTE[ord("S")] = -1


def _side(indicator: np.ndarray) -> np.ndarray:
    """1 for b"B", -1 for b"S", else 0 (a table lookup on the bytes: no string comparisons)."""
    return _SIDE_OF_BYTE[indicator.view(np.uint8)]


_COLUMNS = ("locate", "timestamp", "action", "order_id", "side", "price", "size", "new_id")
_N_LOCATES = 1 << 16  # stock_locate is a uint16
# per book type (the order of _BOOK_TYPES), the fields read: (order id, size, price, side, new id)
_FIELDS = {
    "A": ("order_reference_number", "shares", "price", "buy_sell_indicator", None),
    "F": ("order_reference_number", "shares", "price", "buy_sell_indicator", None),
    "E": ("order_reference_number", "executed_shares", None, None, None),
    "C": ("order_reference_number", "executed_shares", None, None, None),
    "X": ("order_reference_number", "cancelled_shares", None, None, None),
    "D": ("order_reference_number", None, None, None, None),
    "U": ("original_order_reference_number", "shares", "price", None, "new_order_reference_number"),
}


def _layout_table() -> np.ndarray:
    """Per book type, ``(itemsize, action, locate, timestamp, order id, size, price, side, new id)``:
    byte offsets of the fields in a ``DTYPES`` row (-1 where the type has no such field)."""
    table = np.full((len(_BOOK_TYPES), 9), -1, np.int64)
    for j, (code, act) in enumerate(_BOOK_TYPES.items()):
        dt = DTYPES[code]
        names = ("stock_locate", "timestamp", *_FIELDS[code])
        table[j, :2] = dt.itemsize, int(act)
        table[j, 2:] = [-1 if f is None else dt.fields[f][1] for f in names]
        assert dt.fields["stock_locate"][0] == np.uint16 and dt.fields["timestamp"][0] == np.uint64
        for f, want in zip(_FIELDS[code], (np.uint64, np.uint32, np.uint32, np.dtype("S1"), np.uint64), strict=True):
            assert f is None or dt.fields[f][0] == want, (code, f)
    return table


_LAYOUT = _layout_table()
_TYPE_SLOT = np.full(256, -1, np.int64)  # type byte -> row of _LAYOUT
for _j, _code in enumerate(_BOOK_TYPES):
    _TYPE_SLOT[ord(_code)] = _j


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _gather_book(types, index, slot_of, layout, rows, row_base, by_locate, position, code, out):  # pragma: no cover - jitted
    """The book messages of a decoded stream as columns, straight from the rows' bytes.

    ``rows``: the ``A F E C X D U`` arrays' bytes laid end to end (``DTYPES`` rows; type ``j``'s
    from ``row_base[j]``, ``layout[j]`` its row size, action and field offsets). Pass 1 counts the
    book messages per ``stock_locate``; pass 2 writes each one (file order) into its stock's next
    row of ``position``/``code``/``out`` -- a stable counting sort by locate -- or, unless
    ``by_locate``, all in file order. Returns the number of messages per locate.
    """
    per_locate = np.zeros(65536, np.int64)
    for p in range(types.shape[0]):
        j = slot_of[types[p]]
        if j >= 0:
            per_locate[load_raw16(rows, row_base[j] + index[p] * layout[j, 0] + layout[j, 2])] += 1
    start = np.zeros(65536, np.int64)
    if by_locate:
        acc = 0
        for k in range(65536):
            start[k] = acc
            acc += per_locate[k]
    for p in range(types.shape[0]):
        t = types[p]
        j = slot_of[t]
        if j < 0:
            continue
        row = row_base[j] + index[p] * layout[j, 0]
        loc = np.int64(load_raw16(rows, row + layout[j, 2]))
        key = loc if by_locate else 0
        w = start[key]
        start[key] = w + 1
        position[w] = p
        code[w] = t
        out[0, w] = loc
        out[1, w] = np.int64(load_raw64(rows, row + layout[j, 3]))
        out[2, w] = layout[j, 1]
        out[3, w] = np.int64(load_raw64(rows, row + layout[j, 4]))  # uint64 -> int64 as astype does
        off = layout[j, 5]
        out[6, w] = np.int64(load_raw32(rows, row + off)) if off >= 0 else 0
        off = layout[j, 6]
        out[5, w] = np.int64(load_raw32(rows, row + off)) if off >= 0 else 0
        off = layout[j, 7]
        sd = 0
        if off >= 0:
            b = rows[row + off]
            sd = 1 if b == 66 else (-1 if b == 83 else 0)  # B / S
        out[4, w] = sd
        off = layout[j, 8]
        out[7, w] = np.int64(load_raw64(rows, row + off)) if off >= 0 else 0
    return per_locate


def _row_bytes(messages: _Decoded, code: str) -> np.ndarray:
    """One type's rows as bytes (``DTYPES`` layout; converted when needed)."""
    arr = messages.arrays.get(code)
    if arr is None:
        return np.empty(0, np.uint8)
    if arr.dtype != DTYPES[code]:
        arr = arr.astype(DTYPES[code])
    return np.ascontiguousarray(arr).view(np.uint8)


def _gather(messages: _Decoded, by_locate: bool) -> tuple[BookColumns, np.ndarray]:
    """The book messages as columns, in file order or grouped by ``stock_locate`` (ascending, file
    order within a stock); also the ``(locate, start, stop)`` rows of the groups."""
    types = np.ascontiguousarray(messages.types, np.uint8)
    index = np.ascontiguousarray(messages.index, np.int64)
    n = int(np.count_nonzero(_TYPE_SLOT[types] >= 0)) if len(types) else 0
    position = np.empty(n, np.int64)
    code = np.empty(n, np.uint8)
    out = np.empty((len(_COLUMNS), n), np.int64)
    raws = [_row_bytes(messages, c) for c in _BOOK_TYPES]
    row_base = np.zeros(len(raws), np.int64)
    np.cumsum([len(r) for r in raws[:-1]], out=row_base[1:])
    rows = np.concatenate(raws)  # one buffer: the kernel never picks among seven arrays (3x slower)
    per_locate = _gather_book(types, index, _TYPE_SLOT, _LAYOUT, rows, row_base, by_locate, position, code, out)
    cols = BookColumns(position, code, *out)
    if not by_locate:
        return cols, np.zeros((0, 3), np.int64)
    locs = np.flatnonzero(per_locate)
    stops = np.cumsum(per_locate[locs])
    return cols, np.stack([locs, stops - per_locate[locs], stops], axis=1)


def book_columns(messages: _Decoded) -> BookColumns:
    """Gather the book messages (A F E C X D U) of a decoded stream into file-order columns."""
    return _gather(messages, by_locate=False)[0]


def _stock_names(messages: _Decoded) -> dict[int, str]:
    names: dict[int, str] = {}
    for code in ("R", "A", "F", "H", "P", "Q"):
        arr = messages.arrays.get(code)
        if arr is None or not len(arr):
            continue
        loc, first = np.unique(arr["stock_locate"], return_index=True)
        for lc, i in zip(loc.tolist(), first.tolist(), strict=True):
            names.setdefault(int(lc), arr["stock"][i].decode("latin-1").rstrip())
    return names


def rebuild_books(
    messages: _Decoded,
    *,
    date: str | Date | None = None,
    timezone: str = "America/New_York",
    venue: str = "XNAS",
    stocks: set[str] | None = None,
    record: bool = True,
    unknown: UnknownOrderPolicy = UnknownOrderPolicy.RAISE,
) -> ItchBookReplay:
    """Rebuild every stock's book (or only ``stocks``) and collect trades and trading actions.

    An unknown order reference, an execution beyond an order's shares or a duplicate reference
    raises :class:`~tradeforge.data.book.BookError` naming the message's index within its stock's
    book messages (the stream position is ``replay.columns[stock].position[index]``, available to
    the caller through :func:`book_columns`). ``unknown=UnknownOrderPolicy.IGNORE`` skips messages
    on unknown references instead (a sampled or mid-day stream); their ``order_size`` update is -1
    and an ``E`` on an unknown order prints no trade (its price is unknown).
    """
    midnight = _midnight_ns(date, timezone)
    names = _stock_names(messages)
    grouped, groups = _gather(messages, by_locate=True)  # one counting sort by stock_locate
    books: dict[str, L3Book] = {}
    per_cols: dict[str, BookColumns] = {}
    per_upd: dict[str, BookUpdates] = {}
    for loc, lo, hi in groups.tolist():
        stock = names.get(loc, f"LOCATE{loc}")
        if stocks is not None and stock not in stocks:
            continue
        c = grouped.slice(lo, hi)
        # the book grows on demand; a stock's resting orders are a small fraction of its messages,
        # and a smaller id table stays in cache (n // 2 made it 4 MB a stock: about 20% slower)
        book = L3Book(f"{stock}.{venue}", unknown=unknown, capacity=max(1024, (hi - lo) // 16))
        upd = book.apply(c.action, c.order_id, c.side, c.price, c.size, c.new_id, record=record)
        books[stock] = book
        per_cols[stock] = c
        if upd is not None:
            per_upd[stock] = upd
    trades = _trades(messages, per_cols, per_upd, names, midnight, venue, stocks) if record else {}
    actions: list[tuple[str, int, str]] = []
    h = messages.arrays.get("H")
    if h is not None and len(h):
        for loc, ts, state in zip(h["stock_locate"].tolist(), h["timestamp"].tolist(), h["trading_state"].tolist(),
                                  strict=True):
            actions.append((names.get(int(loc), f"LOCATE{loc}"), midnight + int(ts), state.decode("latin-1")))
    return ItchBookReplay(books, per_cols, per_upd, trades, actions, midnight, venue)


def _trades(
    messages: _Decoded, cols: dict[str, BookColumns], upd: dict[str, BookUpdates], names: dict[int, str],
    midnight: int, venue: str, stocks: set[str] | None,
) -> dict[str, TradeColumns]:
    """Per stock: E and printable C executions, P and Q trades, in stream order."""
    parts: dict[str, list[tuple[np.ndarray, ...]]] = {}
    c_arr = messages.arrays.get("C")
    for stock, c in cols.items():
        u = upd[stock]
        ex = np.flatnonzero((c.code == ord("E")) | (c.code == ord("C")))
        price = u.level_price[ex].copy()
        keep = u.order_size[ex] >= 0  # an execution of an unknown (skipped) order has no price
        is_c = c.code[ex] == ord("C")
        if is_c.any() and c_arr is not None:
            rows = c_arr[np.asarray(messages.index)[c.position[ex[is_c]]]]
            price[is_c] = rows["execution_price"]
            keep[is_c] = rows["printable"] == b"Y"
        ex, price = ex[keep], price[keep]
        parts.setdefault(stock, []).append((
            c.position[ex], c.timestamp[ex], price, c.size[ex], -u.level_side[ex], c.position[ex],
        ))
    types = np.asarray(messages.types)
    index = np.asarray(messages.index, np.int64)
    for code in ("P", "Q"):
        arr = messages.arrays.get(code)
        if arr is None or not len(arr):
            continue
        pos = np.flatnonzero(types == ord(code))
        if not len(pos):
            continue
        rows = index[pos]
        loc = arr["stock_locate"][rows]
        by_loc = np.argsort(loc, kind="stable")  # one sort instead of a mask per stock
        bounds = np.flatnonzero(np.diff(loc[by_loc])) + 1
        for sel in np.split(by_loc, bounds):
            lc = int(loc[sel[0]])
            stock = names.get(lc, f"LOCATE{lc}")
            if stocks is not None and stock not in stocks:
                continue
            r, p = rows[sel], pos[sel]
            if code == "P":
                px, sz, agg = arr["price"][r], arr["shares"][r], -_side(arr["buy_sell_indicator"][r])
            else:
                px, sz, agg = arr["cross_price"][r], arr["shares"][r], np.zeros(len(sel), np.int64)
            parts.setdefault(stock, []).append((p, arr["timestamp"][r], px, sz, agg, p))
    out: dict[str, TradeColumns] = {}
    for stock, ps in parts.items():
        cat = [np.concatenate([np.asarray(p[k], np.int64) for p in ps]) for k in range(6)]
        o = np.argsort(cat[0], kind="stable")
        te = cat[1][o] + midnight
        out[stock] = TradeColumns(f"{stock}.{venue}", te, te.copy(), cat[2][o], cat[3][o], cat[4][o], cat[5][o])
    return out


def events(replay: ItchBookReplay, stock: str, ts_init: np.ndarray | int | None = None) -> list[Any]:
    """The stock's depth deltas and trades merged in stream order (a trade after the delta of the
    execution that printed it)."""
    deltas = replay.depth_deltas(stock, ts_init)
    trades = replay.trade_ticks(stock, ts_init)
    keyed = [(d.sequence, 0, i) for i, d in enumerate(deltas)] + [(int(t.trade_id), 1, i) for i, t in enumerate(trades)]
    keyed.sort()
    return [deltas[i] if kind == 0 else trades[i] for _, kind, i in keyed]
