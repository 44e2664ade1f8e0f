"""Daily bars of a few S&P 500 stocks as a (days x instruments) panel of float prices."""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeforge.data.columns import BarColumns
from tradeforge.data.errors import BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars
from tradeforge.model.instruments import InstrumentProvider

DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class Panel:
    """Prices on a common day grid: ``close[t, j]`` for day ``dates[t]`` (ns) and instrument ``ids[j]``
    (forward-filled; NaN before an instrument's first bar)."""

    dates: np.ndarray
    ids: tuple[str, ...]
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.dates)

    def head(self, n: int) -> Panel:
        """The first ``n`` days (what was known at the close of day ``n - 1``)."""
        return Panel(self.dates[:n], self.ids, self.close[:n], self.volume[:n])


def _ffill(a: np.ndarray) -> np.ndarray:
    idx = np.where(np.isnan(a), 0, np.arange(len(a))[:, None])
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.take_along_axis(a, idx, axis=0)


def panel_from_bars(bars: Sequence[BarColumns], instruments: InstrumentProvider) -> Panel:
    """One column per bar series, on the union of their timestamps (``ts_init``)."""
    dates = np.unique(np.concatenate([b.ts_init for b in bars])) if bars else np.zeros(0, np.int64)
    close = np.full((len(dates), len(bars)), np.nan)
    volume = np.full((len(dates), len(bars)), np.nan)
    for k, b in enumerate(bars):
        inst = instruments.get(b.instrument_id)
        rows = np.searchsorted(dates, b.ts_init)
        close[rows, k] = b.close / 10.0**inst.price_precision
        volume[rows, k] = np.where(b.volume >= 0, b.volume / 10.0**inst.size_precision, np.nan)
    return Panel(dates, tuple(b.instrument_id for b in bars), _ffill(close), _ffill(volume))


def load_daily(
    path: str | Path, tickers: Sequence[str], instruments_toml: str | Path, venue: str = "XNYS",
) -> tuple[list[BarColumns], InstrumentProvider]:
    """Bars of ``tickers`` from the daily S&P 500 file (``date,open,high,low,close,volume,Name``),
    read through the normal CSV loader (bad rows quarantined), with the instruments."""
    wanted = set(tickers)
    provider = InstrumentProvider()
    for inst in InstrumentProvider.from_toml(instruments_toml):
        provider.add(inst)
    with gzip.open(path, "rt") if str(path).endswith(".gz") else open(path) as src, \
            tempfile.TemporaryDirectory() as tmp:
        header = src.readline()
        lines = [line for line in src if line.rstrip("\r\n").rpartition(",")[2] in wanted]
        sub = Path(tmp) / "subset.csv"
        sub.write_text(header + "".join(lines))
        bars, _ = load_csv_bars(
            sub, instruments=provider, symbol_column="Name", venue=venue, timestamp_column="date",
            timezone="America/New_York", session_close="16:00", interval_ns=DAY_NS,
            policy=BadRecordPolicy.QUARANTINE,
        )
    return bars, provider
