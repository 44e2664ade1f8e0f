"""Paper trading on a book-replay venue: the live node feeds order flow in real time (here a fast
replay of the LOBSTER AMZN morning) to the same venue and strategy a backtest uses.

Fills are not compared one for one with the backtest: live, the strategy may react between two
messages of one exchange event (the feed hands them out one by one), while a backtest's strategy
sees an event's quote after all its messages. The book, the venue and the strategy are the same."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
from tradeforge.live.feeds import replay
from tradeforge.live.node import LiveNode
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.venues.replay.flow import flow_from_lobster
from tradeforge.venues.replay.venue import ReplayVenueConfig

ROOT = Path(__file__).resolve().parents[2]
L3 = ROOT / "data" / "l3"
IID = "AMZN.XNAS"


def _flow():
    msgs, _ = read_lobster_messages(L3 / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz")
    ob, _ = read_lobster_orderbook(L3 / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz")
    flow = flow_from_lobster(msgs, ob, IID)
    return flow.take(slice(0, 6_000))


def _strategy():
    cls = load_strategy_class(str(ROOT / "examples/strategies/passive_market_maker.py") + ":PassiveMarketMaker")
    return cls("mm", {"instrument": IID, "quantity": 100})


def test_paper_node_runs_the_market_maker_on_the_l3_venue() -> None:
    flow = _flow()
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/l3.toml")
    node = LiveNode(instruments, "USD", 10**15)
    venue = node.add_paper_replay_venue(ReplayVenueConfig("XNAS", fidelity="l3"))
    node.add_order_flow_feed(IID, replay(flow.to_events(0, len(flow)), node.clock, speed=float("inf")))
    node.add_strategy(_strategy())
    asyncio.run(node.run())
    assert node.events_published == len(flow)
    paper = node.execution.fills
    assert len(paper) > 10 and not node.execution.errors
    assert all(f.liquidity_side.name == "MAKER" for f in paper)  # post-only quotes never take
    assert venue.books[IID].unexplained == 0

    engine = BacktestEngine(instruments, "USD", 10**15)
    backtest_venue = engine.add_replay_venue(ReplayVenueConfig("XNAS", fidelity="l3"))
    engine.add_order_flow(flow)
    engine.add_strategy(_strategy())
    assert len(engine.run().fills) > 10
    for side in (1, -1):  # the same flow leaves the same book
        assert venue.books[IID].depth(side, 50) == backtest_venue.books[IID].depth(side, 50)
