"""A CEP-driven strategy in the BacktestEngine on real daily bars (AAPL / MSFT, five years)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.data.errors import BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.strategy.library.cep_spread import CepSpread
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
DAY_NS = 86_400 * 10**9
PARAMS = {"y": "AAPL.XNYS", "x": "MSFT.XNYS", "window": 20, "entry_z": 1.8, "exit_z": 0.3, "notional": 20_000}


@pytest.fixture(scope="module")
def two_stocks(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    with gzip.open(ROOT / "data/daily/all_stocks_5yr.csv.gz", "rt") as fh:
        df = pd.read_csv(fh)
    df = df[df["Name"].isin(["AAPL", "MSFT"])]
    path = tmp_path_factory.mktemp("cep") / "two.csv"
    df.to_csv(path, index=False)
    return path, df


def _run(path: Path) -> tuple[BacktestEngine, CepSpread]:
    provider = InstrumentProvider()
    for inst in InstrumentProvider.from_toml(ROOT / "data/instruments/sp500.toml"):
        if inst.id in ("AAPL.XNYS", "MSFT.XNYS"):
            provider.add(inst)
    bars, _ = load_csv_bars(path, instruments=provider, symbol_column="Name", venue="XNYS", timestamp_column="date",
                            timezone="America/New_York", session_close="16:00", interval_ns=DAY_NS,
                            policy=BadRecordPolicy.QUARANTINE)
    engine = BacktestEngine(provider, "USD", 1_000_000 * 10**9)
    engine.add_venue(SimulatedVenueConfig("XNYS"))
    for b in bars:
        engine.add_data(b)
    strategy = CepSpread("cep", PARAMS)
    engine.add_strategy(strategy)
    return engine, strategy


def test_cep_strategy_backtest_matches_offline_zscore_and_is_deterministic(two_stocks) -> None:
    path, df = two_stocks
    runs = []
    for _ in range(2):
        engine, strategy = _run(path)
        runs.append((engine.run(), strategy))
    (res, strat), (res2, strat2) = runs
    # the derived events equal the offline rolling z-score of the log spread on common days
    wide = df.pivot(index="date", columns="Name", values="close").dropna()
    spread = np.log(wide["AAPL"]) - np.log(wide["MSFT"])
    z = ((spread - spread.rolling(20).mean()) / spread.rolling(20).std()).dropna()
    got = np.array([zz for _, zz in strat.stats])
    assert len(got) == len(z) > 1000
    np.testing.assert_allclose(got, z.to_numpy(), rtol=1e-9, atol=1e-9)
    assert len(res.fills) > 20 and res.summary()["orders_denied"] == 0
    assert strat.streaks > 50
    assert [(f.ts_event, f.instrument_id, f.last_qty, f.last_px) for f in res.fills] == [
        (f.ts_event, f.instrument_id, f.last_qty, f.last_px) for f in res2.fills]
    assert res.portfolio.equity() == res2.portfolio.equity() and strat.stats == strat2.stats
