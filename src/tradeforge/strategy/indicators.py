"""Incremental indicators: O(1) per update. Bar and quote subscriptions feed them raw integer prices
(exact sums); any numbers work."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Indicator(ABC):
    """Base: ``update(value)`` then read ``value`` once ``initialized``."""

    __slots__ = ("count", "period", "value")

    def __init__(self, period: int) -> None:
        if period <= 0:
            raise ValueError(f"{type(self).__name__}: period must be positive, got {period}")
        self.period = period
        self.value = 0.0
        self.count = 0

    @property
    def initialized(self) -> bool:
        return self.count >= self.period

    @abstractmethod
    def update(self, value: float) -> None:
        """Take one new value (O(1))."""

    def reset(self) -> None:
        self.value = 0.0
        self.count = 0


class SimpleMovingAverage(Indicator):
    """Arithmetic mean of the last ``period`` values, by a running sum over a ring buffer.

    Fed integers (raw prices) the sum is exact. Fed floats, the sum is re-added from the window
    each time the ring wraps, so rounding error cannot build up over millions of updates.
    """

    __slots__ = ("_buf", "_i", "_sum")

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._buf: list[float] = [0] * period
        self._i = 0
        self._sum: float = 0

    def update(self, value: float) -> None:
        buf = self._buf
        i = self._i
        total = self._sum + value - buf[i]
        buf[i] = value
        i += 1
        if i == self.period:
            i = 0
            total = sum(buf)  # exact for ints; stops float drift for floats
        self._i = i
        self._sum = total
        count = self.count = self.count + 1
        self.value = total / (count if count < self.period else self.period)

    def reset(self) -> None:
        super().reset()
        self._buf = [0] * self.period
        self._i = 0
        self._sum = 0


class ExponentialMovingAverage(Indicator):
    """EMA with ``alpha = 2 / (period + 1)``, seeded with the first value."""

    __slots__ = ("alpha",)

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self.alpha = 2.0 / (period + 1)

    def update(self, value: float) -> None:
        self.value = value if self.count == 0 else self.value + self.alpha * (value - self.value)
        self.count += 1


SMA = SimpleMovingAverage
EMA = ExponentialMovingAverage
