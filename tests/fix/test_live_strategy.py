"""A strategy class on a LiveNode trades over FIX: recorded Binance quotes drive the strategy (feed) and
the house quotes of a FixExchange (liquidity); the strategy's orders travel as NewOrderSingle /
cancels over loopback and its fills come back as ExecutionReports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from tradeforge.backtest.engine import load_strategy_class
from tradeforge.data.loaders import load_parquet_quotes
from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.transport import Initiator
from tradeforge.fix.venue import FixVenue
from tradeforge.live.feeds import replay
from tradeforge.live.node import LiveNode
from tradeforge.model.data import QuoteTick
from tradeforge.model.instruments import InstrumentProvider

ROOT = Path(__file__).resolve().parents[2]
IID = "BTCUSDT.BINANCE"
PARAMS = {"instrument": IID, "ema": 20, "entry_bps": 0.5, "take_profit_bps": 1, "stop_bps": 3, "quantity": "0.05"}


async def _quotes_to_exchange(feed: AsyncIterator[QuoteTick], ex: FixExchange) -> AsyncIterator[QuoteTick]:
    """Each recorded quote becomes the exchange's house bid/ask, then goes to the strategy."""
    async for q in feed:
        ex.set_quote("BTCUSDT", q.bid, q.bid_size, q.ask, q.ask_size)
        yield q
        await asyncio.sleep(0.001)  # leave the FIX round trips room between quotes


def _exchange_fills(ex: FixExchange) -> Iterable[int]:
    return [live.cum for live in ex._live.values()]


def test_strategy_on_live_node_trades_over_fix() -> None:
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")
    quotes, _ = load_parquet_quotes(ROOT / "data/ticks/binance_btcusdt-quotes-20210108.parquet",
                                    instrument_id=IID, instruments=instruments)
    inst = instruments.get(IID)
    strategy_cls = load_strategy_class("strategies/quote_mean_reversion.py:QuoteMeanReversion", ROOT / "examples")

    async def main() -> LiveNode:
        node = LiveNode(instruments, "USDT", 1_000_000 * 10**9)
        ex = FixExchange([inst], node.clock, comp_id="TRADEFORGE", heartbeat_s=1, tick_s=0.02)
        port = await ex.start()
        session = Session(SessionConfig("STRAT", "TRADEFORGE", heartbeat_s=1), node.clock)
        venue = FixVenue("BINANCE", session, [inst], node.clock)
        node.add_venue(venue)
        node.add_strategy(strategy_cls("mr", PARAMS))
        node.add_feed("quote", IID, _quotes_to_exchange(replay(quotes.to_events(0, len(quotes)), node.clock,
                                                               speed=float("inf")), ex))
        ini = Initiator(session, "127.0.0.1", port, tick_s=0.02)
        ini.start()
        await ini.wait_logged_on()
        await node.run()  # on_stop cancels what is left
        await asyncio.sleep(0.1)
        # every fill the exchange made reached the OMS exactly once, and nothing more
        fills = node.execution.fills
        assert sum(f.last_qty for f in fills) == sum(_exchange_fills(ex))
        assert len({f.execution_id for f in fills}) == len(fills) >= 2
        assert not venue.errors and not node.execution.errors and session.rejects_received == 0
        assert not [o for o in node.execution.orders.values() if o.is_open]
        assert session.next_sender_seq > 3  # orders really travelled over FIX
        node.portfolio.check_invariant()
        await ini.stop()
        await ex.stop()
        return node

    node = asyncio.run(main())
    assert node.events_published == len(quotes)
