"""Value at risk and expected shortfall of a portfolio: historical, parametric (EWMA) and Monte Carlo.

Inputs are a scenario matrix of instrument returns ``R`` (scenarios x instruments, e.g. daily simple
returns) and the exposure vector ``w`` (money per instrument: position x mark x multiplier; for
derivatives pass delta-equivalent exposures, see :func:`linear_exposures`). The P&L of scenario ``s``
is ``R[s] @ w``. VaR and ES are returned as positive losses at confidence ``alpha`` (e.g. 0.99).

- historical: the empirical ``1 - alpha`` quantile of the scenario P&Ls (lower order statistic,
  no interpolation) and the mean of the P&Ls at or below it;
- parametric: normal P&L with variance ``w' S w``, ``S`` an EWMA covariance (RiskMetrics, decay
  ``lam``); VaR ``z sigma``, ES ``sigma phi(z) / (1 - alpha)`` (zero mean);
- Monte Carlo: ``n`` normal scenarios drawn with a seeded generator from the same covariance.

Stress tests apply shock factors (returns per instrument or per group) to the exposures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True, slots=True)
class VarResult:
    method: str
    alpha: float
    var: float
    es: float


def _check(alpha: float) -> None:
    if not 0.5 < alpha < 1:
        raise ValueError(f"confidence must be in (0.5, 1), got {alpha}")


def var_es_from_pnl(pnl: np.ndarray, alpha: float, method: str = "historical") -> VarResult:
    """VaR and ES of a P&L sample: the ``k``-th worst outcome, ``k = ceil(n (1 - alpha))``, and the
    mean of the ``k`` worst."""
    _check(alpha)
    n = len(pnl)
    if n == 0:
        raise ValueError("no scenarios")
    k = max(1, int(np.ceil(n * (1 - alpha) - 1e-9)))
    worst = np.partition(pnl, k - 1)[:k]
    q = float(worst.max())
    return VarResult(method, alpha, -q, -float(worst.mean()))


def historical_var(returns: np.ndarray, exposures: np.ndarray, alpha: float = 0.99) -> VarResult:
    """Historical simulation: revalue today's exposures under each past scenario of returns."""
    return var_es_from_pnl(np.asarray(returns) @ np.asarray(exposures, dtype=float), alpha, "historical")


def ewma_factor(returns: np.ndarray, lam: float = 0.94, demean: bool = False) -> np.ndarray:
    """The weighted scenario matrix ``A`` with ``A' A`` the EWMA covariance of the rows of ``returns``
    (oldest first; weights ``(1 - lam) lam^age`` normalized to sum to one over the window).

    VaR never needs the N x N covariance itself: ``w' S w = |A w|^2`` costs O(T N)."""
    r = np.asarray(returns, dtype=float)
    if demean:
        r = r - r.mean(axis=0)
    t = r.shape[0]
    w = lam ** np.arange(t - 1, -1, -1, dtype=float)
    w /= w.sum()
    return r * np.sqrt(w)[:, None]


def ewma_covariance(returns: np.ndarray, lam: float = 0.94, demean: bool = False) -> np.ndarray:
    """EWMA covariance (RiskMetrics) of the rows of ``returns``, oldest first."""
    a = ewma_factor(returns, lam, demean)
    return a.T @ a


def _loading(w: np.ndarray, cov: np.ndarray | None, factor: np.ndarray | None) -> np.ndarray:
    """``L`` with ``w' S w = |L|^2`` and P&L = ``z @ L`` for standard normal ``z``."""
    if factor is not None:
        return factor @ w
    if cov is None:
        raise ValueError("give cov or factor")
    try:
        root = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # singular (more instruments than scenarios): use the eigenvectors
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return root.T @ w


def parametric_var(
    exposures: np.ndarray, cov: np.ndarray | None = None, alpha: float = 0.99, *, factor: np.ndarray | None = None,
) -> VarResult:
    """Variance-covariance VaR and ES of a zero-mean normal P&L (covariance ``cov`` or ``factor' factor``)."""
    _check(alpha)
    w = np.asarray(exposures, dtype=float)
    sigma = float(np.sqrt(max(w @ cov @ w, 0.0))) if factor is None and cov is not None else float(
        np.linalg.norm(_loading(w, cov, factor)))
    nd = NormalDist()
    z = nd.inv_cdf(alpha)
    return VarResult("parametric", alpha, z * sigma, sigma * nd.pdf(z) / (1 - alpha))


def monte_carlo_var(
    exposures: np.ndarray, cov: np.ndarray | None = None, alpha: float = 0.99, n: int = 10_000, seed: int = 0,
    *, factor: np.ndarray | None = None,
) -> VarResult:
    """Monte Carlo VaR and ES: ``n`` seeded scenarios of normal returns with covariance ``cov`` (or
    ``factor' factor``). P&L is linear in returns, so each scenario is ``z @ L`` (see ``_loading``)."""
    loading = _loading(np.asarray(exposures, dtype=float), cov, factor)
    rng = np.random.default_rng(seed)
    pnl = rng.standard_normal((n, len(loading))) @ loading
    return var_es_from_pnl(pnl, alpha, "monte_carlo")


def stress(
    exposures: Mapping[str, float], shocks: Mapping[str, float], groups: Mapping[str, str] | None = None,
) -> float:
    """P&L of one stress scenario: each instrument's exposure times its shock (a return), taken by
    instrument id, else by its group (sector), else ``shocks.get("*", 0)``."""
    groups = groups or {}
    default = shocks.get("*", 0.0)
    total = 0.0
    for iid, exp in exposures.items():
        s = shocks.get(iid)
        if s is None:
            s = shocks.get(groups.get(iid, ""), default)
        total += exp * s
    return total


def linear_exposures(
    positions: Mapping[str, float], delta: Callable[[str], float] | None = None,
) -> dict[str, float]:
    """Exposure per instrument: money value times delta (1 for linear instruments; the hook for
    options and other derivatives later)."""
    return {iid: v * (1.0 if delta is None else delta(iid)) for iid, v in positions.items()}


class ReturnHistory:
    """A rolling window of per-period returns for a fixed instrument list (a numpy ring buffer)."""

    def __init__(self, instruments: list[str], window: int = 250) -> None:
        self.instruments = list(instruments)
        self.index = {iid: k for k, iid in enumerate(self.instruments)}
        self.window = window
        self._buf = np.zeros((window, len(self.instruments)))
        self._n = 0
        self._last = np.full(len(self.instruments), np.nan)

    def update(self, prices: np.ndarray) -> None:
        """Close one period with these prices (NaN: no price; that return is 0)."""
        p = np.asarray(prices, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(np.isfinite(self._last) & np.isfinite(p) & (self._last != 0), p / self._last - 1.0, 0.0)
        if np.isfinite(self._last).any():
            self._buf[self._n % self.window] = r
            self._n += 1
        self._last = np.where(np.isfinite(p), p, self._last)

    def returns(self) -> np.ndarray:
        """Returns oldest first (at most ``window`` rows)."""
        n = min(self._n, self.window)
        if self._n <= self.window:
            return self._buf[:n].copy()
        k = self._n % self.window
        return np.concatenate([self._buf[k:], self._buf[:k]])
