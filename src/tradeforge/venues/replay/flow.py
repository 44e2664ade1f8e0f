"""Order flow: the exchange-side message stream a book-replay venue matches against.

One columnar format for every fidelity level, built from any L3 source (LOBSTER, Databento MBO,
ITCH-derived book actions) and reducible to L2 (market by price) and L1 (top of book):

====== ============ ===================================================================
code   action       meaning (sizes and prices raw)
====== ============ ===================================================================
1      ADD          order ``order_id`` joins the back of level (``side``, ``price``) with ``size``
2      CANCEL       ``size`` is taken off order ``order_id`` (it keeps its place)
3      DELETE       order ``order_id`` leaves the book
4      EXECUTE      ``size`` of resting order ``order_id`` trades (book effect *and* a trade)
5      REPLACE      order ``order_id`` becomes ``new_id`` at ``price``/``size`` (back of the queue)
6      MODIFY       order ``order_id`` changes to ``price``/``size`` in place; it keeps its place only
                    when the price is the same and the size did not grow
7      FILL         ``size`` of resting order ``order_id`` traded (a trade only; the book change
                    follows as its own CANCEL/DELETE/MODIFY, as in Databento MBO)
8      TRADE        a print with no visible resting order (a hidden execution); ``side`` is the
                    resting side, 0 when unknown
9      LEVEL        market by price: level (``side``, ``price``) now holds ``size`` (0 = gone)
10     REVEAL       the source shows level (``side``, ``price``) at ``size``; what the known orders
                    do not explain is older, unattributed size at the front of its queue
11     CLEAR        the book is emptied
12     TOP          top of book only: the best ``side`` level is now ``price``/``size`` (size 0 = none)
13     PRINT        a trade for the tape only (Databento ``T`` summaries, whose resting orders come
                    as FILLs; LOBSTER cross trades): strategies see it, the venue does not match on it
====== ============ ===================================================================

``ts_event`` is exchange time. A flow is replayed by the venue at exchange time; what strategies see
of it is a separate, feed-delayed stream of quotes and trades (:mod:`.market_view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

import numpy as np

from tradeforge.data.book.l3 import REVEAL_ASK, REVEAL_BID, Action
from tradeforge.data.columns import BookDeltaColumns, TradeColumns
from tradeforge.data.databento import MboColumns
from tradeforge.data.itch.book import BookColumns
from tradeforge.data.lobster import LobsterMessages, LobsterOrderbook, rebuild_book
from tradeforge.model.data import Data
from tradeforge.model.enums import BookAction

__all__ = [
    "FlowAction", "FlowMessage", "OrderFlow", "flow_from_itch", "flow_from_l2", "flow_from_l3_actions",
    "flow_from_lobster", "flow_from_mbo",
]


class FlowAction(IntEnum):
    ADD = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    REPLACE = 5
    MODIFY = 6
    FILL = 7
    TRADE = 8
    LEVEL = 9
    REVEAL = 10
    CLEAR = 11
    TOP = 12
    PRINT = 13


class FlowMessage(Data, frozen=True, gc=False):
    """One order-flow message (see the module table)."""

    instrument_id: str
    action: int
    side: int
    price: int
    size: int
    order_id: int
    new_id: int
    ts_event: int
    ts_init: int


@dataclass(frozen=True, eq=False)
class OrderFlow:
    """Order-flow columns of one instrument in exchange-time order; ``level`` is ``"l3"``, ``"l2"``
    or ``"l1"`` (which actions it may hold)."""

    kind: ClassVar[str] = "flow"
    instrument_id: str
    level: str
    ts_event: np.ndarray
    action: np.ndarray  # int8 FlowAction
    side: np.ndarray  # int8
    price: np.ndarray
    size: np.ndarray
    order_id: np.ndarray
    new_id: np.ndarray

    def __post_init__(self) -> None:
        if self.level not in ("l3", "l2", "l1"):
            raise ValueError(f"order flow level must be l3, l2 or l1, not {self.level!r}")
        n = len(self.ts_event)
        for name in ("action", "side", "price", "size", "order_id", "new_id"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"order flow of {self.instrument_id}: column {name} has {len(getattr(self, name))} rows, ts_event {n}")

    def __len__(self) -> int:
        return len(self.ts_event)

    @property
    def ts_init(self) -> np.ndarray:
        return self.ts_event

    def validate_sorted(self, source: str) -> None:
        ts = self.ts_event
        if len(ts) > 1:
            bad = np.flatnonzero(ts[1:] < ts[:-1])
            if len(bad):
                i = int(bad[0]) + 1
                raise ValueError(f"{source}: ts_event goes backwards at row {i} ({int(ts[i])} < {int(ts[i - 1])})")

    def to_events(self, start: int, stop: int) -> list[Data]:
        s = slice(start, stop)
        iid = self.instrument_id
        return [
            FlowMessage(iid, a, sd, p, q, o, nid, t, t)
            for a, sd, p, q, o, nid, t in zip(
                self.action[s].tolist(), self.side[s].tolist(), self.price[s].tolist(), self.size[s].tolist(),
                self.order_id[s].tolist(), self.new_id[s].tolist(), self.ts_event[s].tolist(), strict=True,
            )
        ]

    def take(self, idx: np.ndarray, level: str | None = None) -> OrderFlow:
        return OrderFlow(self.instrument_id, level or self.level, self.ts_event[idx], self.action[idx],
                         self.side[idx], self.price[idx], self.size[idx], self.order_id[idx], self.new_id[idx])

    def count(self, action: FlowAction) -> int:
        return int(np.count_nonzero(self.action == action))


def _flow(instrument_id: str, level: str, ts, action, side, price, size, order_id, new_id=None) -> OrderFlow:
    n = len(ts)
    return OrderFlow(
        instrument_id, level, np.asarray(ts, np.int64), np.asarray(action, np.int8), np.asarray(side, np.int8),
        np.asarray(price, np.int64), np.asarray(size, np.int64), np.asarray(order_id, np.int64),
        np.zeros(n, np.int64) if new_id is None else np.asarray(new_id, np.int64),
    )


_L3_TO_FLOW = np.array([0, FlowAction.ADD, FlowAction.CANCEL, FlowAction.DELETE, FlowAction.EXECUTE,
                        FlowAction.REPLACE], dtype=np.int8)


def flow_from_l3_actions(
    instrument_id: str, ts_event: np.ndarray, action: np.ndarray, order_id: np.ndarray, side: np.ndarray,
    price: np.ndarray, size: np.ndarray, new_id: np.ndarray | None = None,
) -> OrderFlow:
    """A flow from :class:`~tradeforge.data.book.l3.Action` columns (the ITCH and LOBSTER book
    actions); ``Action.NONE`` rows are dropped."""
    action = np.asarray(action)
    keep = action != Action.NONE
    return _flow(instrument_id, "l3", ts_event[keep], _L3_TO_FLOW[action[keep]], side[keep], price[keep],
                 size[keep], order_id[keep], None if new_id is None else new_id[keep])


def flow_from_itch(columns: BookColumns, locate: int, instrument_id: str, midnight_ns: int = 0) -> OrderFlow:
    """The flow of one stock (its ``locate`` code) from ITCH 5.0 book columns
    (:func:`~tradeforge.data.itch.book.book_columns`): adds, executions, cancels, deletes and
    replaces; exchange time is ``midnight_ns`` + the messages' nanoseconds after midnight."""
    idx = np.flatnonzero(columns.locate == locate)
    c = columns.take(idx)
    return flow_from_l3_actions(instrument_id, c.timestamp.astype(np.int64) + midnight_ns, c.action, c.order_id,
                                c.side, c.price, c.size, c.new_id)


