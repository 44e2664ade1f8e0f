"""The risk engine on a paper node (live clock, replayed Binance quotes): pre-trade limits deny, the
kill switch written by ``tradeforge risk kill`` halts trading and cancels resting orders."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from tradeforge.cli.main import app
from tradeforge.data.loaders import load_parquet_quotes
from tradeforge.live.feeds import replay
from tradeforge.live.node import LiveNode
from tradeforge.model.data import QuoteTick
from tradeforge.model.enums import OrderSide, OrderStatus, TradingState
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.risk.checks_limits import PositionLimit
from tradeforge.risk.scope import Limit, ScopedLimits
from tradeforge.strategy.base import Strategy
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
IID = "BTCUSDT.BINANCE"


class Buyer(Strategy):
    """Buys 0.01 BTC at market on each of the first four quotes, then rests an offer far above."""

    def on_start(self) -> None:
        self.subscribe_quotes(IID)
        self.n = 0
        self.orders = []

    def on_quote(self, quote: QuoteTick) -> None:
        self.n += 1
        if self.n <= 4:
            self.orders.append(self.submit_order(self.order_factory.market(IID, OrderSide.BUY, "0.01")))
        elif self.n == 5:
            far = self.instrument(IID).make_price(quote.ask * 2 // 100 * 100)
            self.orders.append(self.submit_order(self.order_factory.limit(IID, OrderSide.SELL, "0.01", far)))


def test_paper_node_denies_over_the_limit_and_obeys_the_kill_switch(tmp_path: Path) -> None:
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")
    quotes, _ = load_parquet_quotes(ROOT / "data/ticks/binance_btcusdt-quotes-20210108.parquet",
                                    instrument_id=IID, instruments=instruments)
    limit = PositionLimit(ScopedLimits([]), ScopedLimits([]), ScopedLimits([Limit("instrument", 3 * 10**7)]))
    node = LiveNode(instruments, "USDT", 100_000 * 10**9, risk_checks=[limit])
    node.add_paper_venue(SimulatedVenueConfig("BINANCE"))
    strategy = Buyer("buyer")
    node.add_strategy(strategy)
    commands = tmp_path / "risk_commands.jsonl"
    node.risk.watch_commands(commands, interval_ns=2_000_000)  # polls every 2 ms of real time
    n = 3_000

    async def slow_feed():
        async for ev in replay(quotes.to_events(0, n), node.clock, speed=float("inf")):
            await asyncio.sleep(0.0002)  # room for the command poller between quotes
            yield ev

    node.add_feed("quote", IID, slow_feed())

    async def main() -> None:
        async def kill_soon() -> None:
            while strategy.n < 6:
                await asyncio.sleep(0.001)
            res = CliRunner().invoke(app, ["risk", "kill", "--commands", str(commands), "--who", "ops",
                                           "--why", "paper test"])
            assert res.exit_code == 0, res.output

        await asyncio.gather(node.run(), kill_soon())

    asyncio.run(main())
    statuses = [o.status for o in strategy.orders]
    assert statuses[:3] == [OrderStatus.FILLED] * 3
    assert statuses[3] is OrderStatus.DENIED  # a fourth 0.01 would exceed 0.03 BTC
    assert node.risk.denials and sum(node.risk.denials.values()) >= 1
    assert statuses[4] is OrderStatus.CANCELED  # the resting offer, canceled by the kill switch
    assert node.risk.states.system is TradingState.HALTED
