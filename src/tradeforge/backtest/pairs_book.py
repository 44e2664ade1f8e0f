"""Discovery + walk-forward backtest of the pairs book on daily bars: assembly, run and report files.

The backtest is the ordinary :class:`~tradeforge.backtest.engine.BacktestEngine` (simulated venue
with per-share fees, bps slippage and a volume participation cap; risk checks on every order) with
one :class:`~tradeforge.strategy.library.pairs.PairsTrading` strategy, which selects its pairs
itself from the closes it has seen.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.backtest.result import BacktestResult
from tradeforge.data.columns import BarColumns
from tradeforge.model.enums import OmsType
from tradeforge.model.instruments import Instrument, InstrumentProvider
from tradeforge.model.timeutil import parse_timestamp_ns
from tradeforge.research.pairs.data import load_sectors, load_sp500_bars
from tradeforge.research.pairs.scan import ScanConfig
from tradeforge.risk.checks import BuyingPower, MaxOrderNotional
from tradeforge.risk.config import LimitConfig, build_risk
from tradeforge.strategy.library.pairs import PairsTrading
from tradeforge.venues.fees import PerUnitFee
from tradeforge.venues.simulated import SimulatedVenueConfig

MONEY = 10**9


@dataclass(frozen=True, slots=True)
class BpsSlippage:
    """Fills ``bps`` basis points worse than the model price (rounded to whole ticks)."""

    bps: float

    def adjust(self, instrument: Instrument, side: int, price: int) -> int:
        ticks = round(price * self.bps / 10_000 / instrument.tick_size_raw)
        return max(price + side * ticks * instrument.tick_size_raw, instrument.tick_size_raw)


@dataclass(frozen=True)
class PairsRunConfig:
    data: str = "data/daily/all_stocks_5yr.csv.gz"
    instruments: str = "data/instruments/sp500.toml"
    sectors: str | None = "data/daily/sp500_gics_sectors_2020.csv"
    start: str | None = None  # first bar (ISO date/time) kept, inclusive
    end: str | None = None  # bars before this kept
    starting_cash: float = 10_000_000.0
    formation: int = 252
    trading: int = 63
    entry_z: float = 2.0
    exit_z: float = 0.5
    stop_z: float = 4.0
    pair_weight: float = 0.005
    max_gross: float = 2.0
    max_net: float = 0.1
    max_instrument: float = 0.05
    max_drawdown: float = 0.10  # of starting cash, from the peak: the risk engine turns the book reducing-only
    fee_per_share: float = 0.005
    fee_minimum: float = 1.0
    slippage_bps: float = 5.0
    participation: float = 0.05
    max_order_notional: float = 1_000_000.0
    scan: dict[str, Any] = field(default_factory=lambda: {
        "min_corr": None, "fdr": None, "max_pvalue": 0.05, "max_pairs": 400, "max_per_instrument": 4,
    })


@dataclass
class PairsRun:
    result: BacktestResult
    strategy: PairsTrading
    seconds: dict[str, float]
    config: PairsRunConfig


def _window(bars: list[BarColumns], start: int | None, end: int | None) -> list[BarColumns]:
    out = []
    for b in bars:
        keep = slice(
            0 if start is None else int(b.ts_init.searchsorted(start)),
            len(b.ts_init) if end is None else int(b.ts_init.searchsorted(end)),
        )
        arrays = {f.name: getattr(b, f.name)[keep] for f in dataclasses.fields(b)
                  if hasattr(getattr(b, f.name), "shape")}
        c = dataclasses.replace(b, **arrays)
        if len(c.ts_init):
            out.append(c)
    return out


def _book_limits(cfg: PairsRunConfig, with_sectors: bool) -> list[LimitConfig]:
    """The book's hard limits, enforced by the risk engine on every order (the strategy sizes below
    them): gross and net exposure of the book, gross exposure per stock and per sector, and a
    drawdown that blocks new risk (reducing-only) once breached."""
    cash = cfg.starting_cash

    def money(x: float) -> str:
        return f"{x:.2f}"

    limits = [
        LimitConfig(type="gross_exposure", scope="portfolio", value=money(cash * cfg.max_gross * 1.25)),
        LimitConfig(type="net_exposure", scope="portfolio", value=money(cash * max(5 * cfg.max_net, 0.5))),
        LimitConfig(type="gross_exposure", scope="instrument", value=money(cash * cfg.max_instrument * 1.5)),
        LimitConfig(type="drawdown", scope="portfolio", value=money(cash * cfg.max_drawdown), action="reduce_only"),
    ]
    if with_sectors:
        limits.append(LimitConfig(type="gross_exposure", scope="sector", value=money(cash * cfg.max_gross * 0.5)))
    return limits


def build_pairs_engine(
    bars: list[BarColumns], instruments: InstrumentProvider, cfg: PairsRunConfig,
    sectors: dict[str, str] | None = None,
) -> tuple[BacktestEngine, PairsTrading]:
    """The engine with the venue, risk checks, data and the pairs strategy, ready to run."""
    checks = [MaxOrderNotional(int(cfg.max_order_notional * MONEY), {}), BuyingPower(100, True)]
    book_checks, risk_options = build_risk(_book_limits(cfg, sectors is not None), base=Path.cwd(),
                                           sectors_venue="XNYS")
    if sectors is not None:
        risk_options["sectors"] = dict(sectors)  # instrument id -> GICS sector
    engine = BacktestEngine(instruments, "USD", int(cfg.starting_cash * MONEY), oms_type=OmsType.NETTING,
                            risk_checks=[*book_checks, *checks], risk_options=risk_options)
    engine.add_venue(
        SimulatedVenueConfig("XNYS", participation=cfg.participation),
        PerUnitFee(int(cfg.fee_per_share * MONEY), int(cfg.fee_minimum * MONEY), 100),
        BpsSlippage(cfg.slippage_bps),
    )
    for b in bars:
        engine.add_data(b)
    scan = dict(cfg.scan)
    if scan.get("same_sector") and sectors is None:
        raise ValueError("scan.same_sector needs a sectors file")
    strategy = PairsTrading("pairs", {
        "instruments": [b.instrument_id for b in bars], "formation": cfg.formation, "trading": cfg.trading,
        "entry_z": cfg.entry_z, "exit_z": cfg.exit_z, "stop_z": cfg.stop_z, "pair_weight": cfg.pair_weight,
        "max_gross": cfg.max_gross, "max_net": cfg.max_net, "max_instrument": cfg.max_instrument,
        "scan": scan, "sectors": sectors,
    })
    engine.add_strategy(strategy)
    return engine, strategy


def run_pairs(cfg: PairsRunConfig, base: Path | None = None) -> PairsRun:
    """Load the daily file, run discovery + walk-forward backtest, return the run."""
    root = base or Path.cwd()
    ScanConfig(**cfg.scan)  # unknown scan keys fail before the data loads
    t0 = time.perf_counter()
    bars, bad, provider = load_sp500_bars(root / cfg.data, root / cfg.instruments)
    bars = _window(bars, parse_timestamp_ns(cfg.start) if cfg.start else None,
                   parse_timestamp_ns(cfg.end) if cfg.end else None)
    sectors = load_sectors(root / cfg.sectors) if cfg.sectors else None
    engine, strategy = build_pairs_engine(bars, provider, cfg, sectors)
    engine.quarantined.extend(bad)
    t1 = time.perf_counter()
    result = engine.run()
    t2 = time.perf_counter()
    return PairsRun(result, strategy, {"load": round(t1 - t0, 2), "backtest": round(t2 - t1, 2)}, cfg)


def pairs_summary(run: PairsRun) -> dict[str, Any]:
    """Book-level figures about the pairs (the engine's summary covers returns and risk)."""
    s = run.strategy
    rows = s.pair_results()
    traded = [r for r in rows if r["entries"]]
    sizes = [len(sel.pairs) for sel in s.selections]
    return {
        "instruments": len(s.ids),
        "selections": len(s.selections),
        "pairs_per_selection_min": min(sizes, default=0),
        "pairs_per_selection_max": max(sizes, default=0),
        "distinct_pairs_selected": len(rows),
        "pairs_traded": len(traded),
        "pairs_open_mean": round(sum(s.open_counts) / max(len(s.open_counts), 1), 1),
        "pairs_open_max": max(s.open_counts, default=0),
        "pair_entries": sum(r["entries"] for r in rows),
        "pair_stops": sum(r["stops"] for r in rows),
        "pairs_profitable": sum(1 for r in traded if r["pnl"] > 0),
        "pairs_pnl_total": round(sum(r["pnl"] for r in rows), 2),
        "entries_skipped_by_limits": s.skipped_by_limit,
        "orders_incomplete": s.incomplete,
        "seconds": run.seconds,
    }


def write_report(run: PairsRun, out: str | Path) -> Path:
    """Engine results (Parquet + summary.json) plus ``pairs.csv`` (per pair), ``selections.csv``
    (every selected pair of every window with its statistics) and ``pairs_summary.json``."""
    path = run.result.write(out)
    rows = run.strategy.pair_results()
    with open(path / "pairs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["y", "x"])
        w.writeheader()
        w.writerows(rows)
    with open(path / "selections.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["selected_at", "window", "y", "x", "beta", "alpha", "spread_sd", "half_life", "pvalue",
                    "qvalue", "hurst"])
        for k, (sel, ts) in enumerate(zip(run.strategy.selections, run.strategy.selection_ts, strict=True)):
            for p in sel.pairs:
                w.writerow([ts, k, p.y, p.x, p.beta, p.alpha, p.sd, p.half_life, p.pvalue, p.qvalue, p.hurst])
    summary = pairs_summary(run)
    summary["windows"] = [sel.counts for sel in run.strategy.selections]
    summary["config"] = dataclasses.asdict(run.config)
    (path / "pairs_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return path
