"""News-sentiment example: synthetic headlines (data/news/) scored by the lexicon, stored as a custom
dataset next to a catalog, replayed with AAPL/MSFT/AMZN/JPM/XOM daily bars (2016-2018).

Run:  .venv/bin/python examples/news_sentiment.py [catalog_dir]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.data.alt import NEWS_HEADLINE, CustomDataStore, NewsHeadline, load_headlines_csv, to_custom_data
from tradeforge.model.enums import OmsType
from tradeforge.research.ml import load_daily
from tradeforge.risk.checks import BuyingPower
from tradeforge.strategy.library.news_sentiment import NewsSentiment
from tradeforge.venues.fees import PerUnitFee
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[1]
MONEY = 10**9


def main(catalog: Path) -> None:
    store = CustomDataStore(catalog)
    store.write(NEWS_HEADLINE, load_headlines_csv(ROOT / "data/news/headlines_sample.csv"))
    heads = store.read(NEWS_HEADLINE, NewsHeadline)
    bars, provider = load_daily(ROOT / "data/daily/all_stocks_5yr.csv.gz", ["AAPL", "MSFT", "AMZN", "JPM", "XOM"],
                                ROOT / "data/instruments/sp500.toml")
    engine = BacktestEngine(provider, "USD", 1_000_000 * MONEY, oms_type=OmsType.NETTING,
                            risk_checks=[BuyingPower(100, True)])
    engine.add_venue(SimulatedVenueConfig("XNYS"), PerUnitFee(5 * MONEY // 1000, MONEY, 100))
    for b in bars:
        engine.add_data(b)
    engine.add_custom_data(NEWS_HEADLINE, to_custom_data(heads, NEWS_HEADLINE))
    engine.add_strategy(NewsSentiment("news", {"instruments": [b.instrument_id for b in bars], "entry": 0.5,
                                               "exit": 0.1, "half_life_days": 3, "weight": "0.15"}))
    result = engine.run()
    print(f"{len(heads)} headlines stored under {catalog}/custom/{NEWS_HEADLINE}/")
    for k, v in result.summary().items():
        print(f"{k:>28}: {v}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
