"""Shared helpers: synthetic price paths, timing, peak RSS, money rounding and JSON output."""

from __future__ import annotations

import cProfile
import io
import json
import platform
import pstats
import resource
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from tradeforge.model.fixed import MONEY_PRECISION

T = TypeVar("T")

# One shared starting balance for both benchmarks: 1,000,000 USD at money precision 9.
STARTING_CASH_RAW = 1_000_000 * 10**9


def regime_walk(
    n: int,
    rng: np.random.Generator,
    base_raw: int,
    *,
    regime_mean: int = 300,
    drift_sd: float = 3e-4,
    noise_sd: float = 2e-4,
    reversion: float = 0.3,
) -> np.ndarray:
    """A trending, mean-reverting log-price path of ``n`` steps as raw integer prices (tick = 1 raw).

    The per-step drift is piecewise constant over regimes of geometric length (mean ``regime_mean``
    steps); each regime's drift is a fresh normal shock minus a pull of the log level back towards
    ``log(base)``, so the path trends for a few hundred steps at a time but stays in a realistic band
    (roughly 0.3x..3x of ``base_raw`` over a million steps). On top sits i.i.d. noise of ``noise_sd``
    per step. With the defaults an SMA(10)/SMA(30) cross-up happens about once every 300 steps.
    """
    k = n // regime_mean * 3 + 16
    lens = rng.geometric(1.0 / regime_mean, k)
    ends = np.cumsum(lens)
    k = min(int(np.searchsorted(ends, n)) + 1, k)
    lens = lens[:k]
    shocks = rng.normal(0.0, drift_sd, k)
    noise = rng.normal(0.0, noise_sd, n)
    noise_cum = np.concatenate(([0.0], np.cumsum(noise)))
    drifts = np.empty(k)
    level = 0.0
    start = 0
    for i in range(k):  # a few thousand regimes: a plain loop is fine here
        length = int(lens[i])
        end = min(start + length, n)
        drift = float(shocks[i]) - reversion * level / length
        drifts[i] = drift
        level += drift * (end - start) + float(noise_cum[end] - noise_cum[start])
        start = end
    log_path = np.cumsum(np.repeat(drifts, lens)[:n] + noise)
    return np.maximum(np.rint(base_raw * np.exp(log_path)), 1).astype(np.int64)


def round_money_half_up(raw: int, unit: int) -> int:
    """Round a non-negative money raw value half-up to a multiple of ``unit`` (the minor unit)."""
    return (raw + unit // 2) // unit * unit


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn`` once and return its result and the wall-clock seconds it took."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def profiled(fn: Callable[[], T], top: int) -> tuple[T, float]:
    """Like :func:`timed` but under cProfile; prints the ``top`` functions by tottime to stderr."""
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    out = prof.runcall(fn)
    dt = time.perf_counter() - t0
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    print(buf.getvalue(), file=sys.stderr)
    return out, dt


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kb //= 1024
    return round(kb / 1024, 1)


def base_record(
    name: str, n: int, seconds: float, bare_seconds: float, setup_seconds: float, rss_mb: float
) -> dict[str, Any]:
    """The fields every benchmark reports, in a fixed order."""
    eps = n / seconds if seconds > 0 else float("inf")
    bare_eps = n / bare_seconds if bare_seconds > 0 else float("inf")
    return {
        "name": name,
        "n_events": n,
        "seconds": round(seconds, 4),
        "events_per_s": round(eps, 1),
        "peak_rss_mb": rss_mb,
        "bare_loop_seconds": round(bare_seconds, 4),
        "bare_loop_events_per_s": round(bare_eps, 1),
        "ratio_to_bare_loop": round(eps / bare_eps, 4),
        "setup_seconds": round(setup_seconds, 4),
    }


def finish(record: dict[str, Any]) -> int:
    """Add environment fields, print the record as the last line of stdout, return the exit code."""
    record["python"] = platform.python_version()
    record["numpy"] = np.__version__
    print(json.dumps(record), flush=True)
    return 0 if record.get("cross_check") == "ok" else 1


def cross_check(engine_fills: int, engine_equity_raw: int, bare_fills: int, bare_equity_raw: int) -> str:
    """``"ok"`` when the engine and the bare loop agree exactly, else a description of the mismatch."""
    if engine_fills == bare_fills and engine_equity_raw == bare_equity_raw:
        return "ok"
    msg = (
        f"MISMATCH: engine fills={engine_fills} equity_raw={engine_equity_raw}, "
        f"bare loop fills={bare_fills} equity_raw={bare_equity_raw}"
    )
    print(msg, file=sys.stderr)
    return msg


def measure(
    name: str, n: int, seed: int, profile_top: int, repeats: int,
    build: Callable[[], Any], bare: Callable[[Any], tuple[int, int]],
) -> dict[str, Any]:
    """Time ``build().run()`` and ``bare(columns)`` (best of ``repeats`` each), cross-check them and
    return the benchmark's JSON record. ``build`` makes a fresh engine over the same data each call."""
    engine, setup_s = timed(build)
    columns = engine.streams[0].columns
    rss_before = peak_rss_mb()
    if profile_top:
        result, seconds = profiled(engine.run, profile_top)
    else:
        result, seconds = timed(engine.run)
    rss = peak_rss_mb()  # engine-phase high-water mark (data + engine + result), before the bare loop
    engine_fills = len(result.fills)
    engine_equity = result.portfolio.equity()
    engine_runs = [seconds]
    for _ in range(0 if profile_top else repeats - 1):  # fresh engines on the same data
        again, again_s = timed(build().run)
        engine_runs.append(again_s)
        if again.portfolio.equity() != engine_equity:
            raise SystemExit("engine runs disagree: the engine is not deterministic")
    bare_runs = []
    for _ in range(repeats):
        (bare_fills, bare_equity), bare_s = timed(lambda: bare(columns))
        bare_runs.append(bare_s)
    rec = base_record(name, n, min(engine_runs), min(bare_runs), setup_s, rss)
    rec.update(
        {
            "fills": engine_fills,
            "round_trips": engine_fills // 2,
            "final_equity": engine_equity / 10**MONEY_PRECISION,
            "final_equity_raw": engine_equity,
            "bare_loop_fills": bare_fills,
            "bare_loop_final_equity_raw": bare_equity,
            "errors": len(result.errors),
            "rss_after_setup_mb": rss_before,
            "peak_rss_mb_incl_bare_loop": peak_rss_mb(),
            "seed": seed,
            "repeats": repeats,
            "engine_runs_seconds": [round(x, 4) for x in engine_runs],
            "bare_loop_runs_seconds": [round(x, 4) for x in bare_runs],
            "profiled": bool(profile_top),
            "cross_check": cross_check(engine_fills, engine_equity, bare_fills, bare_equity),
        }
    )
    return rec
