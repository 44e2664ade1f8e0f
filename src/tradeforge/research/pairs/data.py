"""Price matrices from bar columns or the daily S&P 500 file, and the GICS sector map."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tradeforge.data.columns import BarColumns
from tradeforge.data.errors import BadRecord, BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.research.pairs.matrix import PriceMatrix, forward_fill

DAY_NS = 86_400 * 10**9


def from_bars(bars: Sequence[BarColumns], instruments: InstrumentProvider) -> PriceMatrix:
    """One column per bar series (in the given order), on the union of their timestamps."""
    dates = np.unique(np.concatenate([b.ts_init for b in bars])) if bars else np.zeros(0, np.int64)
    close = np.full((len(dates), len(bars)), np.nan)
    for k, b in enumerate(bars):
        scale = 10.0 ** instruments.get(b.instrument_id).price_precision
        close[np.searchsorted(dates, b.ts_init), k] = b.close / scale
    return PriceMatrix(dates, tuple(b.instrument_id for b in bars), forward_fill(close))


def load_sp500_bars(
    path: str | Path, instruments_toml: str | Path
) -> tuple[list[BarColumns], list[BadRecord], InstrumentProvider]:
    """The daily S&P 500 file as bar columns (bad rows quarantined), with its instruments."""
    provider = InstrumentProvider()
    for inst in InstrumentProvider.from_toml(instruments_toml):
        provider.add(inst)
    bars, bad = load_csv_bars(
        path, instruments=provider, symbol_column="Name", venue="XNYS", timestamp_column="date",
        timezone="America/New_York", session_close="16:00", interval_ns=DAY_NS, policy=BadRecordPolicy.QUARANTINE,
    )
    return bars, bad, provider


def load_sectors(path: str | Path, venue: str = "XNYS") -> dict[str, str]:
    """``TICKER.VENUE -> GICS sector`` from a ``ticker,gics_sector`` CSV."""
    with open(path, newline="") as fh:
        return {f"{row['ticker']}.{venue}": row["gics_sector"] for row in csv.DictReader(fh)}
