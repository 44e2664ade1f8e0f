"""Risk settings of a run config (``[risk]`` in TOML) and how they become checks, monitors and options.

Limits are listed as ``[[risk.limit]]`` tables: ``type``, ``scope`` (instrument, strategy, account,
venue, sector, portfolio), optional ``key`` (omitted: every key of the scope), ``value`` (a string:
units for positions and sizes, money for exposure and losses, percent for concentration and ADV, a
count for rates and open orders), optional ``window`` (rates, rolling loss), and ``action``: ``deny``
(the default: pre-trade only) or a breach action (``alert``, ``reduce_only``, ``cancel``, ``halt``,
``unwind``) that a post-trade monitor takes when the metric is breached, with ``hard`` the level at
which an unwind turns aggressive. ``margin_call`` (portfolio, post-trade only) breaches when equity
falls within ``value`` (money, "0" for none) of the maintenance margin.

Stress scenarios are ``[[risk.stress]]`` tables: ``name``, ``shocks`` (instrument id, sector or
``"*"`` -> percent, e.g. ``"-20%"``), and optionally ``limit`` (a loss, money) with an ``action``
taken when the scenario's loss on the current positions exceeds it. Every risk report values each
scenario.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradeforge.model.fixed import parse_raw
from tradeforge.risk.breach import Action, Monitor
from tradeforge.risk.checks import RiskCheck
from tradeforge.risk.checks_flow import MaxOpenOrders, Throttle
from tradeforge.risk.checks_limits import ConcentrationLimit, ExposureLimit, LossLimit, PositionLimit
from tradeforge.risk.checks_order import (
    DuplicateOrderCheck,
    LotTickCheck,
    MaxAdvPct,
    MinOrderSize,
    ReferenceCollar,
    RestrictedList,
    SelfTradeCheck,
)
from tradeforge.risk.scope import ALL, PORTFOLIO, Limit, ScopedLimits
from tradeforge.risk.stress import StressScenario

LimitType = Literal[
    "min_quantity", "min_notional", "position_long", "position_short", "position_abs", "gross_exposure",
    "net_exposure", "concentration", "daily_loss", "drawdown", "rolling_loss", "order_rate", "message_rate",
    "max_open_orders", "max_adv_pct", "collar_bps", "margin_call",
]
_UNITS = {"min_quantity", "position_long", "position_short", "position_abs"}
_MONEY = {"min_notional", "gross_exposure", "net_exposure", "daily_loss", "drawdown", "rolling_loss", "margin_call"}
_PERCENT = {"concentration", "max_adv_pct"}  # -> basis points
_MONITORED = {"daily_loss": "daily_loss", "drawdown": "drawdown", "rolling_loss": "rolling_loss",
              "gross_exposure": "gross_exposure", "net_exposure": "net_exposure",
              "concentration": "concentration", "position_abs": "position", "margin_call": "margin_call"}
_DUR = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}


class _Cfg(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class LimitConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    type: LimitType
    scope: Literal["instrument", "strategy", "account", "venue", "sector", "portfolio"] = "portfolio"
    key: str = ALL
    value: str
    window: str | None = None
    action: Literal["deny", "alert", "reduce_only", "cancel", "halt", "unwind"] = "deny"
    hard: str | None = None


class CollarConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    reference: Literal["last", "mid", "mark"] = "mark"
    max_age: str | None = None  # e.g. "2m"; older references are stale
    missing: Literal["deny", "allow"] = "deny"  # what a missing or stale reference means


class UnwindConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    horizon: str = "1h"
    interval: str = "5m"
    participation: float = 0.1


class VarConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    interval: str = "1d"
    confidence: float = 0.99
    window: int = 250
    paths: int = 1000
    lam: float = 0.94


class StressConfig(_Cfg, kw_only=True, forbid_unknown_fields=True, frozen=True):
    name: str
    shocks: dict[str, str | float]  # instrument id / sector / "*" -> percent ("-20%" or -20)
    limit: str | None = None  # a loss (money) beyond which ``action`` is taken
    action: Literal["alert", "reduce_only", "cancel", "halt", "unwind"] = "alert"
    hard: str | None = None  # an unwind turns aggressive beyond this loss


def _percent(value: str | float, where: str) -> float:
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError(f"{where}: {value!r} is not a percent like '-20%'")
        text = text[:-1]
        try:
            return float(text) / 100
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a percent like '-20%'") from None
    return float(value) / 100


def stress_scenarios(configs: list[StressConfig]) -> tuple[list[StressScenario], list[Monitor]]:
    """The scenarios ``[[risk.stress]]`` describes and a portfolio monitor for each one with a ``limit``."""
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"risk.stress: scenario names must be unique, got {names}")
    scenarios, monitors = [], []
    for c in configs:
        where = f"risk.stress {c.name!r}"
        sc = StressScenario(c.name, {k: _percent(v, f"{where}.shocks.{k}") for k, v in c.shocks.items()})
        scenarios.append(sc)
        if c.limit is not None:
            limit = parse_raw(c.limit, 9, f"{where}.limit")
            hard = parse_raw(c.hard, 9, f"{where}.hard") if c.hard is not None else None
            monitors.append(Monitor(f"stress_loss:{c.name}", PORTFOLIO, limit, Action(c.action), scenario=sc, hard=hard))
        elif c.hard is not None:
            raise ValueError(f"{where}: hard needs a limit")
    return scenarios, monitors


def duration_ns(text: str) -> int:
    """``"500ms"``, ``"1s"``, ``"5m"``, ``"1h"``, ``"2d"`` -> nanoseconds."""
    for unit in ("ms", "s", "m", "h", "d"):
        num = text[: -len(unit)]
        if text.endswith(unit) and num.isdigit() and int(num) > 0:
            return int(num) * _DUR[unit]
    raise ValueError(f"{text!r} is not a duration like 500ms, 1s, 5m, 1h, 1d")


def _value(lim: LimitConfig, field: str = "value") -> int:
    text = getattr(lim, field)
    if lim.type in _UNITS or lim.type in _MONEY:
        return parse_raw(text, 9, f"risk.limit {lim.type}.{field}")
    if lim.type in _PERCENT:
        return parse_raw(text, 2, f"risk.limit {lim.type}.{field}")  # percent with 2 decimals = bps
    return int(text)


def load_sectors(path: Path, venue: str) -> dict[str, str]:
    """``ticker,sector`` CSV (header row) -> ``{"TICKER.VENUE": sector}``."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {f"{r[0]}.{venue}": r[1] for r in rows[1:] if len(r) >= 2}


