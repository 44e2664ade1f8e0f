"""Keyed interval join of two streams on event time.

``mode="all"``: every pair ``(l, r)`` with equal keys and ``|l.ts_init - r.ts_init| <= within_ns``
is emitted exactly once, when the later of the two arrives (each side buffers its events of the
last ``within_ns`` per key). ``mode="latest"``: each arrival pairs with the latest event of the other
side with its key, if that is within ``within_ns`` (an as-of join, e.g. the two legs of a pair).
Payload: ``left``, ``right`` (the events) and ``lag_ns`` (right minus left time).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal

from tradeforge.model.data import CustomData
from tradeforge.strategy.cep.fields import FieldSpec, getter
from tradeforge.strategy.cep.node import Operator


class JoinOp(Operator):
    __slots__ = ("_bufs", "_keys", "latest", "name", "within")

    def __init__(
        self, within_ns: int, key_left: FieldSpec, key_right: FieldSpec, name: str,
        mode: Literal["all", "latest"] = "all",
    ) -> None:
        super().__init__()
        if within_ns < 0:
            raise ValueError("join: within_ns must be >= 0")
        if mode not in ("all", "latest"):
            raise ValueError(f"join: mode must be 'all' or 'latest', got {mode!r}")
        self.within, self.name, self.latest = within_ns, name, mode == "latest"
        self._keys = (getter(key_left), getter(key_right))
        self._bufs: tuple[dict[Any, deque[Any]], dict[Any, deque[Any]]] = ({}, {})

    def left(self, ev: Any) -> None:
        self._arrive(ev, 0)

    def right(self, ev: Any) -> None:
        self._arrive(ev, 1)

    on_event = left

    def _arrive(self, ev: Any, side: int) -> None:
        ts = ev.ts_init
        k = self._keys[side](ev)
        horizon = ts - self.within
        other = self._bufs[1 - side].get(k)
        if other:
            while other and other[0].ts_init < horizon:
                other.popleft()
            if other:
                kk = k if isinstance(k, str) else str(k)
                name = self.name
                for o in ((other[-1],) if self.latest else tuple(other)):
                    lft, rgt = (ev, o) if side == 0 else (o, ev)
                    te = lft.ts_event if lft.ts_event > rgt.ts_event else rgt.ts_event
                    out = CustomData(name, {"left": lft, "right": rgt, "lag_ns": rgt.ts_init - lft.ts_init}, te, ts, kk)
                    for f in self.out:
                        f(out)
        mine = self._bufs[side].get(k)
        if mine is None:
            mine = self._bufs[side][k] = deque(maxlen=1) if self.latest else deque()
        mine.append(ev)
        if not self.latest:
            while mine[0].ts_init < horizon:
                mine.popleft()
