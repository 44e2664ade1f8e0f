"""Replaying the real L3 samples with no orders of ours reproduces the market exactly.

LOBSTER AMZN (2012-06-21, level 1): every execution LOBSTER records -- visible (type 4) and hidden
(type 5) -- comes out of the venue with the same time, side, price and size; each visible one
executes an order the book holds, at that order's price, which is the best price of its side; and the
replayed touch equals LOBSTER's orderbook file after every message. CME ES MBO: every fill names a
resting order at its price, or is explained (auction, iceberg, the aggressor's own fill).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.data.databento import load_dbn_mbo
from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.venues.replay.book import ReplayBook
from tradeforge.venues.replay.flow import FlowAction, flow_from_lobster, flow_from_mbo
from tradeforge.venues.replay.venue import ReplayVenueConfig

ROOT = Path(__file__).resolve().parents[3]
L3 = ROOT / "data" / "l3"
MSG = L3 / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"
OB = L3 / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz"


@pytest.fixture(scope="module")
def amzn():
    msgs, _ = read_lobster_messages(MSG)
    ob, _ = read_lobster_orderbook(OB)
    return msgs, ob, flow_from_lobster(msgs, ob, "AMZN.XNAS")


def test_every_lobster_execution_is_reproduced(amzn) -> None:
    msgs, _, flow = amzn
    engine = BacktestEngine(InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml"), "USD", 10**15)
    venue = engine.add_replay_venue(ReplayVenueConfig("XNAS", fidelity="l3"))
    venue.record_trades = True
    engine.add_order_flow(flow)
    engine.run()
    execs = np.isin(msgs.type, (4, 5))
    expected = list(zip(msgs.ts_event[execs].tolist(), msgs.direction[execs].tolist(),
                        msgs.price[execs].tolist(), msgs.size[execs].tolist(), strict=True))
    assert len(expected) == 11_419
    assert venue.trades == expected
    assert venue.books["AMZN.XNAS"].unexplained == 0


def test_visible_executions_hit_the_best_level_and_the_touch_matches_the_file(amzn) -> None:
    msgs, ob, flow = amzn
    book = ReplayBook()
    # flow rows come from messages 1:1 except REVEALs (which follow their message); map them back
    msg_of_row = np.cumsum(flow.action != FlowAction.REVEAL) - 1
    kept = np.flatnonzero(msgs.type != 7)
    assert len(kept) == int(msg_of_row[-1]) + 1
    last = -1
    checked = 0
    rows = zip(flow.action.tolist(), flow.side.tolist(), flow.price.tolist(), flow.size.tolist(),
               flow.order_id.tolist(), msg_of_row.tolist(), strict=True)
    for i, (a, side, price, size, oid, k) in enumerate(rows):
        if k != last and last >= 0:
            _check_touch(book, ob, int(kept[last]))
            checked += 1
        last = k
        if a == FlowAction.ADD:
            book.add(oid, side, price, size)
        elif a == FlowAction.CANCEL:
            book.reduce(oid, size, side, price)
        elif a == FlowAction.DELETE:
            book.remove(oid, side, price, size)
        elif a == FlowAction.EXECUTE:
            assert book.best_price(side) == price, f"flow row {i}: execution away from the touch"
            lvl, removed, _ = book.reduce(oid, size, side, price)
            assert lvl is not None and lvl.price == price and removed == size
        elif a == FlowAction.REVEAL:
            book.reveal(side, price, size)
    _check_touch(book, ob, int(kept[last]))
    assert checked + 1 == len(kept)
    assert book.unexplained == 0


def _check_touch(book: ReplayBook, ob, row: int) -> None:
    bid, ask = book.best(1), book.best(-1)
    got = (bid.price if bid else -9_999_999_999, bid.size if bid else 0,
           ask.price if ask else 9_999_999_999, ask.size if ask else 0)
    want = (int(ob.bid_price[row, 0]), int(ob.bid_size[row, 0]), int(ob.ask_price[row, 0]), int(ob.ask_size[row, 0]))
    assert got == want, f"orderbook row {row + 1}"


def test_every_cme_fill_is_a_resting_order_at_its_price_or_explained() -> None:
    """6,371 fills: 6,229 name a resting order at its price (27 of them for more than it shows: CME
    icebergs refill from a hidden reserve, the M restoring the display follows); 35 are auction fills
    (side 0); 107 are the aggressor's own fill, its order's M/C following in the same
    event (the venue treats the last two as prints, not as trades against the resting level)."""
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/cme_mbo.toml")
    cols, _ = load_dbn_mbo(L3 / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", instrument=provider.get("ESH4.GLBX"))
    flow = flow_from_mbo(cols)
    ts, act, oids = flow.ts_event, flow.action, flow.order_id
    book = ReplayBook()
    kinds = {"passive": 0, "iceberg": 0, "auction": 0, "aggressor": 0}
    for i, (a, side, price, size, oid) in enumerate(zip(act.tolist(), flow.side.tolist(), flow.price.tolist(),
                                                        flow.size.tolist(), oids.tolist(), strict=True)):
        if a == FlowAction.ADD:
            book.add(oid, side, price, size)
        elif a == FlowAction.CANCEL:
            book.reduce(oid, size, side, price)
        elif a == FlowAction.MODIFY:
            book.modify(oid, side, price, size)
        elif a == FlowAction.FILL:
            lvl = book.orders.get(oid)
            if side == 0:
                kinds["auction"] += 1
                continue
            assert lvl is not None, f"flow row {i}: fill of an unknown order"
            if lvl.price == price:
                assert side == lvl.side
                kinds["passive" if lvl.orders[oid][0] >= size else "iceberg"] += 1
            else:
                same_event = np.flatnonzero((ts == ts[i]) & (oids == oid) & (act != FlowAction.FILL))
                assert any(j > i for j in same_event), f"flow row {i}: aggressor fill without its update"
                kinds["aggressor"] += 1
    assert kinds == {"passive": 6_202, "iceberg": 27, "auction": 35, "aggressor": 107}
    assert book.unexplained == 0
