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

import numpy as np

from tradeforge.data.book.events import level_deltas, trade_ticks
from tradeforge.data.book.l3 import Action, BookUpdates, L3Book, UnknownOrderPolicy
from tradeforge.data.columns import TradeColumns
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


def _side(indicator: np.ndarray) -> np.ndarray:
    return np.where(indicator == b"B", 1, np.where(indicator == b"S", -1, 0)).astype(np.int64)


def book_columns(messages: _Decoded) -> BookColumns:
    """Gather the book messages (A F E C X D U) of a decoded stream into file-order columns."""
    types = np.asarray(messages.types)
    index = np.asarray(messages.index, np.int64)
    codes = np.array([ord(c) for c in _BOOK_TYPES], np.uint8)
    pos = np.flatnonzero(np.isin(types, codes))
    n = len(pos)
    cols = {k: np.zeros(n, np.int64) for k in ("locate", "timestamp", "action", "order_id", "side", "price", "size", "new_id")}
    t = types[pos]
    for code, act in _BOOK_TYPES.items():
        arr = messages.arrays.get(code)
        if arr is None or not len(arr):
            continue
        m = t == ord(code)
        sel = index[pos[m]]
        # the decoder keeps each type's rows in file order: then they are the whole array as is
        rows = arr if len(sel) == len(arr) and (len(sel) == 0 or (sel[0] == 0 and np.all(np.diff(sel) == 1))) else arr[sel]
        cols["locate"][m] = rows["stock_locate"]
        cols["timestamp"][m] = rows["timestamp"]
        cols["action"][m] = int(act)
        if code == "U":
            cols["order_id"][m] = rows["original_order_reference_number"].astype(np.int64)
            cols["new_id"][m] = rows["new_order_reference_number"].astype(np.int64)
        else:
            cols["order_id"][m] = rows["order_reference_number"].astype(np.int64)
        if code in ("A", "F"):
            cols["side"][m] = _side(rows["buy_sell_indicator"])
        if code in ("A", "F", "U"):
            cols["price"][m] = rows["price"]
            cols["size"][m] = rows["shares"]
        elif code in ("E", "C"):
            cols["size"][m] = rows["executed_shares"]
        elif code == "X":
            cols["size"][m] = rows["cancelled_shares"]
    return BookColumns(pos, t, cols["locate"], cols["timestamp"], cols["action"], cols["order_id"], cols["side"],
                       cols["price"], cols["size"], cols["new_id"])


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
    cols = book_columns(messages)
    order = np.argsort(cols.locate, kind="stable")
    loc_sorted = cols.locate[order]
    bounds = np.flatnonzero(np.diff(loc_sorted)) + 1
    books: dict[str, L3Book] = {}
    per_cols: dict[str, BookColumns] = {}
    per_upd: dict[str, BookUpdates] = {}
    for idx in np.split(order, bounds) if len(order) else []:
        loc = int(cols.locate[idx[0]])
        stock = names.get(loc, f"LOCATE{loc}")
        if stocks is not None and stock not in stocks:
            continue
        c = cols.take(idx)
        book = L3Book(f"{stock}.{venue}", unknown=unknown, capacity=max(1024, len(idx) // 2))
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
        rows = arr[index[pos]]
        loc = rows["stock_locate"].astype(np.int64)
        for lc in np.unique(loc).tolist():
            stock = names.get(int(lc), f"LOCATE{lc}")
            if stocks is not None and stock not in stocks:
                continue
            m = loc == lc
            r = rows[m]
            if code == "P":
                px, sz, agg = r["price"], r["shares"], -_side(r["buy_sell_indicator"])
            else:
                px, sz, agg = r["cross_price"], r["shares"], np.zeros(int(m.sum()), np.int64)
            parts.setdefault(stock, []).append((pos[m], r["timestamp"], px, sz, agg, pos[m]))
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
