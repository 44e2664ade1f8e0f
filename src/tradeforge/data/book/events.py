"""Book changes as tradeforge events: L2/L3 :class:`OrderBookDelta`, :class:`OrderBookDepth`
snapshots, top-of-book :class:`QuoteColumns` and :class:`TradeTick` prints.

``ts_event`` comes from the source (one value per message); ``ts_init`` is given by the caller, as
one value for all or one per message. ``sequence`` is the message's index in the replayed stream
(plus ``first_sequence``), so deltas of one message share it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tradeforge.data.book.l3 import MISMATCH_ASK, MISMATCH_BID, REVEAL_ASK, REVEAL_BID, Action, BookUpdates, L3Book
from tradeforge.data.columns import QuoteColumns
from tradeforge.model.data import OrderBookDelta, OrderBookDepth, TradeTick
from tradeforge.model.enums import AggressorSide, BookAction

__all__ = [
    "depth_snapshot",
    "level_delta_rows",
    "level_deltas",
    "order_deltas",
    "replay_depth",
    "top_of_book",
    "trade_ticks",
]

_ACTIONS = {1: BookAction.ADD, 2: BookAction.UPDATE, 3: BookAction.DELETE}
_AGGRESSORS = {1: AggressorSide.BUYER, -1: AggressorSide.SELLER, 0: AggressorSide.NONE}


def _per_message(value: np.ndarray | int, n: int) -> np.ndarray:
    if np.isscalar(value):
        return np.full(n, int(value), np.int64)  # type: ignore[arg-type]
    arr = np.asarray(value, np.int64)
    if len(arr) != n:
        raise ValueError(f"expected {n} timestamps, got {len(arr)}")
    return arr


def level_delta_rows(updates: BookUpdates, *, touch: bool = True) -> tuple[np.ndarray, ...]:
    """Market-by-price (L2) deltas of a book replay as arrays ``(message index, side, price, size,
    action)``: per message the level it changed (ADD, UPDATE or DELETE with the level's new size),
    then the level a replace moved the order to. With ``touch``, where the replay was checked against
    a level-one file and revealed or re-synced a side's touch (``updates.flags``), the stale levels
    better than the file's touch follow as DELETEs and the touch's size as an UPDATE, so a book built
    from the deltas shows the file's level one after every message (no-op without flags)."""
    u = updates
    pieces = []
    for sub, (side, price, size, action) in enumerate((
        (u.level_side, u.level_price, u.level_size, u.level_action),
        (u.new_level_side, u.new_level_price, u.new_level_size, u.new_level_action),
    )):
        idx = np.flatnonzero(side != 0)
        pieces.append((idx, np.full(len(idx), sub), side[idx], price[idx], size[idx], action[idx]))
    cols = [np.concatenate([np.asarray(p[k], np.int64) for p in pieces]) for k in range(6)]
    order = np.lexsort((cols[1], cols[0]))
    msg, _, side, price, size, action = (c[order] for c in cols)
    if touch:
        msg, side, price, size, action = _add_touch(u, msg, side, price, size, action)
    return msg, side, price, size, action


def _add_touch(u: BookUpdates, msg: np.ndarray, side: np.ndarray, price: np.ndarray, size: np.ndarray,
               action: np.ndarray) -> tuple[np.ndarray, ...]:
    """Insert the re-sync deltas of the flagged messages (see :func:`level_delta_rows`)."""
    flagged = np.flatnonzero(u.flags != 0)
    if not len(flagged):
        return msg, side, price, size, action
    out: list[tuple[int, int, int, int, int]] = []
    levels: dict[int, dict[int, int]] = {1: {}, -1: {}}
    rows = list(zip(msg.tolist(), side.tolist(), price.tolist(), size.tolist(), action.tolist(), strict=True))
    flags = u.flags.tolist()
    tops = {1: (u.bid_price.tolist(), u.bid_size.tolist(), REVEAL_BID | MISMATCH_BID),
            -1: (u.ask_price.tolist(), u.ask_size.tolist(), REVEAL_ASK | MISMATCH_ASK)}
    j, n = 0, len(rows)
    delete, update = int(BookAction.DELETE), int(BookAction.UPDATE)
    for i in flagged.tolist():
        while j < n and rows[j][0] <= i:
            r = rows[j]
            if r[4] == delete:
                levels[r[1]].pop(r[2], None)
            else:
                levels[r[1]][r[2]] = r[3]
            out.append(r)
            j += 1
        for sd in (1, -1):
            prices, sizes, bits = tops[sd]
            if not flags[i] & bits:
                continue
            book = levels[sd]
            tp, ts = prices[i], sizes[i]
            stale = [p for p in book if ts <= 0 or p * sd > tp * sd]
            for p in sorted(stale, key=lambda q: -q * sd):  # best first
                del book[p]
                out.append((i, sd, p, 0, delete))
            if ts > 0 and book.get(tp) != ts:
                book[tp] = ts
                out.append((i, sd, tp, ts, update))
    out.extend(rows[j:])
    arr = np.array(out, dtype=np.int64).reshape(-1, 5)
    return arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]


