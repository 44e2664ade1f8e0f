"""Deterministic performance statistics for a backtest result (pure numpy).

All statistics are computed from arrays with vectorized numpy operations and
returned as a flat, JSON-serializable dict. Floats are rounded to 10
significant digits so that ``json.dumps(summary, sort_keys=True)`` is
byte-stable across platforms; undefined values (too few samples, zero
variance, non-positive denominators, non-finite results) are ``None``.

Return-based statistics (volatility, Sharpe, Sortino)
-----------------------------------------------------
By default (``periods_per_year=None``) equity is resampled to one value per
UTC calendar day (the last sample of each day; days without samples are
skipped, not filled) and daily simple returns are annualized with
``sqrt(252)``. Daily-resampled returns are the convention because an
intraday run and a daily-bar run of the same strategy then produce directly
comparable numbers, independent of the sampling frequency. If
``periods_per_year`` is given, raw sample-to-sample returns are used and
annualized with ``sqrt(periods_per_year)`` instead.

Sharpe uses a zero risk-free rate. Sortino uses the downside deviation
``sqrt(mean(min(r, 0) ** 2))`` over all returns (target 0). If equity reaches
zero or below, returns are truncated after the first non-positive sample
(the return into it is kept; returns from a non-positive base are undefined).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["TRADING_DAYS_PER_YEAR", "compute_summary"]

TRADING_DAYS_PER_YEAR = 252.0
NS_PER_DAY = 86_400 * 1_000_000_000
NS_PER_YEAR = 365.25 * NS_PER_DAY
_SIG_DIGITS = 10
# Standard deviations of simple returns below this are treated as zero variance
# (guards against floating-point noise turning a constant-growth path into an
# astronomically large Sharpe ratio).
_ZERO_STD = 1e-12

Summary = dict[str, float | int | str | None]


def _round(x: float | np.floating | None) -> float | None:
    """Round to 10 significant digits; non-finite or None -> None; -0.0 -> 0.0."""
    if x is None:
        return None
    xf = float(x)
    if not np.isfinite(xf):
        return None
    return float(f"{xf:.{_SIG_DIGITS}g}") + 0.0


def _iso_utc(ts_ns: int) -> str:
    """ISO-8601 UTC string for a UNIX-ns timestamp (microsecond resolution)."""
    sec, rem_ns = divmod(int(ts_ns), 1_000_000_000)
    dt = datetime.fromtimestamp(sec, tz=UTC) + timedelta(microseconds=rem_ns // 1000)
    return dt.isoformat()


def _daily_last(ts_ns: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """Last equity sample of each UTC calendar day, in time order."""
    day = ts_ns // NS_PER_DAY  # floor division: correct for pre-1970 too
    is_last = np.empty(day.shape[0], dtype=bool)
    is_last[:-1] = day[1:] != day[:-1]
    is_last[-1] = True
    return equity[is_last]


def _simple_returns(values: np.ndarray) -> np.ndarray:
    """Simple returns, truncated after the first non-positive value."""
    nonpos = np.flatnonzero(values <= 0.0)
    if nonpos.size:
        values = values[: nonpos[0] + 1]
    if values.shape[0] < 2:
        return np.empty(0, dtype=np.float64)
    return values[1:] / values[:-1] - 1.0


def _return_stats(returns: np.ndarray, periods_per_year: float) -> tuple[float | None, float | None, float | None]:
    """(annualized volatility, Sharpe, Sortino) of a return series."""
    if returns.shape[0] < 2 or not np.all(np.isfinite(returns)):
        return None, None, None
    scale = float(np.sqrt(periods_per_year))
    mean = float(np.mean(returns))
    std = float(np.std(returns, ddof=1))
    if std < _ZERO_STD:
        return 0.0, None, None
    vol = std * scale
    sharpe = mean / std * scale
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    sortino = mean / downside * scale if downside >= _ZERO_STD else None
    return vol, sharpe, sortino


def _drawdown(ts_ns: np.ndarray, equity: np.ndarray, starting_equity: float) -> tuple[float, float]:
    """(max drawdown as a positive fraction, longest drawdown duration in days).

    The running peak starts at ``max(starting_equity, equity[0])`` (the starting
    equity is treated as observed at ``ts_ns[0]``). A drawdown episode lasts from
    the time of its peak until the first sample with ``equity >= peak``, or until
    the last sample if the peak is never recovered.
    """
    n = equity.shape[0]
    peak = np.maximum.accumulate(equity)
    peak = np.maximum(peak, starting_equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0.0, 1.0 - equity / peak, 0.0)
    max_dd = max(float(np.max(dd)), 0.0)

    underwater = equity < peak
    if not underwater.any():
        return max_dd, 0.0
    idx = np.arange(n)
    # Index of the most recent at-peak sample (0 if underwater from the start:
    # the starting-equity peak is taken to sit at ts_ns[0]).
    last_peak = np.maximum.accumulate(np.where(underwater, 0, idx))
    # Index of the next at-peak sample (recovery), n if never recovered.
    next_peak = np.minimum.accumulate(np.where(underwater, n, idx)[::-1])[::-1]
    end_ts = np.append(ts_ns, ts_ns[-1])[next_peak]  # sentinel n -> last timestamp
    durations = (end_ts - ts_ns[last_peak])[underwater]
    return max_dd, float(np.max(durations)) / NS_PER_DAY


#: Spans shorter than this (7 days) get no CAGR: compounding a few hours to a year is noise.
MIN_YEARS_FOR_CAGR = 7 / 365.25


def compute_summary(
    ts_ns: np.ndarray,
    equity: np.ndarray,
    *,
    starting_equity: float,
    trade_pnls: np.ndarray,
    fees_paid: float,
    traded_notional: float,
    exposure: np.ndarray,
    periods_per_year: float | None = None,
) -> Summary:
    """Compute deterministic performance statistics for a backtest.

    Args:
        ts_ns: int64 UNIX-ns timestamps of the equity samples, non-decreasing.
        equity: float64 account equity at each sample.
        starting_equity: initial account equity (basis for total return / CAGR).
        trade_pnls: realized P&L of each closed round trip, net of fees.
        fees_paid: total fees paid.
        traded_notional: sum of absolute fill notional.
        exposure: gross exposure / equity at each sample (same length as equity).
        periods_per_year: None -> daily-resampled returns annualized with
            sqrt(252); otherwise raw sample returns annualized with
            sqrt(periods_per_year).

    Returns:
        Dict with keys ``start``, ``end``, ``starting_equity``, ``final_equity``,
        ``total_return``, ``cagr``, ``annualized_volatility``, ``sharpe``,
        ``sortino``, ``max_drawdown``, ``max_drawdown_duration_days``,
        ``turnover`` (per year), ``exposure``, ``trade_count``, ``win_rate``,
        ``fees_paid``, ``n_samples``. Floats are rounded to 10 significant
        digits; undefined values are None.

    Raises:
        ValueError: on mismatched shapes, decreasing timestamps or a
            non-positive ``periods_per_year``.
    """
    ts = np.asarray(ts_ns, dtype=np.int64).reshape(-1)
    eq = np.asarray(equity, dtype=np.float64).reshape(-1)
    pnls = np.asarray(trade_pnls, dtype=np.float64).reshape(-1)
    expo = np.asarray(exposure, dtype=np.float64).reshape(-1)
    n = eq.shape[0]
    if ts.shape[0] != n:
        raise ValueError(f"ts_ns has {ts.shape[0]} samples but equity has {n}")
    if expo.shape[0] != n:
        raise ValueError(f"exposure has {expo.shape[0]} samples but equity has {n}")
    if n > 1 and np.any(np.diff(ts) < 0):
        raise ValueError("ts_ns must be non-decreasing")
    if periods_per_year is not None and not (np.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")

    trade_count = int(pnls.shape[0])
    win_rate = float(np.mean(pnls > 0.0)) if trade_count else None

    start = end = None
    final_equity = total_return = cagr = None
    vol = sharpe = sortino = None
    max_dd = max_dd_days = turnover = mean_exposure = None

    if n:
        start, end = _iso_utc(ts[0]), _iso_utc(ts[-1])
        final_equity = float(eq[-1])
        mean_exposure = float(np.mean(expo))
        if starting_equity > 0.0:
            growth = final_equity / starting_equity
            total_return = growth - 1.0
        else:
            growth = None
        years = float(ts[-1] - ts[0]) / NS_PER_YEAR
        if years > 0.0:
            # annualizing a span shorter than a week says nothing: CAGR stays None
            if growth is not None and growth >= 0.0 and years >= MIN_YEARS_FOR_CAGR:
                with np.errstate(over="ignore"):
                    cagr = float(np.power(np.float64(growth), 1.0 / years)) - 1.0  # inf -> None
            mean_equity = float(np.mean(eq))
            if mean_equity > 0.0:
                turnover = traded_notional / mean_equity / years

        if periods_per_year is None:
            returns = _simple_returns(_daily_last(ts, eq))
            ppy = TRADING_DAYS_PER_YEAR
        else:
            returns = _simple_returns(eq)
            ppy = float(periods_per_year)
        vol, sharpe, sortino = _return_stats(returns, ppy)

        if np.all(np.isfinite(eq)):
            max_dd, max_dd_days = _drawdown(ts, eq, float(starting_equity))

    return {
        "start": start,
        "end": end,
        "starting_equity": _round(starting_equity),
        "final_equity": _round(final_equity),
        "total_return": _round(total_return),
        "cagr": _round(cagr),
        "annualized_volatility": _round(vol),
        "sharpe": _round(sharpe),
        "sortino": _round(sortino),
        "max_drawdown": _round(max_dd),
        "max_drawdown_duration_days": _round(max_dd_days),
        "turnover": _round(turnover),
        "exposure": _round(mean_exposure),
        "trade_count": trade_count,
        "win_rate": _round(win_rate),
        "fees_paid": _round(fees_paid),
        "n_samples": int(n),
    }
