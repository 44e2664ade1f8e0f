"""A handful of real S&P 500 stocks (daily, 2013-2018), loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeforge.research.ml import Panel, load_daily, panel_from_bars

ROOT = Path(__file__).resolve().parents[3]
TICKERS = ["AAPL", "MSFT", "AMZN", "JPM", "XOM", "JNJ"]


@pytest.fixture(scope="session")
def ml_panel() -> Panel:
    bars, provider = load_daily(ROOT / "data/daily/all_stocks_5yr.csv.gz", TICKERS, ROOT / "data/instruments/sp500.toml")
    return panel_from_bars(bars, provider)