def level_deltas(
    instrument_id: str,
    updates: BookUpdates,
    ts_event: np.ndarray | int,
    ts_init: np.ndarray | int,
    *,
    first_sequence: int = 0,
) -> list[OrderBookDelta]:
    """Market-by-price (L2) deltas: one per level a message changed (two for a replace), carrying
    the level's new total size (0 on DELETE) and ``order_id`` 0, plus the touch re-sync deltas of a
    replay checked against a level-one file (:func:`level_delta_rows`)."""
    n = len(updates)
    te = _per_message(ts_event, n)
    ti = _per_message(ts_init, n)
    msg, side, price, size, action = (a.tolist() for a in level_delta_rows(updates))
    return [
        OrderBookDelta(instrument_id, _ACTIONS[action[k]], side[k], price[k], size[k], 0, first_sequence + i,
                       int(te[i]), int(ti[i]))
        for k, i in enumerate(msg)
    ]


def order_deltas(
    instrument_id: str,
    action: np.ndarray,
    order_id: np.ndarray,
    new_id: np.ndarray | None,
    updates: BookUpdates,
    ts_event: np.ndarray | int,
    ts_init: np.ndarray | int,
    *,
    first_sequence: int = 0,
) -> list[OrderBookDelta]:
    """Market-by-order (L3) deltas: ADD for a new order, UPDATE with the remaining size after a
    partial cancel or execution, DELETE when an order leaves; a replace is DELETE then ADD.
    Messages on unknown orders (``order_size`` -1) and no-op messages give none."""
    n = len(updates)
    te = _per_message(ts_event, n).tolist()
    ti = _per_message(ts_init, n).tolist()
    act = np.asarray(action, np.int64).tolist()
    oid = np.asarray(order_id, np.int64).tolist()
    nid = oid if new_id is None else np.asarray(new_id, np.int64).tolist()
    u = updates
    rem = u.order_size.tolist()
    lside, lprice = u.level_side.tolist(), u.level_price.tolist()
    nside, nprice = u.new_level_side.tolist(), u.new_level_price.tolist()
    out: list[OrderBookDelta] = []
    add = out.append
    for i in range(n):
        a = act[i]
        if a == Action.NONE or rem[i] < 0:
            continue
        seq = first_sequence + i
        if a == Action.ADD:
            add(OrderBookDelta(instrument_id, BookAction.ADD, lside[i], lprice[i], rem[i], oid[i], seq, te[i], ti[i]))
        elif a == Action.REPLACE:
            add(OrderBookDelta(instrument_id, BookAction.DELETE, lside[i], lprice[i], 0, oid[i], seq, te[i], ti[i]))
            add(OrderBookDelta(instrument_id, BookAction.ADD, nside[i], nprice[i], rem[i], nid[i], seq, te[i], ti[i]))
        elif rem[i] == 0:
            add(OrderBookDelta(instrument_id, BookAction.DELETE, lside[i], lprice[i], 0, oid[i], seq, te[i], ti[i]))
        else:
            add(OrderBookDelta(instrument_id, BookAction.UPDATE, lside[i], lprice[i], rem[i], oid[i], seq, te[i], ti[i]))
    return out


