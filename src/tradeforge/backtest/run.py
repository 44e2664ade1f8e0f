"""Build and run a backtest from a :class:`BacktestConfig` (what ``tradeforge backtest`` does)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tradeforge.backtest.config import (
    BacktestConfig,
    ConfigError,
    DataConfig,
    FeeConfig,
    SlippageConfig,
    VenueConfig,
    load_config,
    parse_interval_ns,
)
from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
from tradeforge.backtest.result import BacktestResult
from tradeforge.data.columns import Columns
from tradeforge.data.databento import load_dbn_mbo
from tradeforge.data.errors import BadRecord, BadRecordPolicy
from tradeforge.data.integrity import validate
from tradeforge.data.loaders import load_csv_bars, load_csv_quotes, load_parquet_quotes, load_parquet_trades
from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
from tradeforge.model.calendar import cme_globex_calendar, nyse_calendar
from tradeforge.model.enums import OmsType, TradingState
from tradeforge.model.fixed import MONEY_PRECISION, parse_raw
from tradeforge.model.instruments import InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_DAY, parse_timestamp_ns
from tradeforge.risk.checks import BuyingPower, MaxOrderNotional, MaxOrderQuantity, PriceCollar, RiskCheck
from tradeforge.risk.config import build_risk
from tradeforge.venues.fee_tiers import FeeTier, TieredBpsFee
from tradeforge.venues.fees import BpsFee, FeeModel, NoFee, PerUnitFee
from tradeforge.venues.impact import AlmgrenChrissImpact, ImpactModel, ParticipationCap, SquareRootImpact
from tradeforge.venues.latency import DistributionLatency
from tradeforge.venues.queue import LogShape, PowerShape, ProbabilisticQueue, QueueModel, RiskAverseQueue
from tradeforge.venues.replay.flow import flow_from_lobster, flow_from_mbo
from tradeforge.venues.replay.venue import BookReplayVenue, ReplayVenueConfig
from tradeforge.venues.simulated import SimulatedVenueConfig
from tradeforge.venues.slippage import FixedTickSlippage, NoSlippage, RandomTickSlippage, SlippageModel


def _money(value: str) -> int:
    return parse_raw(value, MONEY_PRECISION, "money")


def load_instruments(cfg: BacktestConfig, base: Path) -> InstrumentProvider:
    provider = InstrumentProvider()
    for f in cfg.instruments.files:
        for inst in InstrumentProvider.from_toml(base / f):
            provider.add(inst)
    return provider


def _display_path(path: Path) -> Path:
    """The path relative to the working folder when inside it (errors name the file as the user sees it)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def load_data(d: DataConfig, base: Path, instruments: InstrumentProvider) -> tuple[list[Columns], list[BadRecord]]:
    """Load one ``[[data]]`` entry into columns (one per instrument), records checked as they are read."""
    if d.path is None:
        raise ValueError(f"data of kind {d.kind} has no path")
    path = _display_path(base / d.path)
    policy = BadRecordPolicy(d.bad_records)
    cols = dict(d.columns) or None
    suffix = "".join(path.suffixes)
    if d.kind == "bars":
        assert d.interval is not None
        bars, bad = load_csv_bars(
            path, instruments=instruments, instrument_id=d.instrument_id, symbol_column=d.symbol_column,
            venue=d.venue, columns=cols, timestamp_column=d.timestamp_column, timezone=d.timezone,
            timestamp_convention=d.timestamp_convention, interval_ns=parse_interval_ns(d.interval),
            session_close=d.session_close, policy=policy,
        )
        if d.symbols is not None:
            wanted = {f"{s}.{d.venue}" for s in d.symbols}
            bars = [b for b in bars if b.instrument_id in wanted]
        return list(bars), bad
    if d.instrument_id is None:
        raise ValueError(f"{path}: quotes and trades need instrument_id")
    if d.kind == "quotes":
        if ".parquet" in suffix:
            q, bad = load_parquet_quotes(path, instrument_id=d.instrument_id, instruments=instruments, columns=cols, policy=policy)
        else:
            q, bad = load_csv_quotes(
                path, instrument_id=d.instrument_id, instruments=instruments, columns=cols,
                timestamp_column=d.timestamp_column, timezone=d.timezone, policy=policy,
            )
        return [q], bad
    t, bad = load_parquet_trades(path, instrument_id=d.instrument_id, instruments=instruments, columns=cols, policy=policy)
    return [t], bad


