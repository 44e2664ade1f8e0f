"""The run configuration: one TOML file describes a whole backtest.

Validated with ``msgspec`` against the structs below (unknown keys and wrong types are errors that
name the key, e.g. ``run.starting_cash: Expected `str`, got `int```). Paths are relative to the
config file's folder. Money and grid values are strings so they stay exact (``"1000000.00"``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradeforge.risk.config import CollarConfig, LimitConfig, StressConfig, UnwindConfig, VarConfig


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and the key."""


class _Cfg(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class RunConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    name: str = "backtest"
    seed: int = 0
    currency: str
    starting_cash: str
    oms: Literal["netting", "hedging"] = "netting"
    account: Literal["cash", "margin"] = "cash"
    start: str | None = None  # ISO date/datetime, inclusive
    end: str | None = None  # ISO date/datetime, exclusive
    chunk_size: int = 65_536
    check_invariant: bool = False  # recompute the books on every timestamp (slow; for tests)


class InstrumentsConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    files: list[str]


class DataConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    kind: Literal["bars", "quotes", "trades", "lobster", "mbo"]  # lobster / mbo: L3 order flow
    path: str | None = None  # a file to load, or:
    orderbook: str | None = None  # lobster: the orderbook file (reveals levels the messages do not show)
    catalog: str | None = None  # a catalog folder made by `tradeforge data import` (streamed from disk)
    instrument_ids: list[str] | None = None  # catalog: several series of this kind
    instrument_id: str | None = None
    symbol_column: str | None = None
    venue: str | None = None
    symbols: list[str] | None = None  # keep only these symbols of a multi-instrument file
    columns: dict[str, str] = {}
    timestamp_column: str = "timestamp"
    timezone: str = "UTC"
    timestamp_convention: Literal["open", "close"] = "close"
    interval: str | None = None  # bars: "1m", "5m", "1h", "1d"
    session_close: str | None = None  # date-only bars: local close time, e.g. "16:00"
    bad_records: Literal["raise", "quarantine"] = "raise"
    calendar: Literal["nyse", "cme"] | None = None  # bars: report bars missing from this session calendar


class FeeTierConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    volume: str  # trailing traded notional (account currency) from which this tier applies
    maker_bps: float
    taker_bps: float


class FeeConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    model: Literal["none", "per_unit", "bps", "tiered"] = "none"
    per_unit: str = "0"
    minimum: str = "0"
    max_bps: int | None = None
    maker_bps: float = 0.0  # negative: a rebate
    taker_bps: float = 0.0
    tiers: list[FeeTierConfig] = []  # tiered: the first starts at volume "0"
    window_days: int = 30  # tiered: trailing volume window


class ImpactConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Market impact on taker fills for coarse data (bars, quotes, trades)."""

    model: Literal["none", "sqrt", "almgren_chriss"] = "none"
    eta: float = 1.0  # sqrt: dimensionless; almgren_chriss: price per (unit per second)
    gamma: float = 0.0  # almgren_chriss permanent: price per unit
    sigma: float | None = None  # sqrt: daily volatility as a fraction (0.02 = 2 %)
    adv: str | None = None  # sqrt: average daily volume (instrument units) until the bars teach it
    horizon: str | None = None  # almgren_chriss: time the parent order is worked, e.g. "30m"
    rounding: Literal["nearest", "adverse", "none"] = "nearest"


class SlippageConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    model: Literal["none", "ticks", "random"] = "none"
    ticks: int = 1
    probability: float = 0.0


class QueueConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """L2/L1 queue position model of a book-replay venue."""

    model: Literal["risk_averse", "probabilistic"] = "risk_averse"
    shape: Literal["power", "log"] = "power"
    n: float = 2.0  # power shape exponent
    scale: float = 1.0  # log shape scale
    random: bool = False  # probabilistic: draw each cancel (seeded by run.seed) instead of the expectation


class VenueConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    name: str
    fidelity: Literal["l3", "l2", "l1"] | None = None  # replay order flow (lobster / mbo data) at this level
    queue: QueueConfig = QueueConfig()
    latency: dict[str, dict[str, Any]] = {}  # replay venues: {feed|entry|response = {kind = ..., ...}}
    participation: float = 1.0
    limit_fill: Literal["through", "touch"] = "through"
    latency_ns: int = 0
    calendar: Literal["nyse", "cme"] | None = None  # DAY orders expire at this calendar's session close
    down: list[tuple[str, str]] = []  # [start, end) ISO times when the venue is unreachable
    reject_rate: float = 0.0  # share of new orders rejected at random (seeded by run.seed)
    fees: FeeConfig = FeeConfig()
    slippage: SlippageConfig = SlippageConfig()
    impact: ImpactConfig = ImpactConfig()
    trade_participation: float | None = None  # cap of fills driven by trade prints, share of traded volume
    participation_window: str = "1m"


class RiskConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    trading_state: Literal["active", "reducing", "halted"] = "active"
    max_order_quantity: str | None = None
    max_order_quantity_per_instrument: dict[str, str] = {}
    max_order_notional: str | None = None
    max_order_notional_per_instrument: dict[str, str] = {}
    price_collar_bps: int | None = None
    buying_power: bool = True
    market_buffer_bps: int = 100
    allow_short: bool = False
    # the full risk engine (see tradeforge.risk.config and docs/risk.md)
    limit: list[LimitConfig] = []
    sectors_file: str | None = None  # ticker,sector CSV; ids are TICKER.{sectors_venue}
    sectors_venue: str | None = None
    accounts: dict[str, str] = {}  # strategy id -> account
    restricted: list[str] = []
    duplicate_window: str | None = None
    self_trade: bool = False
    lot_tick: bool = False
    collar: CollarConfig | None = None
    unwind: UnwindConfig = UnwindConfig()
    var: VarConfig | None = None
    stress: list[StressConfig] = []  # [[risk.stress]] scenarios (shocks), valued in every risk report
    audit: bool = True  # write risk_audit.jsonl and risk_summary.json with the results
    compiled: bool = False  # decide on the compiled path (numba; every check must be a standard one)


class StrategyConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    id: str
    class_path: str = msgspec.field(name="class")
    params: dict[str, Any] = {}


class BacktestConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    run: RunConfig
    instruments: InstrumentsConfig
    data: list[DataConfig]
    venue: list[VenueConfig]
    strategy: list[StrategyConfig]
    risk: RiskConfig = RiskConfig()


def _describe(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if " - at `$." in text:
        msg, _, where = text.rpartition(" - at `$.")
        return f"{where.rstrip('`')}: {msg}"
    return text


def load_config(path: str | Path) -> tuple[BacktestConfig, Path]:
    """Read and validate a run config; returns it with the folder paths are relative to."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(doc, str(path)), path.resolve().parent


def parse_config(doc: dict[str, Any], source: str = "<config>") -> BacktestConfig:
    try:
        cfg = msgspec.convert(doc, BacktestConfig, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None
    _check_semantics(cfg, source)
    return cfg


def _check_semantics(cfg: BacktestConfig, source: str) -> None:
    from tradeforge.model.fixed import FixedPointError, parse_raw
    from tradeforge.model.timeutil import parse_timestamp_ns

    def money(key: str, value: str | None) -> None:
        if value is None:
            return
        try:
            parse_raw(value, 9, key)
        except FixedPointError as exc:
            raise ConfigError(f"{source}: {key}: {exc}") from None

    money("run.starting_cash", cfg.run.starting_cash)
    money("risk.max_order_notional", cfg.risk.max_order_notional)
    for i, v in enumerate(cfg.venue):
        if not 0 < v.participation <= 1:
            raise ConfigError(f"{source}: venue[{i}].participation: must be in (0, 1], got {v.participation}")
        if v.latency_ns < 0:
            raise ConfigError(f"{source}: venue[{i}].latency_ns: must be >= 0")
        if not 0 <= v.reject_rate < 1:
            raise ConfigError(f"{source}: venue[{i}].reject_rate: must be in [0, 1), got {v.reject_rate}")
        for k, (start, end) in enumerate(v.down):
            try:
                if parse_timestamp_ns(end) <= parse_timestamp_ns(start):
                    raise ValueError("the end must be after the start")
            except ValueError as exc:
                raise ConfigError(f"{source}: venue[{i}].down[{k}]: {exc}") from None
        if v.latency:
            from tradeforge.venues.latency import DistributionLatency

            if v.fidelity is None:
                raise ConfigError(f"{source}: venue[{i}].latency: latency legs are for replay venues (fidelity); "
                                  "bar/quote venues take latency_ns")
            try:
                DistributionLatency.from_config(v.latency)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{source}: venue[{i}].latency: {exc}") from None
        if v.fees.model == "tiered":
            if not v.fees.tiers or v.fees.tiers[0].volume.strip() not in ("0", "0.0"):
                raise ConfigError(f"{source}: venue[{i}].fees.tiers: a tiered fee needs tiers, the first at volume \"0\"")
            for k, t in enumerate(v.fees.tiers):
                money(f"venue[{i}].fees.tiers[{k}].volume", t.volume)
        im = v.impact
        if im.model == "sqrt" and im.sigma is None:
            raise ConfigError(f"{source}: venue[{i}].impact.sigma: required for the square-root model")
        if im.model == "almgren_chriss" and im.horizon is None:
            raise ConfigError(f"{source}: venue[{i}].impact.horizon: required for Almgren-Chriss (e.g. \"30m\")")
        for key, text in (("impact.horizon", im.horizon), ("participation_window", v.participation_window)):
            if text is not None:
                try:
                    parse_interval_ns(text)
                except ValueError as exc:
                    raise ConfigError(f"{source}: venue[{i}].{key}: {exc}") from None
        if v.trade_participation is not None and not 0 < v.trade_participation <= 1:
            raise ConfigError(f"{source}: venue[{i}].trade_participation: must be in (0, 1]")
        money(f"venue[{i}].fees.per_unit", v.fees.per_unit)
        money(f"venue[{i}].fees.minimum", v.fees.minimum)
    for i, d in enumerate(cfg.data):
        if (d.path is None) == (d.catalog is None):
            raise ConfigError(f"{source}: data[{i}]: give exactly one of 'path' or 'catalog'")
        if d.catalog is not None:
            if d.instrument_id is None and not d.instrument_ids:
                raise ConfigError(f"{source}: data[{i}]: a catalog source needs instrument_id or instrument_ids")
            if d.calendar is not None:
                raise ConfigError(
                    f"{source}: data[{i}].calendar: catalog data was validated when it was imported "
                    "(`tradeforge data import`); calendar applies to file sources"
                )
            continue
        if d.kind in ("lobster", "mbo"):
            if d.instrument_id is None:
                raise ConfigError(f"{source}: data[{i}].instrument_id: required for {d.kind} order flow")
            continue
        if d.orderbook is not None:
            raise ConfigError(f"{source}: data[{i}].orderbook: only for kind = \"lobster\"")
        if d.kind == "bars" and d.interval is None:
            raise ConfigError(f"{source}: data[{i}].interval: required for bars (e.g. \"1m\", \"1d\")")
        if d.instrument_id is None and d.symbol_column is None:
            raise ConfigError(f"{source}: data[{i}]: give instrument_id or symbol_column")
        if d.symbol_column is not None and d.venue is None:
            raise ConfigError(f"{source}: data[{i}].venue: required with symbol_column")
        if d.interval is not None:
            try:
                parse_interval_ns(d.interval)
            except ValueError as exc:
                raise ConfigError(f"{source}: data[{i}].interval: {exc}") from None
    if not cfg.strategy:
        raise ConfigError(f"{source}: strategy: at least one [[strategy]] is required")
    ids = [s.id for s in cfg.strategy]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{source}: strategy.id: ids must be unique, got {ids}")


_UNITS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}


def parse_interval_ns(text: str) -> int:
    """``"1m"`` -> 60e9; units s, m, h, d."""
    num, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not num.isdigit() or int(num) <= 0:
        raise ValueError(f"{text!r} is not an interval like 30s, 1m, 4h, 1d")
    return int(num) * _UNITS[unit]
