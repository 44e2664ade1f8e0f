"""What an L3 order flow looks like at lower fidelity, and what strategies see of it.

:func:`derive` replays an L3 flow once through a :class:`~.book.ReplayBook` and returns, from the same
messages, the L2 flow (each level change as LEVEL, each trade as TRADE before the size drop it
causes), the L1 flow (TOP whenever a side's best price or size changes, and the trades), the top of
book as quotes and the tape as trade prints. The three fidelity levels of a comparison therefore see
exactly the same market, only less of it.

:func:`market_view` stamps the quotes and prints with the feed latency: ``ts_init = ts_event +
feed_ns``, never decreasing (a feed delivers in order). Strategies subscribe to those; the venue
matches on the flow at exchange time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeforge.data.columns import QuoteColumns, TradeColumns
from tradeforge.model.data import QuoteTick, TradeTick
from tradeforge.model.enums import AggressorSide
from tradeforge.venues.latency import LatencyModel
from tradeforge.venues.replay.book import ReplayBook
from tradeforge.venues.replay.flow import FlowAction, FlowMessage, OrderFlow, _flow

__all__ = ["DerivedFlows", "LiveMarketView", "derive", "market_view"]

_ADD, _CANCEL, _DELETE, _EXECUTE, _REPLACE, _MODIFY, _FILL, _TRADE, _LEVEL, _REVEAL, _CLEAR, _TOP, _PRINT = (
    int(a) for a in FlowAction
)


@dataclass(frozen=True, eq=False)
class DerivedFlows:
    """The L2 and L1 flows, quotes (top of book after each change) and tape of one L3 flow, all at
    exchange time (``ts_init == ts_event``); ``unexplained``: size the book could not attribute."""

    l2: OrderFlow
    l1: OrderFlow
    quotes: QuoteColumns
    trades: TradeColumns
    unexplained: int


class _Rows:
    def __init__(self) -> None:
        self.ts: list[int] = []
        self.action: list[int] = []
        self.side: list[int] = []
        self.price: list[int] = []
        self.size: list[int] = []

    def add(self, ts: int, action: int, side: int, price: int, size: int) -> None:
        self.ts.append(ts)
        self.action.append(action)
        self.side.append(side)
        self.price.append(price)
        self.size.append(size)

    def flow(self, iid: str, level: str) -> OrderFlow:
        n = len(self.ts)
        return _flow(iid, level, self.ts, self.action, self.side, self.price, self.size, np.zeros(n, np.int64))


def derive(flow: OrderFlow) -> DerivedFlows:
    """Replay an L3 (or L2) ``flow`` once and derive its L2 / L1 flows, quotes and tape (an L2
    flow is its own L2)."""
    if flow.level not in ("l3", "l2"):
        raise ValueError(f"derive needs an L3 or L2 flow, got {flow.level}")
    iid = flow.instrument_id
    book = ReplayBook()
    l2, l1 = _Rows(), _Rows()
    q_ts: list[int] = []
    q_rows: list[tuple[int, int, int, int]] = []
    t_ts: list[int] = []
    t_rows: list[tuple[int, int, int]] = []
    top = (0, 0, 0, 0)
    rows = zip(flow.ts_event.tolist(), flow.action.tolist(), flow.side.tolist(), flow.price.tolist(),
               flow.size.tolist(), flow.order_id.tolist(), flow.new_id.tolist(), strict=True)
    for ts, a, side, price, size, oid, nid in rows:
        touched: list[tuple[int, int]] = []
        if a == _ADD:
            book.add(oid, side, price, size)
            touched.append((side, price))
        elif a in (_CANCEL, _DELETE):
            lvl = book.reduce(oid, size, side, price)[0] if a == _CANCEL else book.remove(oid, side, price, size)[0]
            if lvl is not None:
                touched.append((lvl.side, lvl.price))
        elif a in (_EXECUTE, _FILL, _TRADE):
            lvl = book.orders.get(oid) if a != _TRADE else None
            if a == _FILL and (side == 0 or (lvl is not None and price and lvl.price != price)):
                continue  # an auction or aggressor fill (see the venue): the tape has its print
            rs, rp = (lvl.side, lvl.price) if lvl is not None else (side, price)
            l2.add(ts, _TRADE, rs, rp, size)
            l1.add(ts, _TRADE, rs, rp, size)
            if a != _FILL:
                t_ts.append(ts)
                t_rows.append((rp, size, -rs))
            if a == _EXECUTE:
                lvl = book.reduce(oid, size, rs, rp)[0]
                if lvl is not None:
                    touched.append((lvl.side, lvl.price))
        elif a == _PRINT:
            l2.add(ts, _PRINT, side, price, size)
            l1.add(ts, _PRINT, side, price, size)
            t_ts.append(ts)
            t_rows.append((price, size, 0))
        elif a == _REPLACE:
            lvl = book.remove(oid, side, price, size)[0]
            s2 = side
            if lvl is not None:
                touched.append((lvl.side, lvl.price))
                s2 = lvl.side
            book.add(nid, s2, price, size)
            touched.append((s2, price))
        elif a == _MODIFY:
            old, new, _ = book.modify(oid, side, price, size)
            if old is not None:
                touched.append((old.side, old.price))
            touched.append((new.side, new.price))
        elif a == _REVEAL:
            for lvl in book.walk(side):  # levels better than the revealed touch are gone
                if (lvl.price - price) * side <= 0:
                    break
                touched.append((side, lvl.price))
            book.reveal(side, price, size)
            touched.append((side, price))
        elif a == _LEVEL:
            book.set_level(side, price, size)
            touched.append((side, price))
        elif a == _CLEAR:
            for s in (1, -1):
                for lvl in book.walk(s):
                    l2.add(ts, _LEVEL, s, lvl.price, 0)
            book.clear()
            l2.add(ts, _CLEAR, 0, 0, 0)
            l1.add(ts, _CLEAR, 0, 0, 0)
        for s, p in touched:
            lvl = book.level(s, p)
            l2.add(ts, _LEVEL, s, p, 0 if lvl is None else lvl.size)
        bb, ba = book.best(1), book.best(-1)
        now = (bb.price if bb else 0, bb.size if bb else 0, ba.price if ba else 0, ba.size if ba else 0)
        if now != top:
            if now[:2] != top[:2]:
                l1.add(ts, _TOP, 1, now[0], now[1])
            if now[2:] != top[2:]:
                l1.add(ts, _TOP, -1, now[2], now[3])
            top = now
            q_ts.append(ts)
            q_rows.append(now)
    qa = np.asarray(q_rows, np.int64).reshape(-1, 4)
    qt = np.asarray(q_ts, np.int64)
    quotes = QuoteColumns(iid, qt, qt.copy(), qa[:, 0], qa[:, 2], qa[:, 1], qa[:, 3])
    ta = np.asarray(t_rows, np.int64).reshape(-1, 3)
    tt = np.asarray(t_ts, np.int64)
    trades = TradeColumns(iid, tt, tt.copy(), ta[:, 0], ta[:, 1], ta[:, 2], np.arange(len(tt), dtype=np.int64))
    l2_flow = flow if flow.level == "l2" else l2.flow(iid, "l2")
    return DerivedFlows(l2_flow, l1.flow(iid, "l1"), quotes, trades, book.unexplained)


def market_view(
    derived: DerivedFlows, latency: LatencyModel | None = None, *, both_sides: bool = True,
) -> tuple[QuoteColumns, TradeColumns]:
    """Quotes and prints as strategies receive them: ``ts_init`` delayed by the feed leg of
    ``latency`` and never decreasing. With ``both_sides`` (default) quotes with an empty side are
    dropped (a strategy quoting a mid needs both)."""
    q, t = derived.quotes, derived.trades
    if both_sides and len(q):
        keep = (q.bid_size > 0) & (q.ask_size > 0)
        q = QuoteColumns(q.instrument_id, q.ts_event[keep], q.ts_init[keep], q.bid[keep], q.ask[keep],
                         q.bid_size[keep], q.ask_size[keep])

    def delayed(ts: np.ndarray) -> np.ndarray:
        if latency is None or not len(ts):
            return ts.copy()
        out = np.fromiter((t + latency.feed_ns(t) for t in ts.tolist()), dtype=np.int64, count=len(ts))
        return np.maximum.accumulate(out)

    quotes = QuoteColumns(q.instrument_id, q.ts_event, delayed(q.ts_event), q.bid, q.ask, q.bid_size, q.ask_size)
    trades = TradeColumns(t.instrument_id, t.ts_event, delayed(t.ts_event), t.price, t.size, t.aggressor, t.trade_id)
    return quotes, trades


_AGGRESSOR = {1: AggressorSide.SELLER, -1: AggressorSide.BUYER, 0: AggressorSide.NONE}  # by resting side


class LiveMarketView:
    """The market view of a flow arriving live (paper trading): after the venue has applied a
    message to its book, :meth:`after` gives the quote (when the touch changed) and the trade print
    it makes, stamped ``ts_init = now`` -- what :func:`derive` and :func:`market_view` make for a
    backtest, one message at a time."""

    def __init__(self, instrument_id: str) -> None:
        self.instrument_id = instrument_id
        self._top = (0, 0, 0, 0)
        self._trades = 0

    def after(self, m: FlowMessage, book: ReplayBook, now: int) -> tuple[QuoteTick | None, TradeTick | None]:
        trade = None
        a = m.action
        if a in (_EXECUTE, _TRADE, _PRINT):
            self._trades += 1
            trade = TradeTick(self.instrument_id, m.price, m.size, _AGGRESSOR[m.side if a != _PRINT else 0],
                              str(self._trades), m.ts_event, now)
        bb, ba = book.best(1), book.best(-1)
        top = (bb.price if bb else 0, bb.size if bb else 0, ba.price if ba else 0, ba.size if ba else 0)
        quote = None
        if top != self._top:
            self._top = top
            if top[1] > 0 and top[3] > 0:
                quote = QuoteTick(self.instrument_id, top[0], top[2], top[1], top[3], m.ts_event, now)
        return quote, trade
