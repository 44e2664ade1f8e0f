"""ITCH order flow on the book-replay venue, and several replay venues in one run, each with its own
book, fidelity, fees and latency."""

from __future__ import annotations

import warnings
from pathlib import Path

from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
from tradeforge.data.databento import load_dbn_mbo
from tradeforge.data.itch.book import book_columns, rebuild_books
from tradeforge.data.itch.generator import generate_messages
from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.venues.fees import BpsFee
from tradeforge.venues.latency import ConstantLatency
from tradeforge.venues.queue import RiskAverseQueue
from tradeforge.venues.replay.book import ReplayBook
from tradeforge.venues.replay.flow import FlowAction, flow_from_itch, flow_from_lobster, flow_from_mbo
from tradeforge.venues.replay.venue import ReplayVenueConfig

ROOT = Path(__file__).resolve().parents[3]


def test_itch_flow_rebuilds_the_same_books_as_the_itch_l3_books() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msgs = generate_messages(40_000, 5)
    replay = rebuild_books(msgs, date="2024-03-01")
    cols = book_columns(msgs)
    for stock, l3 in replay.books.items():
        loc = int(replay.columns[stock].locate[0])
        flow = flow_from_itch(cols, loc, replay.instrument_id(stock), replay.midnight_ns)
        book = ReplayBook()
        for a, side, price, size, oid, nid in zip(flow.action.tolist(), flow.side.tolist(), flow.price.tolist(),
                                                  flow.size.tolist(), flow.order_id.tolist(), flow.new_id.tolist(),
                                                  strict=True):
            if a == FlowAction.ADD:
                book.add(oid, side, price, size)
            elif a in (FlowAction.CANCEL, FlowAction.EXECUTE):
                book.reduce(oid, size, side, price)
            elif a == FlowAction.DELETE:
                book.remove(oid, side, price, size)
            elif a == FlowAction.REPLACE:
                lvl = book.orders[oid]
                s = lvl.side
                book.remove(oid)
                book.add(nid, s, price, size)
        assert book.unexplained == 0
        for side in (1, -1):
            want = [(int(p), int(q)) for p, q, _, _ in l3.levels(side).tolist()]
            assert book.depth(side, 10**6) == want, stock


def test_two_replay_venues_in_one_run_each_with_its_own_costs_and_latency() -> None:
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml")
    for inst in InstrumentProvider.from_toml(ROOT / "data/instruments/cme_mbo.toml"):
        provider.add(inst)
    msgs, _ = read_lobster_messages(ROOT / "data/l3/AMZN_2012-06-21_34200000_57600000_message_1.csv.gz")
    ob, _ = read_lobster_orderbook(ROOT / "data/l3/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz")
    amzn = flow_from_lobster(msgs, ob, "AMZN.XNAS")
    es = flow_from_mbo(load_dbn_mbo(ROOT / "data/l3/esh4-glbx-mdp3-20231225.mbo.dbn.zst",
                                    instrument=provider.get("ESH4.GLBX"))[0])
    amzn, es = amzn.take(slice(0, 10_000)), es.take(slice(0, 25_000))
    engine = BacktestEngine(provider, "USD", 10**16)
    nasdaq = engine.add_replay_venue(
        ReplayVenueConfig("XNAS", "l3", latency=ConstantLatency(50_000, 50_000, 50_000)), BpsFee(-0.2, 0.3))
    cme = engine.add_replay_venue(
        ReplayVenueConfig("GLBX", "l2", RiskAverseQueue(), latency=ConstantLatency(200_000, 300_000, 300_000)),
        BpsFee(0.1, 0.1))
    engine.add_order_flow(amzn, ConstantLatency(50_000, 50_000, 50_000))
    engine.add_order_flow(es, ConstantLatency(200_000, 300_000, 300_000))
    cls = load_strategy_class(str(ROOT / "examples/strategies/passive_market_maker.py") + ":PassiveMarketMaker")
    engine.add_strategy(cls("mm-amzn", {"instrument": "AMZN.XNAS", "quantity": 100}))
    engine.add_strategy(cls("mm-es", {"instrument": "ESH4.GLBX", "quantity": 1}))
    fills = engine.run().fills
    by_venue = {iid: [f for f in fills if f.instrument_id == iid] for iid in ("AMZN.XNAS", "ESH4.GLBX")}
    assert by_venue["AMZN.XNAS"] and by_venue["ESH4.GLBX"]
    # a maker rebate on NASDAQ (tiny fills round to 0 cents), a fee at CME
    assert all(f.commission <= 0 for f in by_venue["AMZN.XNAS"]) and sum(f.commission for f in by_venue["AMZN.XNAS"]) < 0
    assert all(f.commission > 0 for f in by_venue["ESH4.GLBX"])
    assert all(f.ts_init - f.ts_event == 50_000 for f in by_venue["AMZN.XNAS"][:20])
    assert all(f.ts_init - f.ts_event >= 300_000 for f in by_venue["ESH4.GLBX"])
    assert set(nasdaq.books) == {"AMZN.XNAS"} and set(cme.books) == {"ESH4.GLBX"}


def test_l2_flow_from_book_deltas_and_prints_drives_the_l2_venue() -> None:
    import numpy as np

    from tradeforge.data.book_import import level_delta_columns
    from tradeforge.data.lobster import rebuild_book, trade_columns
    from tradeforge.venues.replay.flow import flow_from_l2

    msgs, _ = read_lobster_messages(ROOT / "data/l3/AMZN_2012-06-21_34200000_57600000_message_1.csv.gz")
    ob, _ = read_lobster_orderbook(ROOT / "data/l3/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz")
    replay = rebuild_book(msgs, ob, instrument_id="AMZN.XNAS")
    deltas = level_delta_columns("AMZN.XNAS", replay.updates, msgs.ts_event, msgs.ts_event,
                                 np.arange(len(msgs)), touch=True)  # as `tradeforge data import` stores them
    flow = flow_from_l2(deltas, trade_columns(msgs, "AMZN.XNAS"))
    assert flow.level == "l2" and flow.count(FlowAction.TRADE) == 11_419 - int((msgs.type == 6).sum())
    provider = InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml")
    engine = BacktestEngine(provider, "USD", 10**15)
    venue = engine.add_replay_venue(ReplayVenueConfig("XNAS", "l2", RiskAverseQueue()))
    engine.add_order_flow(flow)
    cls = load_strategy_class(str(ROOT / "examples/strategies/passive_market_maker.py") + ":PassiveMarketMaker")
    engine.add_strategy(cls("mm", {"instrument": "AMZN.XNAS", "quantity": 100}))
    assert len(engine.run().fills) > 100  # the strategy sees quotes derived from the L2 flow
    book = venue.books["AMZN.XNAS"]  # the touch equals LOBSTER's level one at the end of the day
    assert (book.best(1).price, book.best(1).size) == (int(ob.bid_price[-1, 0]), int(ob.bid_size[-1, 0]))
    assert (book.best(-1).price, book.best(-1).size) == (int(ob.ask_price[-1, 0]), int(ob.ask_size[-1, 0]))