_CALENDARS = {"nyse": nyse_calendar, "cme": cme_globex_calendar}


def check_integrity(
    d: DataConfig, columns: list[Columns], instruments: InstrumentProvider, source: str,
) -> tuple[list[Columns], list[BadRecord], Counter[str]]:
    """Run every loaded stream through :func:`~tradeforge.data.integrity.validate`: errors follow the
    entry's ``bad_records`` policy, warnings (locked quotes, outliers, calendar and sequence gaps) are
    counted and never drop data."""
    policy = BadRecordPolicy(d.bad_records)
    calendar = _CALENDARS[d.calendar]() if d.calendar is not None else None
    clean: list[Columns] = []
    bad: list[BadRecord] = []
    warnings: Counter[str] = Counter()
    for c in columns:
        report = validate(c, instruments.get(c.instrument_id), f"{source} [{c.instrument_id}]", policy, calendar)
        clean.append(report.clean)
        bad.extend(report.bad)
        for issue in report.warnings:
            warnings[issue.kind.value] += 1
    return clean, bad, warnings


def _fee_model(fees: FeeConfig, now_ns: Callable[[], int] | None = None) -> FeeModel:
    if fees.model == "tiered":
        tiers = [FeeTier(_money(t.volume), t.maker_bps, t.taker_bps) for t in fees.tiers]
        return TieredBpsFee(tiers, window_ns=fees.window_days * NANOS_PER_DAY, minimum_raw=_money(fees.minimum),
                            track_fills=True, now_ns=now_ns)
    if fees.model == "per_unit":
        return PerUnitFee(_money(fees.per_unit), _money(fees.minimum), fees.max_bps)
    if fees.model == "bps":
        return BpsFee(fees.maker_bps, fees.taker_bps, _money(fees.minimum))
    return NoFee()


def _impact(v: VenueConfig, instruments: InstrumentProvider) -> ImpactModel | None:
    im = v.impact
    if im.model == "sqrt":
        model = SquareRootImpact(im.eta, default_sigma=im.sigma, rounding=im.rounding)
        if im.adv is not None:  # the same ADV for every instrument of the venue until bars teach it
            model.on_daily_volume(parse_raw(im.adv, _size_precision(v, instruments), "impact.adv"))
        return model
    if im.model == "almgren_chriss":
        horizon = parse_interval_ns(im.horizon) if im.horizon else None
        return AlmgrenChrissImpact(im.eta, im.gamma, horizon, im.rounding)
    return None


def _size_precision(v: VenueConfig, instruments: InstrumentProvider) -> int:
    precisions = {i.size_precision for i in instruments if i.venue == v.name}
    if len(precisions) > 1:
        raise ConfigError(f"venue {v.name}: impact.adv needs one size precision across its instruments")
    return precisions.pop() if precisions else 0


def _slippage(s: SlippageConfig, seed: int) -> SlippageModel:
    if s.model == "ticks":
        return FixedTickSlippage(s.ticks)
    if s.model == "random":
        return RandomTickSlippage(s.probability, s.ticks, seed)
    return NoSlippage()


def _risk_checks(cfg: BacktestConfig, instruments: InstrumentProvider) -> list[RiskCheck]:
    r = cfg.risk
    checks: list[RiskCheck] = []

    if r.max_order_quantity is not None or r.max_order_quantity_per_instrument:
        checks.append(MaxOrderQuantity(
            None if r.max_order_quantity is None else parse_raw(r.max_order_quantity, 9, "risk.max_order_quantity"),
            {iid: parse_raw(v, 9, f"risk.max_order_quantity_per_instrument.{iid}")
             for iid, v in r.max_order_quantity_per_instrument.items()},
        ))
    if r.max_order_notional is not None or r.max_order_notional_per_instrument:
        checks.append(MaxOrderNotional(
            None if r.max_order_notional is None else _money(r.max_order_notional),
            {iid: _money(v) for iid, v in r.max_order_notional_per_instrument.items()},
        ))
    if r.price_collar_bps is not None:
        checks.append(PriceCollar(r.price_collar_bps))
    if r.buying_power:
        checks.append(BuyingPower(r.market_buffer_bps, r.allow_short or cfg.run.account == "margin"))
    return checks