def flow_from_lobster(
    messages: LobsterMessages, orderbook: LobsterOrderbook | None, instrument_id: str,
) -> OrderFlow:
    """A flow from LOBSTER messages: types 1-4 as ADD/CANCEL/DELETE/EXECUTE, 5 (hidden execution)
    as TRADE, 6 (cross trade) as PRINT, 7 (halt) dropped. With the orderbook file, each touch the book
    could not know (a level revealed when the one above it emptied, see
    :func:`~tradeforge.data.lobster.rebuild_book`) follows its message as a REVEAL."""
    t = messages.type
    code = np.array([0, FlowAction.ADD, FlowAction.CANCEL, FlowAction.DELETE, FlowAction.EXECUTE,
                     FlowAction.TRADE, FlowAction.PRINT, 0], dtype=np.int8)[t]
    side = messages.direction.astype(np.int8).copy()
    side[t == 6] = 0
    parts = [np.flatnonzero(code != 0).astype(np.float64)]
    cols = {"ts": messages.ts_event, "action": code, "side": side, "price": messages.price,
            "size": messages.size, "order_id": messages.order_id}
    keep = code != 0
    base = {k: v[keep] for k, v in cols.items()}
    if orderbook is None or len(messages) == 0:
        return _flow(instrument_id, "l3", base["ts"], base["action"], base["side"], base["price"], base["size"],
                     base["order_id"])
    replay = rebuild_book(messages, orderbook, instrument_id=instrument_id)
    u = replay.updates
    extra = {k: [] for k in cols}
    pos: list[float] = []
    for i in replay.reveals.tolist():
        f = int(u.flags[i])
        for flag, sd, px, sz in ((REVEAL_BID, 1, u.bid_price, u.bid_size), (REVEAL_ASK, -1, u.ask_price, u.ask_size)):
            if f & flag and int(sz[i]) > 0:
                pos.append(i + (0.25 if sd == 1 else 0.5))
                extra["ts"].append(int(messages.ts_event[i]))
                extra["action"].append(FlowAction.REVEAL)
                extra["side"].append(sd)
                extra["price"].append(int(px[i]))
                extra["size"].append(int(sz[i]))
                extra["order_id"].append(0)
    parts.append(np.asarray(pos, np.float64))
    order = np.argsort(np.concatenate(parts), kind="stable")
    merged = {k: np.concatenate([np.asarray(base[k]), np.asarray(extra[k], dtype=np.asarray(base[k]).dtype)])[order]
              for k in cols}
    return _flow(instrument_id, "l3", merged["ts"], merged["action"], merged["side"], merged["price"],
                 merged["size"], merged["order_id"])


