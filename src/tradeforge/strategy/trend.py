"""Trend and range indicators, O(1) per update: MACD, ATR (Wilder), ADX with +DI/-DI, stochastic
%K/%D.

Range indicators need a bar's high, low and close: feed them with ``update_bar(bar)`` or
``update_hlc(high, low, close)`` (``update(value)`` treats the value as high = low = close, which is
what ``Strategy.register_indicator_for_bars`` passes).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import deque
from typing import Any

from tradeforge.strategy.indicators import EMA, SMA, Indicator


class _Wilder:
    """Wilder's running average (RMA): the mean of the first ``n`` inputs, then
    ``avg += (x - avg) / n``."""

    __slots__ = ("count", "n", "value")

    def __init__(self, n: int) -> None:
        self.n, self.count, self.value = n, 0, math.nan

    def update(self, x: float) -> float:
        self.count += 1
        if self.count < self.n:
            self.value = x if self.count == 1 else self.value + x
        elif self.count == self.n:
            self.value = (x if self.n == 1 else self.value + x) / self.n
        else:
            self.value += (x - self.value) / self.n
        return self.value

    @property
    def ready(self) -> bool:
        return self.count >= self.n


class HLCIndicator(Indicator):
    """Base of indicators that read a bar's high, low and close."""

    __slots__ = ()

    def update(self, value: float) -> None:
        self.update_hlc(value, value, value)

    def update_bar(self, bar: Any) -> None:
        """Take a ``Bar`` (raw integer fields)."""
        self.update_hlc(bar.high, bar.low, bar.close)

    @abstractmethod
    def update_hlc(self, high: float, low: float, close: float) -> None:
        """Take one bar's high, low and close."""


class MACD(Indicator):
    """``value`` = EMA(fast) - EMA(slow) of the input, ``signal`` = EMA(signal) of that line,
    ``histogram`` = value - signal. EMAs are ``alpha = 2/(n+1)`` seeded with the first value
    (pandas ``ewm(span=n, adjust=False)``); initialized after ``slow`` values."""

    __slots__ = ("_fast", "_signal", "_slow", "histogram", "signal")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if not 0 < fast < slow:
            raise ValueError(f"MACD: need 0 < fast < slow, got {fast}, {slow}")
        super().__init__(slow)
        self._fast, self._slow, self._signal = EMA(fast), EMA(slow), EMA(signal)
        self.signal = self.histogram = 0.0

    def update(self, value: float) -> None:
        self._fast.update(value)
        self._slow.update(value)
        line = self._fast.value - self._slow.value
        self._signal.update(line)
        self.value, self.signal = line, self._signal.value
        self.histogram = line - self.signal
        self.count += 1

    def reset(self) -> None:
        self.__init__(self._fast.period, self._slow.period, self._signal.period)  # type: ignore[misc]


class AverageTrueRange(HLCIndicator):
    """Wilder's ATR: true range ``max(h - l, |h - c_prev|, |l - c_prev|)`` from the second bar on,
    averaged by RMA seeded with the mean of the first ``period`` true ranges (as TA-Lib); ``tr`` is
    the latest true range. Initialized after ``period + 1`` bars."""

    __slots__ = ("_prev", "_rma", "tr")

    def __init__(self, period: int = 14) -> None:
        super().__init__(period + 1)
        self._rma = _Wilder(period)
        self._prev = math.nan
        self.tr = math.nan

    def update_hlc(self, high: float, low: float, close: float) -> None:
        prev, self._prev = self._prev, close
        self.count += 1
        if self.count == 1:
            return
        self.tr = max(high - low, abs(high - prev), abs(low - prev))
        self.value = self._rma.update(self.tr)

    def reset(self) -> None:
        self.__init__(self._rma.n)  # type: ignore[misc]


class AverageDirectionalIndex(HLCIndicator):
    """Wilder's ADX with ``plus_di`` / ``minus_di``: +DM = up move if it beats the down move (else 0),
    -DM likewise; TR, +DM and -DM averaged by RMA (seeded with their first ``period`` means);
    DI = 100 DM/TR, DX = 100 |+DI - -DI| / (+DI + -DI), ADX = RMA of DX. DIs from bar
    ``period + 1``, ADX (``value``) from bar ``2 period``."""

    __slots__ = ("_dx", "_mdm", "_pdm", "_prev", "_tr", "dx", "minus_di", "n", "plus_di")

    def __init__(self, period: int = 14) -> None:
        super().__init__(2 * period)
        self.n = period
        self._tr, self._pdm, self._mdm, self._dx = (_Wilder(period) for _ in range(4))
        self._prev: tuple[float, float, float] | None = None
        self.plus_di = self.minus_di = self.dx = math.nan

    def update_hlc(self, high: float, low: float, close: float) -> None:
        prev, self._prev = self._prev, (high, low, close)
        self.count += 1
        if prev is None:
            return
        ph, pl, pc = prev
        up, down = high - ph, pl - low
        tr = self._tr.update(max(high - low, abs(high - pc), abs(low - pc)))
        pdm = self._pdm.update(up if up > down and up > 0 else 0.0)
        mdm = self._mdm.update(down if down > up and down > 0 else 0.0)
        if not self._tr.ready:
            return
        self.plus_di = 100.0 * pdm / tr if tr > 0 else 0.0
        self.minus_di = 100.0 * mdm / tr if tr > 0 else 0.0
        s = self.plus_di + self.minus_di
        self.dx = 100.0 * abs(self.plus_di - self.minus_di) / s if s > 0 else 0.0
        self.value = self._dx.update(self.dx)

    def reset(self) -> None:
        self.__init__(self.n)  # type: ignore[misc]


class Stochastic(HLCIndicator):
    """Stochastic oscillator: ``k`` = 100 (close - lowest low) / (highest high - lowest low) over
    ``period`` bars (50 when the range is 0), ``d`` = SMA(``d_period``) of %K; ``value`` = %K.
    Highest/lowest by monotonic deques (amortized O(1))."""

    __slots__ = ("_d", "_hi", "_lo", "d", "d_period", "k")

    def __init__(self, period: int = 14, d_period: int = 3) -> None:
        super().__init__(period)
        self.d_period = d_period
        self._hi: deque[tuple[int, float]] = deque()
        self._lo: deque[tuple[int, float]] = deque()
        self._d = SMA(d_period)
        self.k = self.d = math.nan

    def update_hlc(self, high: float, low: float, close: float) -> None:
        i = self.count
        self.count += 1
        hi, lo = self._hi, self._lo
        while hi and hi[-1][1] <= high:
            hi.pop()
        hi.append((i, high))
        while lo and lo[-1][1] >= low:
            lo.pop()
        lo.append((i, low))
        start = i - self.period + 1
        if hi[0][0] < start:
            hi.popleft()
        if lo[0][0] < start:
            lo.popleft()
        if self.count < self.period:
            return
        hh, ll = hi[0][1], lo[0][1]
        self.k = self.value = 100.0 * (close - ll) / (hh - ll) if hh > ll else 50.0
        self._d.update(self.k)
        if self._d.initialized:
            self.d = self._d.value

    @property
    def d_initialized(self) -> bool:
        return self._d.initialized

    def reset(self) -> None:
        self.__init__(self.period, self.d_period)  # type: ignore[misc]


ATR = AverageTrueRange
ADX = AverageDirectionalIndex
