"""The CEP engine: a declarative graph of streams built on the message bus.

    cep = CepEngine(bus)
    a = cep.source("data.quotes.BTCUSDT.BINANCE")
    b = cep.source("data.trades.BTCUSDT.BINANCE")
    (a.join(b, within_ns=1_000_000_000, mode="latest", name="quote_trade")
      .map(lambda j: {"edge": j.payload["right"].price - j.payload["left"].bid}, name="edge")
      .window(Sliding(count=50), name="edge_stats", avg=("mean", "edge"), hi=("max", "edge"))
      .publish())                                     # -> data.custom.edge_stats

Sources subscribe to bus topics; every operator runs synchronously inside the publish of the event
that feeds it, and time is the events' ``ts_init``. The same graph therefore behaves identically in
a backtest (simulated clock) and live (events arrive in time order from the live node's bus).
Call ``flush(ts)`` to close open tumbling-by-time windows (e.g. at the end of a run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tradeforge.core.bus import MessageBus
from tradeforge.model.data import CustomData
from tradeforge.strategy.cep.fields import FieldSpec
from tradeforge.strategy.cep.join import JoinOp
from tradeforge.strategy.cep.node import Filter, Map, Operator, Sink
from tradeforge.strategy.cep.patterns import ConsecutiveOp, Pred, SequenceOp
from tradeforge.strategy.cep.windows import AggSpec, Sliding, Tumbling, WindowOp


class Stream:
    """A node of the graph; each method adds an operator downstream and returns its stream."""

    __slots__ = ("engine", "op")

    def __init__(self, engine: CepEngine, op: Operator) -> None:
        self.engine, self.op = engine, op

    def _then(self, op: Operator, entry: Sink | None = None) -> Stream:
        self.op.out.append(entry or op.on_event)
        self.engine.operators.append(op)
        return Stream(self.engine, op)

    def push(self, ev: Any) -> None:
        """Feed an event by hand (tests, replays without a bus)."""
        self.op.on_event(ev)

    def filter(self, pred: Callable[[Any], bool]) -> Stream:
        return self._then(Filter(pred))

    def map(self, fn: Callable[[Any], Any], name: str = "map") -> Stream:
        """``fn`` returns an event, a payload dict (a derived event ``name``) or ``None`` to drop."""
        return self._then(Map(fn, name))

    def window(self, spec: Tumbling | Sliding, *, key: FieldSpec = None, name: str = "window",
               **aggs: AggSpec) -> Stream:
        """Aggregates per key over a window: ``avg=("mean", "price"), n=("count", None)``."""
        return self._then(WindowOp(spec, aggs, key, name))

    def join(self, other: Stream, within_ns: int, *, key: FieldSpec = None, other_key: FieldSpec = None,
             mode: Literal["all", "latest"] = "all", name: str = "join") -> Stream:
        """Join this stream (left) with ``other`` (right) by key within ``within_ns``."""
        op = JoinOp(within_ns, key, other_key if other_key is not None else key, name, mode)
        other.op.out.append(op.right)
        return self._then(op, op.left)

    def sequence(self, *steps: Pred, within_ns: int, key: FieldSpec = None, name: str = "sequence") -> Stream:
        """"A then B (then ...) within ``within_ns``" per key."""
        return self._then(SequenceOp(steps, within_ns, key, name))

    def consecutive(self, pred: Pred, n: int, *, key: FieldSpec = None, name: str = "consecutive") -> Stream:
        """``n`` consecutive events of a key satisfying ``pred``."""
        return self._then(ConsecutiveOp(pred, n, key, name))

    def sink(self, fn: Sink) -> Stream:
        """Call ``fn`` with every event of this stream."""
        self.op.out.append(fn)
        return self

    def publish(self, name: str | None = None) -> Stream:
        """Publish this stream's derived events on ``data.custom.{name}`` (default: their own
        ``data_type``), where ``Strategy.subscribe_data(name)`` receives them in ``on_data``."""
        bus = self.engine.bus
        if name is None:
            def pub(ev: CustomData) -> None:
                bus.publish(f"data.custom.{ev.data_type}", ev)
        else:
            topic = f"data.custom.{name}"

            def pub(ev: CustomData) -> None:
                if ev.data_type != name:
                    ev = CustomData(name, ev.payload, ev.ts_event, ev.ts_init, ev.instrument_id)
                bus.publish(topic, ev)

        return self.sink(pub)


class _Source(Operator):
    __slots__ = ()

    def on_event(self, ev: Any) -> None:
        for f in self.out:
            f(ev)


class CepEngine:
    """Holds the graph; ``source(topic)`` starts a stream from a bus topic (wildcards allowed)."""

    def __init__(self, bus: MessageBus | None = None, priority: int = 0) -> None:
        self.bus = bus if bus is not None else MessageBus()
        self.priority = priority
        self.operators: list[Operator] = []

    def source(self, topic: str | None = None) -> Stream:
        """A stream of the events published on ``topic``; ``None``: fed by ``push`` only."""
        op = _Source()
        if topic is not None:
            self.bus.subscribe(topic, op.on_event, self.priority)
        self.operators.append(op)
        return Stream(self, op)

    def merge(self, *streams: Stream) -> Stream:
        """One stream of the events of several (in arrival order)."""
        op = _Source()
        for s in streams:
            s.op.out.append(op.on_event)
        self.operators.append(op)
        return Stream(self, op)

    def flush(self, ts_ns: int) -> None:
        """Close every tumbling-by-time window whose bucket ended at or before ``ts_ns``."""
        for op in self.operators:
            op.flush(ts_ns)
