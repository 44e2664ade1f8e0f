"""Volume indicators, O(1) per update: on-balance volume and VWAP (session-anchored or manually
anchored, resettable)."""

from __future__ import annotations

import math
from typing import Any

from tradeforge.strategy.indicators import Indicator


class OnBalanceVolume(Indicator):
    """OBV: add the volume on an up close, subtract it on a down close (0 on the first bar).
    Feed ``update_cv(close, volume)`` or ``update_bar(bar)``; integer inputs stay exact."""

    __slots__ = ("_prev",)

    def __init__(self) -> None:
        super().__init__(1)
        self._prev: float | None = None

    def update(self, value: float) -> None:
        raise TypeError("OnBalanceVolume needs a volume: use update_cv(close, volume) or update_bar(bar)")

    def update_bar(self, bar: Any) -> None:
        self.update_cv(bar.close, bar.volume)

    def update_cv(self, close: float, volume: float) -> None:
        prev, self._prev = self._prev, close
        self.count += 1
        if prev is None:
            self.value = 0
        elif close > prev:
            self.value += volume
        elif close < prev:
            self.value -= volume

    def reset(self) -> None:
        super().reset()
        self._prev = None


class VWAP(Indicator):
    """Volume-weighted average price since the anchor: ``sum(p v) / sum(v)``.

    With ``session_ns`` it re-anchors itself when an update's timestamp enters a new session
    ``floor((ts - offset_ns) / session_ns)`` (e.g. one day at 0 UTC); ``anchor()`` / ``reset()``
    re-anchor by hand. ``update_bar`` uses the typical price ``(h + l + c) / 3``. Sums of integer
    prices and volumes are exact (Python ints)."""

    __slots__ = ("_pv", "_session", "_v", "offset_ns", "session_ns")

    def __init__(self, session_ns: int | None = None, offset_ns: int = 0) -> None:
        super().__init__(1)
        if session_ns is not None and session_ns <= 0:
            raise ValueError("VWAP: session_ns must be positive")
        self.session_ns, self.offset_ns = session_ns, offset_ns
        self._pv: float = 0
        self._v: float = 0
        self._session: int | None = None
        self.value = math.nan

    def update(self, value: float) -> None:
        raise TypeError("VWAP needs a volume: use update_pv(price, volume, ts) or update_bar(bar)")

    def update_bar(self, bar: Any) -> None:
        self.update_pv((bar.high + bar.low + bar.close) / 3, bar.volume, bar.ts_event)

    def update_pv(self, price: float, volume: float, ts_ns: int = 0) -> None:
        if self.session_ns is not None:
            session = (ts_ns - self.offset_ns) // self.session_ns
            if session != self._session:
                self.anchor()
                self._session = session
        self._pv += price * volume
        self._v += volume
        self.count += 1
        if self._v:
            self.value = self._pv / self._v

    def anchor(self) -> None:
        """Start a new VWAP from the next update."""
        self._pv = self._v = 0
        self.count = 0
        self.value = math.nan

    def reset(self) -> None:
        self.anchor()
        self._session = None


OBV = OnBalanceVolume