def build_risk(
    limits: list[LimitConfig], *, base: Path, sectors_file: str | None = None, sectors_venue: str | None = None,
    accounts: dict[str, str] | None = None, restricted: list[str] | None = None,
    duplicate_window: str | None = None, self_trade: bool = False, lot_tick: bool = False,
    collar: CollarConfig | None = None, unwind: UnwindConfig | None = None, var: VarConfig | None = None,
    seed: int = 0, stress: list[StressConfig] | None = None,
) -> tuple[list[RiskCheck], dict[str, Any]]:
    """The checks (in a fixed order) and the ``RiskEngine`` keyword options a ``[risk]`` table describes."""
    by_type: dict[str, list[LimitConfig]] = defaultdict(list)
    for lim in limits:
        by_type[lim.type].append(lim)

    def scoped(t: str) -> ScopedLimits:
        return ScopedLimits([Limit(x.scope, _value(x), x.key) for x in by_type.get(t, ())])

    checks: list[RiskCheck] = []
    if lot_tick:
        checks.append(LotTickCheck())
    if restricted:
        checks.append(RestrictedList(set(restricted)))
    if by_type.get("min_quantity") or by_type.get("min_notional"):
        checks.append(MinOrderSize(scoped("min_quantity"), scoped("min_notional")))
    if by_type.get("collar_bps"):
        c = collar or CollarConfig()
        checks.append(ReferenceCollar(scoped("collar_bps"), c.reference,
                                      duration_ns(c.max_age) if c.max_age else None, c.missing))
    if duplicate_window:
        checks.append(DuplicateOrderCheck(duration_ns(duplicate_window)))
    if self_trade:
        checks.append(SelfTradeCheck())
    for kind in ("order_rate", "message_rate"):
        for window in sorted({x.window or "1s" for x in by_type.get(kind, ())}, key=duration_ns):
            entries = [x for x in by_type[kind] if (x.window or "1s") == window]
            checks.append(Throttle(ScopedLimits([Limit(x.scope, _value(x), x.key) for x in entries]),
                                   duration_ns(window), messages=kind == "message_rate"))
    if by_type.get("max_open_orders"):
        checks.append(MaxOpenOrders(scoped("max_open_orders")))
    if by_type.get("max_adv_pct"):
        checks.append(MaxAdvPct(scoped("max_adv_pct")))
    if any(by_type.get(t) for t in ("position_long", "position_short", "position_abs")):
        checks.append(PositionLimit(scoped("position_long"), scoped("position_short"), scoped("position_abs")))
    if by_type.get("gross_exposure") or by_type.get("net_exposure"):
        checks.append(ExposureLimit(scoped("gross_exposure"), scoped("net_exposure")))
    if by_type.get("concentration"):
        checks.append(ConcentrationLimit(scoped("concentration")))
    if any(by_type.get(t) for t in ("daily_loss", "drawdown", "rolling_loss")):
        windows = {x.window or "1h" for x in by_type.get("rolling_loss", ())}
        if len(windows) > 1:
            raise ValueError("risk.limit rolling_loss: give every entry the same window")
        win = duration_ns(windows.pop()) if windows else 3_600_000_000_000
        checks.append(LossLimit(scoped("daily_loss"), scoped("drawdown"), scoped("rolling_loss"), win))
    for x in limits:
        if x.action != "deny" and x.type not in _MONITORED:
            raise ValueError(f"risk.limit {x.type}: breach actions apply to {sorted(_MONITORED)}; use action = 'deny'")
        if x.type == "margin_call" and (x.action == "deny" or x.scope != PORTFOLIO):
            raise ValueError("risk.limit margin_call: a portfolio post-trade limit; give it scope 'portfolio' and an "
                             "action (alert, reduce_only, cancel, halt, unwind)")
    monitors = [
        Monitor(_MONITORED[x.type], x.scope, -_value(x) if x.type == "margin_call" else _value(x), Action(x.action),
                x.key, _value(x, "hard") if x.hard is not None else None)
        for x in limits if x.action != "deny" and x.type in _MONITORED
    ]
    scenarios, stress_monitors = stress_scenarios(list(stress or ()))
    monitors += stress_monitors
    u = unwind or UnwindConfig()
    options: dict[str, Any] = {
        "sectors": load_sectors(base / sectors_file, sectors_venue or "") if sectors_file else {},
        "accounts": dict(accounts or {}),
        "monitors": monitors,
        "unwind_horizon_ns": duration_ns(u.horizon),
        "unwind_interval_ns": duration_ns(u.interval),
        "unwind_participation": u.participation,
    }
    if var is not None:
        options["var_interval_ns"] = duration_ns(var.interval)
        options["var_options"] = {"alpha": var.confidence, "window": var.window, "mc_paths": var.paths,
                                  "lam": var.lam, "seed": seed}
    if scenarios:
        options.setdefault("var_options", {})["scenarios"] = scenarios
    return checks, options