def _ordered(basic: list[RiskCheck], full: list[RiskCheck]) -> list[RiskCheck]:
    """Fat-finger and collar checks first, then the full engine's, buying power last."""
    bp = [c for c in basic if isinstance(c, BuyingPower)]
    return [*(c for c in basic if not isinstance(c, BuyingPower)), *full, *bp]


def _risk_engine(cfg: BacktestConfig, base: Path) -> tuple[list[RiskCheck], dict[str, Any]]:
    """The full risk engine's checks (run before the basic ones) and its options, from ``[risk]``."""
    r = cfg.risk
    try:
        return build_risk(
            r.limit, base=base, sectors_file=r.sectors_file, sectors_venue=r.sectors_venue, accounts=r.accounts,
            restricted=r.restricted, duplicate_window=r.duplicate_window, self_trade=r.self_trade,
            lot_tick=r.lot_tick, collar=r.collar, unwind=r.unwind, var=r.var, seed=cfg.run.seed, stress=r.stress,
        )
    except (ValueError, OSError) as exc:
        raise ConfigError(f"risk: {exc}") from None


def build_engine(cfg: BacktestConfig, base: Path, on_load: Callable[[str], None] | None = None) -> BacktestEngine:
    """Everything a config describes, assembled and loaded, ready to :meth:`~BacktestEngine.run`."""
    instruments = load_instruments(cfg, base)
    risk_checks, risk_options = _risk_engine(cfg, base)
    if cfg.risk.compiled:
        risk_options["compiled"] = True
    engine = BacktestEngine(
        instruments, cfg.run.currency, _money(cfg.run.starting_cash),
        oms_type=OmsType(cfg.run.oms.upper()),
        risk_checks=_ordered(_risk_checks(cfg, instruments), risk_checks),
        risk_options=risk_options,
        trading_state=TradingState(cfg.risk.trading_state.upper()),
        chunk_size=cfg.run.chunk_size,
        check_invariant=cfg.run.check_invariant,
    )
    for v in cfg.venue:
        if v.fidelity is not None:
            engine.add_replay_venue(replay_venue_config(v, cfg.run.seed), _fee_model(v.fees, engine.clock.timestamp_ns))
            continue
        calendar = _CALENDARS[v.calendar]() if v.calendar is not None else None
        down = tuple((parse_timestamp_ns(a), parse_timestamp_ns(b)) for a, b in v.down)
        vc = SimulatedVenueConfig(
            v.name, v.participation, v.limit_fill, v.latency_ns, calendar, down, v.reject_rate, cfg.run.seed
        )
        cap = None
        if v.trade_participation is not None:
            cap = ParticipationCap(v.trade_participation, parse_interval_ns(v.participation_window))
        engine.add_venue(vc, _fee_model(v.fees, engine.clock.timestamp_ns), _slippage(v.slippage, cfg.run.seed),
                         _impact(v, instruments), cap)
    start = parse_timestamp_ns(cfg.run.start) if cfg.run.start else None
    end = parse_timestamp_ns(cfg.run.end) if cfg.run.end else None
    for d in cfg.data:
        if on_load is not None:
            on_load(d.path or str(d.catalog))
        if d.kind in ("lobster", "mbo"):
            _add_order_flow(engine, d, base, instruments, start, end)
            continue
        if d.catalog is not None:  # streamed from disk, batch by batch
            for iid in d.instrument_ids or [d.instrument_id]:
                engine.add_catalog(base / d.catalog, d.kind, str(iid), start, end)
            continue
        columns, bad = load_data(d, base, instruments)
        columns, more_bad, warnings = check_integrity(d, columns, instruments, str(d.path))
        engine.quarantined.extend(bad)
        engine.quarantined.extend(more_bad)
        engine.data_warnings.update(warnings)
        for c in columns:
            c = _window(c, start, end)
            if len(c):
                engine.add_data(c)
    for s in cfg.strategy:
        cls = load_strategy_class(s.class_path, base)
        params = dict(s.params)
        if params.get("instruments") == "all":
            params["instruments"] = sorted({st.instrument_id for st in engine.streams})
        engine.add_strategy(cls(s.id, params))
    return engine


