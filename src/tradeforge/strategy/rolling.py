"""More incremental indicators (O(1) per update): WMA, RSI, Bollinger bands / rolling z-score,
rolling correlation and rolling regression (beta, intercept, residual) of two series.

Windowed sums run over ring buffers and are re-summed from the window each time the ring wraps,
so float rounding cannot build up over long runs.
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
    """Ring buffer with running sum and sum of squares."""

    __slots__ = ("buf", "count", "i", "n", "s", "ss")

    def __init__(self, n: int) -> None:
        self.buf = [0.0] * n
        self.n, self.i, self.s, self.ss, self.count = n, 0, 0.0, 0.0, 0

    def push(self, x: float) -> None:
        old = self.buf[self.i]
        self.buf[self.i] = x
        self.i = (self.i + 1) % self.n
        self.count += 1
        if self.i == 0:
            self.s = math.fsum(self.buf)
            self.ss = math.fsum(v * v for v in self.buf)
        else:
            self.s += x - old
            self.ss += x * x - old * old


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
        mean = w.s / m
        self.value = mean
        if m >= 2:
            var = max((w.ss - m * mean * mean) / (m - 1), 0.0)
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

    __slots__ = ("_x", "_xy", "_xybuf", "_y", "alpha", "beta", "corr", "count", "period", "residual")

    def __init__(self, period: int) -> None:
        if period < 2:
            raise ValueError("RollingRegression: period must be >= 2")
        self.period = period
        self._x, self._y = _Window(period), _Window(period)
        self._xybuf = [0.0] * period
        self._xy = 0.0
        self.count = 0
        self.beta = self.alpha = self.residual = self.corr = math.nan

    @property
    def initialized(self) -> bool:
        return self.count >= self.period

    def update(self, x: float, y: float) -> None:
        i = self._x.i
        old = self._xybuf[i]
        self._xybuf[i] = x * y
        self._x.push(x)
        self._y.push(y)
        self.count += 1
        self._xy = math.fsum(self._xybuf) if self._x.i == 0 else self._xy + x * y - old
        m = min(self.count, self.period)
        if m < 2:
            return
        mx, my = self._x.s / m, self._y.s / m
        sxx = self._x.ss - m * mx * mx
        syy = self._y.ss - m * my * my
        sxy = self._xy - m * mx * my
        if sxx > 0:
            self.beta = sxy / sxx
            self.alpha = my - self.beta * mx
            self.residual = y - self.alpha - self.beta * x
        if sxx > 0 and syy > 0:
            self.corr = sxy / math.sqrt(sxx * syy)


WMA = WeightedMovingAverage
RSI = RelativeStrengthIndex
