"""The operator base: a node receives events and pushes results to its downstream callables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Sink = Callable[[Any], None]


class Operator:
    """``on_event(ev)`` takes an input; results go to every callable of ``out`` in order."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: list[Sink] = []

    def emit(self, ev: Any) -> None:
        for f in self.out:
            f(ev)

    def on_event(self, ev: Any) -> None:  # pragma: no cover - overridden
        self.emit(ev)

    def flush(self, ts_ns: int) -> None:
        """Close what is open at time ``ts_ns`` (tumbling windows); no-op by default."""


class Filter(Operator):
    __slots__ = ("pred",)

    def __init__(self, pred: Callable[[Any], bool]) -> None:
        super().__init__()
        self.pred = pred

    def on_event(self, ev: Any) -> None:
        if self.pred(ev):
            for f in self.out:
                f(ev)


class Map(Operator):
    """``fn(ev)`` returns an event, a payload dict (wrapped as a derived event ``name`` with the
    input's key and timestamps) or ``None`` (dropped)."""

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[Any], Any], name: str) -> None:
        super().__init__()
        self.fn, self.name = fn, name

    def on_event(self, ev: Any) -> None:
        out = self.fn(ev)
        if out is None:
            return
        if isinstance(out, dict):
            from tradeforge.strategy.cep.fields import derived

            out = derived(self.name, getattr(ev, "instrument_id", ""), out, ev.ts_event, ev.ts_init)
        for f in self.out:
            f(out)
