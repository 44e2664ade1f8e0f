"""Incremental aggregates for CEP windows: ``add`` and (for sliding windows) FIFO ``remove`` in
O(1) (amortized for min / max), ``value`` at any time."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any


class Aggregate:
    """Base: ``add(seq, v)``, ``remove(seq, v)`` of the oldest element, ``value()``."""

    __slots__ = ()
    exact_sums = False  # True: the window re-sums it from its buffer now and then (no float drift)

    def add(self, seq: int, v: Any) -> None: ...

    def remove(self, seq: int, v: Any) -> None: ...

    def value(self) -> Any: ...

    def rebuild(self, values: Iterable[Any]) -> None: ...


class Count(Aggregate):
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def add(self, seq: int, v: Any) -> None:
        self.n += 1

    def remove(self, seq: int, v: Any) -> None:
        self.n -= 1

    def value(self) -> int:
        return self.n


class Sum(Aggregate):
    __slots__ = ("n", "s")
    exact_sums = True

    def __init__(self) -> None:
        self.s: float = 0
        self.n = 0

    def add(self, seq: int, v: Any) -> None:
        self.s += v
        self.n += 1

    def remove(self, seq: int, v: Any) -> None:
        self.s -= v
        self.n -= 1

    def value(self) -> Any:
        return self.s

    def rebuild(self, values: Iterable[Any]) -> None:
        vals = list(values)
        self.n = len(vals)
        self.s = sum(vals) if all(isinstance(v, int) for v in vals) else math.fsum(vals)


class Mean(Sum):
    __slots__ = ()

    def value(self) -> float:
        return self.s / self.n if self.n else math.nan


class Std(Aggregate):
    """Sample standard deviation from sums of ``v - shift`` (``shift``: a recent window mean, so the
    sums stay small); integer inputs keep exact integer sums. Re-based by the window now and then."""

    __slots__ = ("k", "n", "s", "ss")
    exact_sums = True

    def __init__(self) -> None:
        self.n = 0
        self.k: Any = None
        self.s: Any = 0
        self.ss: Any = 0

    def add(self, seq: int, v: Any) -> None:
        if self.k is None:
            self.k = v
        d = v - self.k
        self.n += 1
        self.s += d
        self.ss += d * d

    def remove(self, seq: int, v: Any) -> None:
        d = v - self.k
        self.n -= 1
        self.s -= d
        self.ss -= d * d

    def value(self) -> float:
        n, s, ss = self.n, self.s, self.ss
        if n < 2:
            return math.nan
        if isinstance(s, int) and isinstance(ss, int):
            return math.sqrt((n * ss - s * s) / (n * (n - 1)))  # exact numerator
        return math.sqrt(max(ss - s * s / n, 0.0) / (n - 1))

    def rebuild(self, values: Iterable[Any]) -> None:
        vals = list(values)
        self.n = len(vals)
        if not vals:
            self.k, self.s, self.ss = None, 0, 0
            return
        ints = all(isinstance(v, int) for v in vals)
        self.k = round(sum(vals) / len(vals)) if ints else math.fsum(vals) / len(vals)
        ds = [v - self.k for v in vals]
        self.s = sum(ds) if ints else math.fsum(ds)
        self.ss = sum(d * d for d in ds) if ints else math.fsum(d * d for d in ds)


class _Extreme(Aggregate):
    """Monotonic deque of ``(seq, value)``; the front is the extreme of the window."""

    __slots__ = ("dq",)
    sign = 1

    def __init__(self) -> None:
        self.dq: deque[tuple[int, Any]] = deque()

    def add(self, seq: int, v: Any) -> None:
        dq = self.dq
        if self.sign > 0:
            while dq and dq[-1][1] <= v:
                dq.pop()
        else:
            while dq and dq[-1][1] >= v:
                dq.pop()
        dq.append((seq, v))

    def remove(self, seq: int, v: Any) -> None:
        if self.dq and self.dq[0][0] == seq:
            self.dq.popleft()

    def value(self) -> Any:
        return self.dq[0][1] if self.dq else math.nan


class Max(_Extreme):
    __slots__ = ()
    sign = 1


class Min(_Extreme):
    __slots__ = ()
    sign = -1


class First(Aggregate):
    """Oldest value in the window (needs the window's buffer for sliding windows)."""

    __slots__ = ("dq",)

    def __init__(self) -> None:
        self.dq: deque[Any] = deque()

    def add(self, seq: int, v: Any) -> None:
        self.dq.append(v)

    def remove(self, seq: int, v: Any) -> None:
        self.dq.popleft()

    def value(self) -> Any:
        return self.dq[0] if self.dq else None


class Last(Aggregate):
    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v: Any = None

    def add(self, seq: int, v: Any) -> None:
        self.v = v

    def value(self) -> Any:
        return self.v


AGGREGATES: dict[str, type[Aggregate]] = {
    "count": Count, "sum": Sum, "mean": Mean, "std": Std, "min": Min, "max": Max, "first": First, "last": Last,
}