def replay_venue_config(v: VenueConfig, seed: int) -> ReplayVenueConfig:
    """The book-replay venue a ``[[venue]]`` table with a ``fidelity`` describes."""
    q = v.queue
    if q.model == "risk_averse":
        queue: QueueModel = RiskAverseQueue()
    else:
        shape = PowerShape(q.n) if q.shape == "power" else LogShape(q.scale)
        queue = ProbabilisticQueue(shape, seed if q.random else None)
    latency = DistributionLatency.from_config(v.latency, seed) if v.latency else None
    down = tuple((parse_timestamp_ns(a), parse_timestamp_ns(b)) for a, b in v.down)
    calendar = _CALENDARS[v.calendar]() if v.calendar is not None else None
    return ReplayVenueConfig(v.name, v.fidelity or "l3", queue, latency, down, v.reject_rate, seed, calendar)


def _add_order_flow(
    engine: BacktestEngine, d: DataConfig, base: Path, instruments: InstrumentProvider,
    start: int | None, end: int | None,
) -> None:
    """An L3 order flow (LOBSTER message + orderbook files, or Databento MBO) through its venue."""
    assert d.path is not None and d.instrument_id is not None
    inst = instruments.get(d.instrument_id)
    policy = BadRecordPolicy(d.bad_records)
    if d.kind == "lobster":
        msgs, bad = read_lobster_messages(base / d.path, policy=policy)
        ob = None
        if d.orderbook is not None:
            ob, more = read_lobster_orderbook(base / d.orderbook, policy=policy)
            bad = [*bad, *more]
        flow = flow_from_lobster(msgs, ob, str(inst.id))
    else:
        cols, bad = load_dbn_mbo(base / d.path, instrument=inst, policy=policy)
        flow = flow_from_mbo(cols)
    engine.quarantined.extend(bad)
    if start is not None or end is not None:
        ts = flow.ts_event
        keep = np.ones(len(ts), dtype=bool)
        if start is not None:
            keep &= ts >= start
        if end is not None:
            keep &= ts < end
        flow = flow.take(np.flatnonzero(keep))
    venue = engine.venues.get(inst.venue)
    feed = venue.latency if isinstance(venue, BookReplayVenue) else None
    engine.add_order_flow(flow, feed)


def _window(c: Columns, start: int | None, end: int | None) -> Columns:
    if start is None and end is None:
        return c
    ts = c.ts_init
    lo = 0 if start is None else int(np.searchsorted(ts, start, side="left"))
    hi = len(ts) if end is None else int(np.searchsorted(ts, end, side="left"))
    arrays = {f.name: getattr(c, f.name)[lo:hi] for f in dataclasses.fields(c) if isinstance(getattr(c, f.name), np.ndarray)}
    return dataclasses.replace(c, **arrays)


def run_backtest(
    config_path: str | Path, out_dir: str | Path | None = None, progress: Callable[[int], None] | None = None,
    on_load: Callable[[str], None] | None = None, on_start: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Load the config, run it and (if ``out_dir``) write the results."""
    cfg, base = load_config(config_path)
    engine = build_engine(cfg, base, on_load)
    if on_start is not None:
        on_start(sum(len(s) for s in engine.streams))
    result = engine.run(progress)
    if out_dir is not None:
        result.write(out_dir)
        if cfg.risk.audit:
            engine.risk.write_results(out_dir)
    return result
