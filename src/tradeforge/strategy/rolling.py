"""More incremental indicators (O(1) per update): WMA, RSI, Bollinger bands / rolling z-score,
rolling correlation and rolling regression (beta, intercept, residual) of two series.

Windowed sums run over ring buffers and are re-summed from the window each time the ring wraps,
so float rounding cannot build up over long runs. Variances and co-moments are kept centered
(Welford-style add / replace updates), so they do not lose digits to cancellation at high price
levels.
"""

from __future__ import annotations

import math

from tradeforge.strategy.indicators import Indicator


class WeightedMovingAverage(Indicator):
    """Linearly weighted mean of the last ``period`` values (weight ``period`` on the newest)."""

    __slots__ = ("_buf", "_i", "_sum", "_wsum")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._buf = [0.0] * period
        self._i = 0
        self._sum = 0.0  # plain sum of the window
        self._wsum = 0.0  # weighted sum of the window

    def update(self, value: float) -> None:
        n, buf, i = self.period, self._buf, self._i
        if self.count < n:
            self._wsum += (self.count + 1) * value
            self._sum += value
        else:
            self._wsum += n * value - self._sum
            self._sum += value - buf[i]
        buf[i] = value
        i = (i + 1) % n
        self._i = i
        self.count += 1
        if i == 0:  # wrapped: recompute both sums exactly from the window (oldest first)
            self._sum = math.fsum(buf)
            self._wsum = math.fsum((k + 1) * buf[k] for k in range(n))
        m = min(self.count, n)
        self.value = self._wsum / (m * (m + 1) / 2)


class _Window:
    """Ring buffer with a running mean and centered sum of squares ``m2`` (Welford updates for
    add and replace), recomputed two-pass from the window each time the ring wraps."""

    __slots__ = ("buf", "count", "i", "m2", "mean", "n")

    def __init__(self, n: int) -> None:
        self.buf = [0.0] * n
        self.n, self.i, self.count, self.mean, self.m2 = n, 0, 0, 0.0, 0.0

    def push(self, x: float) -> float:
        """Add ``x``; return the value it replaced (0.0 while filling)."""
        n, i = self.n, self.i
        old = self.buf[i]
        self.buf[i] = x
        self.count += 1
        m0 = self.mean
        if self.count <= n:
            d = x - m0
            self.mean = m0 + d / self.count
            self.m2 += d * (x - self.mean)
        else:
            dx = x - old
            self.mean = m0 + dx / n
            self.m2 += dx * (x - self.mean + old - m0)
        self.i = i = (i + 1) % n
        if i == 0:
            mean = self.mean = math.fsum(self.buf) / n
            self.m2 = math.fsum((v - mean) * (v - mean) for v in self.buf)
        return old


class BollingerBands(Indicator):
    """Rolling mean ``value`` (middle band), sample sd, ``upper``/``lower`` at ``k`` sd and the
    z-score ``zscore`` of the latest value."""

    __slots__ = ("_w", "k", "lower", "sd", "upper", "zscore")

    def __init__(self, period: int, k: float = 2.0) -> None:
        super().__init__(max(period, 2))
        self._w = _Window(self.period)
        self.k = k
        self.sd = self.upper = self.lower = self.zscore = math.nan

    def update(self, value: float) -> None:
        w = self._w
        w.push(value)
        self.count = w.count
        m = min(w.count, w.n)
        mean = self.value = w.mean
        if m >= 2:
            var = max(w.m2 / (m - 1), 0.0)
            self.sd = math.sqrt(var)
            self.upper, self.lower = mean + self.k * self.sd, mean - self.k * self.sd
            self.zscore = (value - mean) / self.sd if self.sd > 0 else math.nan


RollingZScore = BollingerBands


class RelativeStrengthIndex(Indicator):
    """Wilder's RSI: gains and losses smoothed with ``alpha = 1/period`` (seeded with the first change)."""

    __slots__ = ("_gain", "_loss", "_prev")

    def __init__(self, period: int = 14) -> None:
        super().__init__(period)
        self._prev = math.nan
        self._gain = self._loss = math.nan

    def update(self, value: float) -> None:
        prev, self._prev = self._prev, value
        self.count += 1
        if math.isnan(prev):
            return
        d = value - prev
        g, lo = max(d, 0.0), max(-d, 0.0)
        if math.isnan(self._gain):
            self._gain, self._loss = g, lo
        else:
            a = 1.0 / self.period
            self._gain += a * (g - self._gain)
            self._loss += a * (lo - self._loss)
        total = self._gain + self._loss
        self.value = 100.0 * self._gain / total if total > 0 else 50.0


class RollingRegression:
    """OLS of ``y`` on ``x`` over the last ``period`` pairs: ``beta``, ``alpha``, the latest
    ``residual`` and the correlation ``corr``; O(1) per ``update(x, y)``."""

    __slots__ = ("_cxy", "_x", "_y", "alpha", "beta", "corr", "count", "period", "residual")

    def __init__(self, period: int) -> None:
        if period < 2:
            raise ValueError("RollingRegression: period must be >= 2")
        self.period = period
        self._x, self._y = _Window(period), _Window(period)
        self._cxy = 0.0  # centered co-moment sum (x - mean x)(y - mean y)
        self.count = 0
        self.beta = self.alpha = self.residual = self.corr = math.nan

    @property
    def initialized(self) -> bool:
        return self.count >= self.period

    def update(self, x: float, y: float) -> None:
        wx, wy = self._x, self._y
        mx0, my0 = wx.mean, wy.mean
        ox, oy = wx.push(x), wy.push(y)
        self.count += 1
        n, m = self.period, min(self.count, self.period)
        if self.count <= n:  # Welford co-moment
            self._cxy += (x - mx0) * (y - wy.mean)
        else:  # replace: centered update
            self._cxy += (x - mx0) * (y - my0) - (ox - mx0) * (oy - my0) - (x - ox) * (y - oy) / n
        if wx.i == 0:
            mx, my = wx.mean, wy.mean
            self._cxy = math.fsum((a - mx) * (b - my) for a, b in zip(wx.buf, wy.buf, strict=True))
        if m < 2:
            return
        sxx, syy, sxy = wx.m2, wy.m2, self._cxy
        if sxx > 0:
            self.beta = sxy / sxx
            self.alpha = wy.mean - self.beta * wx.mean
            self.residual = y - self.alpha - self.beta * x
        if sxx > 0 and syy > 0:
            self.corr = sxy / math.sqrt(sxx * syy)


WMA = WeightedMovingAverage
RSI = RelativeStrengthIndex
