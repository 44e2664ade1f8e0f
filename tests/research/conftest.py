"""Real S&P 500 daily bars, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeforge.research.pairs.data import from_bars, load_sp500_bars
from tradeforge.research.pairs.matrix import PriceMatrix

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "daily" / "all_stocks_5yr.csv.gz"
INSTRUMENTS = ROOT / "data" / "instruments" / "sp500.toml"


@pytest.fixture(scope="session")
def sp500_bars():
    return load_sp500_bars(DATA, INSTRUMENTS)


@pytest.fixture(scope="session")
def sp500(sp500_bars) -> PriceMatrix:
    bars, _, provider = sp500_bars
    return from_bars(bars, provider)