def flow_from_l2(deltas: BookDeltaColumns, trades: TradeColumns | None = None) -> OrderFlow:
    """An L2 flow from market-by-price book deltas (each ADD / UPDATE carries the level's new size,
    DELETE empties it, CLEAR empties the book; e.g. a recorded exchange depth feed or the catalog's
    ``book`` kind) and trade prints (resting side = the aggressor's opposite; no aggressor: a print
    for the tape only). At one time stamp the trades come before the level changes they cause, as the
    queue models expect."""
    iid = deltas.instrument_id
    act = deltas.action.astype(np.int64)
    level_size = np.where(act == BookAction.DELETE, 0, deltas.size)
    code = np.where(act == BookAction.CLEAR, FlowAction.CLEAR, FlowAction.LEVEL).astype(np.int8)
    parts = [(deltas.ts_event, np.ones(len(act), np.int8), code, deltas.side.astype(np.int8), deltas.price,
              level_size)]
    if trades is not None and len(trades):
        if trades.instrument_id != iid:
            raise ValueError(f"trades of {trades.instrument_id} with book deltas of {iid}")
        agg = trades.aggressor.astype(np.int64)
        tcode = np.where(agg == 0, FlowAction.PRINT, FlowAction.TRADE).astype(np.int8)
        parts.append((trades.ts_event, np.zeros(len(agg), np.int8), tcode, (-agg).astype(np.int8), trades.price,
                      trades.size))
    ts, rank, action, side, price, size = (np.concatenate([p[k] for p in parts]) for k in range(6))
    order = np.lexsort((rank, ts))  # by time, trades first, each source in its own order (stable)
    n = len(ts)
    return _flow(iid, "l2", ts[order], action[order], side[order], price[order], size[order], np.zeros(n, np.int64))


_MBO_CODES = {ord("A"): FlowAction.ADD, ord("C"): FlowAction.CANCEL, ord("M"): FlowAction.MODIFY,
              ord("R"): FlowAction.CLEAR, ord("F"): FlowAction.FILL, ord("T"): FlowAction.PRINT}


def flow_from_mbo(columns: MboColumns) -> OrderFlow:
    """A flow from Databento MBO records: ``A`` ADD, ``C`` CANCEL (by size), ``M`` MODIFY, ``R``
    CLEAR, ``F`` FILL (the resting order's trade; its book change follows), ``T`` PRINT (the
    aggressor's summary: the tape sees it, the fills carry the queue information); ``N`` dropped.
    Exchange time is ``ts_event``; rows keep file order (sorted by ``ts_event`` where the file is not)."""
    lut = np.zeros(256, np.int8)
    for k, v in _MBO_CODES.items():
        lut[k] = v
    code = lut[columns.action.astype(np.int64)]
    keep = np.flatnonzero(code != 0)
    side = columns.side.astype(np.int8)[keep].copy()
    side[code[keep] == FlowAction.PRINT] = 0
    ts = columns.ts_event[keep]
    order = np.argsort(ts, kind="stable")
    keep = keep[order]
    side = side[order]
    return _flow(columns.instrument_id, "l3", columns.ts_event[keep], code[keep], side, columns.price[keep],
                 columns.size[keep], columns.order_id[keep].astype(np.int64))