def top_of_book(
    instrument_id: str,
    updates: BookUpdates,
    ts_event: np.ndarray | int,
    ts_init: np.ndarray | int,
    *,
    changed_only: bool = True,
) -> QuoteColumns:
    """Best bid/ask after each message as quote columns (by default only where the touch changed;
    an empty side shows price 0 and size 0)."""
    n = len(updates)
    te = _per_message(ts_event, n)
    ti = _per_message(ts_init, n)
    u = updates
    keep = np.ones(n, dtype=bool)
    if changed_only and n:
        top = np.stack([u.bid_price, u.bid_size, u.ask_price, u.ask_size])
        keep[1:] = np.any(top[:, 1:] != top[:, :-1], axis=0)
    return QuoteColumns(
        instrument_id, te[keep], ti[keep], u.bid_price[keep], u.ask_price[keep], u.bid_size[keep], u.ask_size[keep]
    )


def depth_snapshot(book: L3Book, n_levels: int, ts_event: int, ts_init: int, sequence: int | None = None) -> OrderBookDepth:
    """The book's top ``n_levels`` per side now, as one :class:`OrderBookDepth`."""
    bids, asks = book.depth(n_levels)
    return OrderBookDepth(book.instrument_id, bids, asks, book.sequence if sequence is None else sequence,
                          int(ts_event), int(ts_init))


def replay_depth(
    book: L3Book,
    action: np.ndarray,
    order_id: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    new_id: np.ndarray | None,
    at: Sequence[int] | np.ndarray,
    ts_event: np.ndarray,
    ts_init: np.ndarray | int,
    n_levels: int = 10,
) -> list[OrderBookDepth]:
    """Apply the messages and take a depth snapshot right after each message index in ``at``
    (ascending); each snapshot is stamped with that message's ``ts_event`` and ``ts_init``."""
    n = len(action)
    te = _per_message(ts_event, n)
    ti = _per_message(ts_init, n)
    cols = [np.asarray(c, np.int64) for c in (action, order_id, side, price, size)]
    nid = cols[1] if new_id is None else np.asarray(new_id, np.int64)
    out: list[OrderBookDepth] = []
    start = 0
    base = book.sequence
    for stop in np.asarray(at, np.int64).tolist():
        if stop < start - 1 or stop >= n:
            raise ValueError("snapshot indices must be ascending and within the messages")
        if stop + 1 > start:
            book.apply(*(c[start : stop + 1] for c in cols), nid[start : stop + 1], record=False)
            start = stop + 1
        out.append(depth_snapshot(book, n_levels, int(te[stop]), int(ti[stop]), base + stop))
    if start < n:
        book.apply(*(c[start:] for c in cols), nid[start:], record=False)
    return out


def trade_ticks(
    instrument_id: str,
    price: np.ndarray,
    size: np.ndarray,
    aggressor: np.ndarray,
    trade_id: np.ndarray | Sequence[str],
    ts_event: np.ndarray,
    ts_init: np.ndarray | int,
) -> list[TradeTick]:
    """Trade prints as :class:`TradeTick` events (``aggressor`` 1 buyer, -1 seller, 0 none)."""
    n = len(price)
    ti = _per_message(ts_init, n).tolist()
    te = np.asarray(ts_event, np.int64).tolist()
    ids = trade_id.tolist() if isinstance(trade_id, np.ndarray) else list(trade_id)
    return [
        TradeTick(instrument_id, p, q, _AGGRESSORS[a], str(t), e, i)
        for p, q, a, t, e, i in zip(
            np.asarray(price, np.int64).tolist(), np.asarray(size, np.int64).tolist(),
            np.asarray(aggressor, np.int64).tolist(), ids, te, ti, strict=True,
        )
    ]
