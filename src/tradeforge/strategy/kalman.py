"""Kalman-filter hedge ratio: the regression ``y = beta x + alpha + e`` with a time-varying state
``[beta, alpha]`` (random walk with covariance ``delta / (1 - delta) I``; observation noise ``ve``),
as in Chan, *Algorithmic Trading* (2013), ch. 3. O(1) per update, 2x2 algebra unrolled."""

from __future__ import annotations

import math


class KalmanHedgeRatio:
    """``update(x, y)``; read ``beta``, ``alpha``, the one-step forecast error ``error``, its
    variance ``q`` and ``zscore = error / sqrt(q)`` (all from the prediction made *before* ``y``
    was seen, so they carry no look-ahead). ``value`` is ``beta``."""

    __slots__ = ("_p", "alpha", "beta", "count", "delta", "error", "q", "ve", "vw", "warmup", "zscore")

    def __init__(
        self, delta: float = 1e-4, ve: float = 1e-3, beta0: float = 0.0, alpha0: float = 0.0,
        p0: float = 0.0, warmup: int = 1,
    ) -> None:
        if not 0 < delta < 1 or ve <= 0:
            raise ValueError(f"KalmanHedgeRatio: need 0 < delta < 1 and ve > 0, got {delta}, {ve}")
        self.delta, self.ve, self.warmup = delta, ve, warmup
        self.vw = delta / (1.0 - delta)
        self.beta, self.alpha = beta0, alpha0
        self._p = [p0, 0.0, p0]  # P00, P01, P11 (symmetric)
        self.count = 0
        self.error = self.q = self.zscore = math.nan

    @property
    def value(self) -> float:
        return self.beta

    @property
    def initialized(self) -> bool:
        return self.count >= self.warmup

    def update(self, x: float, y: float) -> None:
        p00, p01, p11 = self._p
        vw = self.vw
        r00, r01, r11 = p00 + vw, p01, p11 + vw  # predict: R = P + Vw
        a, b = r00 * x + r01, r01 * x + r11  # R H' with H = [x, 1]
        q = x * a + b + self.ve
        e = y - (self.beta * x + self.alpha)
        self.error, self.q = e, q
        self.zscore = e / math.sqrt(q)
        ka, kb = a / q, b / q  # gain
        self.beta += ka * e
        self.alpha += kb * e
        self._p = [r00 - ka * a, r01 - ka * b, r11 - kb * b]  # P = R - K H R
        self.count += 1
