"""``risk_check``: pre-trade risk decisions per second with every check enabled, 500 instruments.

Setup (not timed): a kernel with 500 equities in 10 sectors, 4 strategies in 2 accounts, a position
in every instrument, ~1,000 open orders, marks and volumes from one bar per instrument, and ``n``
seeded orders (limit, within the collar; a few percent violate a limit). Every check is on:
trading state, reduce-only, lot/tick, min size, max quantity and notional, reference collar with a
stale rule, position limits (instrument, strategy), gross/net exposure (instrument, sector, strategy,
account, portfolio), concentration, daily loss and drawdown, order and message throttles (per
second and minute, per venue and strategy), max open orders, duplicates, restricted list,
self-trade, % ADV and buying power; the audit log records every decision (to a temporary file).

The engine is measured with ``compiled=True`` (``[risk] compiled = true``): every check is a standard
one, so decisions take the compiled path (array books + one numba call per order, built when the
kernel attaches the engine; the first run on a machine compiles the kernels, ~30 s, untimed).
``reference_checks_per_s`` is the same run on the plug-in path (``compiled=False``) and ``speedup``
the ratio; the cross-check asserts both paths made the same decisions (denials by check included).

Timed: ``RiskEngine.check`` for each order (the decision; passes are then counted by the throttles
and duplicate detector as a venue send would). ``p50_us``/``p99_us``/``max_us`` come from a second pass
timing each call alone. The bare loop is the same loop calling a function that returns ``None``.
Also reported: VaR/ES over 500 instruments x 1,000 scenarios per method (best of ``repeats``), ms.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import STARTING_CASH_RAW, base_record, peak_rss_mb, profiled, timed
from tradeforge.core.clock import SimulatedClock
from tradeforge.model.data import Bar
from tradeforge.model.enums import OrderSide, OrderType
from tradeforge.model.events import OrderFilled
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.model.orders import Order
from tradeforge.node.kernel import Kernel
from tradeforge.risk.audit import AuditLog
from tradeforge.risk.checks import BuyingPower, MaxOrderNotional, MaxOrderQuantity
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
from tradeforge.risk.scope import Limit, ScopedLimits
from tradeforge.risk.var import ewma_factor, historical_var, monte_carlo_var, parametric_var

NAME = "risk_check"
DEFAULT_N = 300_000
N_INST = 500
STRATEGIES = ("s0", "s1", "s2", "s3")
T0 = 1_700_000_000_000_000_000
S = 1_000_000_000
M = 10**9  # money / units at 1e-9


def _sl(*limits: tuple) -> ScopedLimits:
    return ScopedLimits([Limit(*x) for x in limits])


def checks() -> list[Any]:
    return [
        LotTickCheck(),
        MinOrderSize(_sl(("portfolio", 1 * M)), _sl(("portfolio", 10 * M))),
        MaxOrderQuantity(5_000 * M, {}),
        MaxOrderNotional(500_000 * M, {}),
        ReferenceCollar(_sl(("portfolio", 500), ("strategy", 300, "s3")), reference="last", max_age_ns=3_600 * S),
        PositionLimit(long=_sl(("instrument", 20_000 * M), ("strategy", 10_000 * M)),
                      short=_sl(("instrument", 20_000 * M), ("strategy", 10_000 * M)),
                      absolute=_sl(("portfolio", 20_000 * M))),
        ExposureLimit(gross=_sl(("instrument", 2_000_000 * M), ("sector", 60_000_000 * M),
                                ("strategy", 150_000_000 * M), ("portfolio", 400_000_000 * M)),
                      net=_sl(("account", 250_000_000 * M), ("portfolio", 300_000_000 * M))),
        ConcentrationLimit(_sl(("instrument", 500), ("sector", 2_000))),
        LossLimit(daily=_sl(("strategy", 5_000_000 * M), ("portfolio", 10_000_000 * M)),
                  drawdown=_sl(("portfolio", 10_000_000 * M)), rolling=ScopedLimits([])),
        Throttle(_sl(("venue", 1_000_000), ("strategy", 400_000)), window_ns=S),
        Throttle(_sl(("venue", 10_000_000)), window_ns=60 * S),
        Throttle(_sl(("strategy", 1_000_000)), window_ns=S, messages=True),
        MaxOpenOrders(_sl(("strategy", 100_000), ("instrument", 1_000))),
        DuplicateOrderCheck(1_000_000),  # 1 ms
        RestrictedList({"I499.XNYS"}),
        SelfTradeCheck(),
        MaxAdvPct(_sl(("portfolio", 1_000))),
        BuyingPower(allow_short_cash_settled=True),
    ]


def build(n: int, seed: int, audit_path: Path, compiled: bool = True) -> tuple[Kernel, list[Order]]:
    rng = np.random.default_rng(seed)
    provider = InstrumentProvider([
        instrument_from_dict({"id": f"I{k}.XNYS", "kind": "equity", "currency": "USD", "tick_size": "0.01",
                              "lot_size": "1"}, "bench") for k in range(N_INST)
    ])
    ids = [f"I{k}.XNYS" for k in range(N_INST)]
    clock = SimulatedClock(T0)
    k = Kernel(
        provider, clock, "USD", STARTING_CASH_RAW * 1_000,
        risk_checks=checks(),
        risk_options={
            "sectors": {iid: f"sector{j % 10}" for j, iid in enumerate(ids)},
            "accounts": {"s0": "a", "s1": "a", "s2": "b", "s3": "b"},
            "audit": AuditLog(audit_path, flush_every=65_536),
            "compiled": compiled,
        },
    )
    risk, pf = k.risk, k.portfolio
    risk.state.marked = True  # as Kernel.start() does when checks read prices
    prices = rng.integers(2_000, 50_000, N_INST)  # 20.00 .. 500.00
    day = T0 + 86_400 * S
    for j, iid in enumerate(ids):
        pf.register_instrument(provider.get(iid))
        px = int(prices[j])
        risk.on_bar(Bar(iid, px, px, px, px, 1_000_000, T0, T0, S))
        bar = Bar(iid, px, px + 10, px - 10, px, 1_000_000, day, day, 60 * S)  # yesterday's bar gave the average daily volume, today's the last price
        pf.on_bar(bar)
        risk.on_bar(bar)
    clock.set_time(day)
    for j, iid in enumerate(ids):  # a position in every instrument
        sid = STRATEGIES[j % 4]
        fill = OrderFilled(f"F{j}", sid, iid, T0, T0, "", f"E{j}", OrderSide.BUY, 1_000, int(prices[j]), 0, "USD")
        pf.apply_fill(fill)
        risk.on_order_event(fill)
    for j in range(1_000):  # ~1,000 resting orders, buys below and sells above the market
        iid = ids[j % N_INST]
        sid = STRATEGIES[j % 4]
        side = OrderSide.BUY if j % 2 else OrderSide.SELL
        px = int(prices[j % N_INST]) + (-50 if side is OrderSide.BUY else 50)
        o = Order(f"R{j}", sid, iid, side, OrderType.LIMIT, 10, T0, price=px)
        risk.state.release(o, px)
    inst_k = rng.integers(0, N_INST, n)
    strat_k = rng.integers(0, 4, n)
    side_k = rng.integers(0, 2, n)
    qty = rng.integers(1, 200, n)
    qty[rng.random(n) < 0.01] = 6_000  # fat finger
    offset = rng.integers(-20, 21, n)
    orders = [
        Order(f"o{i}", STRATEGIES[s], ids[j], OrderSide.BUY if sd else OrderSide.SELL, OrderType.LIMIT, int(q), T0,
              price=int(prices[j] + off - (5 if sd else -5) * 0))
        for i, (j, s, sd, q, off) in enumerate(zip(inst_k.tolist(), strat_k.tolist(), side_k.tolist(), qty.tolist(),
                                                   offset.tolist(), strict=True))
    ]
    gc.collect()
    gc.freeze()  # setup objects (orders, books) move out of the collector's way, as a live node does after start-up
    return k, orders


def _no_orders() -> tuple[()]:
    return ()


def run_checks(k: Kernel, orders: list[Order]) -> tuple[int, int]:
    risk = k.risk
    check = risk.check
    record = risk._record_message
    now = T0 + 86_400 * S
    passed = 0
    for o in orders:
        now += 2_000  # 2 µs apart: 500k orders per second of engine time
        if check(o, _no_orders, now) is None:
            passed += 1
            record(o, now, True)
    return passed, len(orders) - passed


def run_bare(orders: list[Order]) -> int:
    def check(_o: Order, _f: object, _t: int) -> None:
        return None

    now = T0
    passed = 0
    for o in orders:
        now += 2_000
        if check(o, _no_orders, now) is None:
            passed += 1
    return passed


def latencies(k: Kernel, orders: list[Order]) -> np.ndarray:
    check = k.risk.check
    pc = time.perf_counter_ns
    now = T0 + 86_400 * S
    out = np.empty(len(orders), dtype=np.int64)
    for i, o in enumerate(orders):
        now += 2_000
        t0 = pc()
        check(o, _no_orders, now)
        out[i] = pc() - t0
    return out


def var_timings(seed: int, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, (1_000, N_INST))
    w = rng.normal(0, 1e5, N_INST)
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name, fn in (
            ("historical", lambda: historical_var(r, w)),
            ("parametric_ewma", lambda: parametric_var(w, factor=ewma_factor(r))),
            ("monte_carlo_1000", lambda: monte_carlo_var(w, n=1_000, seed=1, factor=ewma_factor(r))),
        ):
            _, s = timed(fn)
            best[name] = min(best.get(name, 1e9), s * 1e3)
    return {f"var_{k}_ms": round(v, 3) for k, v in best.items()}


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        rss = 0.0
        setup_s = 0.0
        result = (0, 0)
        for r in range(repeats if not profile_top else 1):
            (k, orders), setup_s = timed(lambda r=r: build(n, seed, Path(tmp) / f"audit{r}.jsonl"))
            if profile_top:
                result, s = profiled(lambda k=k, orders=orders: run_checks(k, orders), profile_top)
            else:
                result, s = timed(lambda k=k, orders=orders: run_checks(k, orders))
            runs.append(s)
            rss = max(rss, peak_rss_mb())
            k.risk.audit.close()
            audit_lines = len(k.risk.audit)
        lat_orders = orders[: min(n, 200_000)]
        k2, lat_orders = build(len(lat_orders), seed + 1, Path(tmp) / "audit_lat.jsonl")
        lat = latencies(k2, lat_orders)
        k2.risk.audit.close()
        denials = dict(sorted(k.risk.denials.items()))
        compiled = k.risk.compiled_active
        (kr, orders_r), _ = timed(lambda: build(n, seed, Path(tmp) / "audit_ref.jsonl", compiled=False))
        ref_result, ref_s = timed(lambda: run_checks(kr, orders_r))
        kr.risk.audit.close()
        same = ref_result == result and dict(sorted(kr.risk.denials.items())) == denials
    bare_runs = [timed(lambda: run_bare(orders))[1] for _ in range(repeats)]
    rec = base_record(NAME, n, min(runs), min(bare_runs), setup_s, rss)
    passed, denied = result
    rec.update({
        "instruments": N_INST,
        "checks": len(k.risk.checks),
        "compiled": compiled,
        "reference_checks_per_s": round(n / ref_s, 1),
        "speedup": round(ref_s / min(runs), 2),
        "passed": passed,
        "denied": denied,
        "denials_by_check": denials,
        "audit_records": audit_lines,
        "p50_us": round(float(np.percentile(lat, 50)) / 1e3, 3),
        "p99_us": round(float(np.percentile(lat, 99)) / 1e3, 3),
        "max_us": round(float(lat.max()) / 1e3, 3),
        "latency_samples": len(lat),
        **var_timings(seed, repeats),
        "seed": seed,
        "repeats": repeats,
        "runs_seconds": [round(x, 4) for x in runs],
        "cross_check": "ok" if passed + denied == n and passed == k.risk.passed and same else "MISMATCH",
    })
    return rec
