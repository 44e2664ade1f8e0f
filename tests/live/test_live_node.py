"""One code path: the same strategy class, unchanged, paper-trades on a real-time clock and produces
the same fills as in the backtest over the same real Binance quotes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.data.loaders import load_parquet_quotes
from tradeforge.live.feeds import replay
from tradeforge.live.node import LiveNode
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.strategy.library.sma_cross import SmaCrossover
from tradeforge.venues.fees import BpsFee
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
IID = "BTCUSDT.BINANCE"
PARAMS = {"instruments": [IID], "fast": 3, "slow": 8, "quantity": "0.01", "data": "quotes"}
CASH = 100_000 * 10**9


def _quotes():
    instruments = InstrumentProvider.from_toml(ROOT / "data/instruments/futures_fx_crypto.toml")
    quotes, _ = load_parquet_quotes(
        ROOT / "data/ticks/binance_btcusdt-quotes-20210108.parquet", instrument_id=IID, instruments=instruments
    )
    return instruments, quotes


def _fills(fills) -> list[tuple[int, int, int, int]]:
    return [(int(f.side), f.last_qty, f.last_px, f.commission) for f in fills]


def test_paper_node_trades_the_backtest_strategy_unchanged() -> None:
    instruments, quotes = _quotes()

    backtest = BacktestEngine(instruments, "USDT", CASH)
    backtest.add_venue(SimulatedVenueConfig("BINANCE"), BpsFee(1.0, 1.0))
    backtest.add_strategy(SmaCrossover("sma", PARAMS))
    backtest.add_data(quotes)
    result = backtest.run()
    assert len(result.fills) >= 4

    node = LiveNode(instruments, "USDT", CASH)
    node.add_paper_venue(SimulatedVenueConfig("BINANCE"), BpsFee(1.0, 1.0))
    node.add_strategy(SmaCrossover("sma", PARAMS))
    node.add_feed("quote", IID, replay(quotes.to_events(0, len(quotes)), node.clock, speed=2000.0))
    wall_start = time.time_ns()
    asyncio.run(node.run())
    wall_end = time.time_ns()

    assert node.events_published == len(quotes)
    assert _fills(node.execution.fills) == _fills(result.fills)
    for fill in node.execution.fills:  # stamped by the live clock, not by the recorded data
        assert wall_start <= fill.ts_init <= wall_end
    node.portfolio.check_invariant()
    assert node.portfolio.equity() == result.portfolio.equity()


def test_live_clock_timers_reach_the_strategy() -> None:
    instruments, quotes = _quotes()
    ticks: list[str] = []

    class TimerStrategy(SmaCrossover):
        def on_start(self) -> None:
            super().on_start()
            self.set_timer("heartbeat", 5_000_000)  # 5 ms of real time

        def on_timer(self, event) -> None:
            ticks.append(event.name)

    node = LiveNode(instruments, "USDT", CASH)
    node.add_paper_venue(SimulatedVenueConfig("BINANCE"))
    node.add_strategy(TimerStrategy("sma", PARAMS))
    node.add_feed("quote", IID, replay(quotes.to_events(0, len(quotes)), node.clock, speed=200.0))
    asyncio.run(node.run())
    assert len(ticks) >= 2 and set(ticks) == {"heartbeat"}
