"""Queue position of our resting order in market-by-price (L2) replay.

An L2 feed gives the size at each price, never who is where in the queue. A queue model estimates how
much size is **ahead** of our order at its level and turns the level's trades and size changes into our
fills. Sizes are raw integers (the instrument's ``size_precision``) and, as in the feed, the level sizes
passed in do **not** include our own order (our order is simulated; the data never saw it).

Life of one estimate (one model instance per resting order; ``spawn`` makes one from a venue's
configured prototype):

1. ``on_new_order(level_size_ahead)`` — the order joins the back of the level: everything displayed is
   ahead. Call it again when a modify loses priority (price change, size increase).
2. ``on_trade(traded_size_at_level)`` — a print at our price consumes the queue from the front: first
   what is ahead, then us. Trades at a *better* price than ours (through our level) mean the whole
   level is gone; that is the venue's rule, not the queue model's.
3. ``on_level_change(old_size, new_size)`` — the displayed size changed. Feeds report the size drop a
   trade causes *after* the trade (ITCH executions, LOBSTER type 4/5, Databento T then C/M), so the part
   of a drop that the trades since the last change explain is not counted again. Growth is new orders
   joining behind us: it never moves us back. A level that shrank below our ``ahead`` caps ``ahead``
   (the orders ahead of us are part of the level), in every model.
4. ``filled_qty(leaves_qty)`` — how much of our order the trades so far have reached (capped at
   ``leaves_qty``, on the raw size grid, rounded down); it consumes what it returns. ``is_filled`` says
   whether anything has reached us.

Models:

- ``RiskAverseQueue`` — only trades move us forward; a size drop is assumed to come from behind us
  (except for the cap above). The most pessimistic fill rate for a passive order.
- ``ProbabilisticQueue`` — a size drop that trades do not explain is a cancel; it came from ahead of us
  with probability ``f(ahead) / (f(ahead) + f(behind))`` for a shape ``f`` (``PowerShape(n)``:
  ``x**n``; ``LogShape``: ``log(1 + x/scale)``). Default (``seed=None``): the *expected* cancel is
  taken from each side (hftbacktest's ``ProbQueueModel``): ``ahead -= p·c``, and whatever the part
  from behind exceeds of what is behind also comes from ahead. With a seed, each cancel is one order
  drawn whole from ahead (probability ``p``) or behind, from the model's own generator; what the
  drawn side cannot hold comes from the other. Larger ``n`` sends cancels to the longer side; ``n=1``
  places a cancel uniformly in the queue, for which the expected position after ``k`` unit cancels is
  exactly ``a·(a+b-k)/(a+b)``.

**L3 (market by order)** needs no estimate: our order is inserted into the real FIFO queue among the
data's orders, and it fills when the orders ahead of it are executed or canceled and a trade reaches
it. That is the matching engine's job (the L3 book), not a queue model's; like hftbacktest's
``L3FIFOQueueModel`` it assumes strict price-time priority — pro-rata venues differ.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class QueueModel(Protocol):
    """The estimated queue position of one resting order at one price level (sizes raw)."""

    @property
    def ahead(self) -> float:
        """Estimated size ahead of our order (raw; may be fractional in expected-value models)."""

    @property
    def is_filled(self) -> bool:
        """Trades have reached our order (``filled_qty`` would return something)."""

    def spawn(self, key: int) -> QueueModel:
        """A fresh estimate with this model's parameters, for one order (``key``: e.g. the order's
        sequence number at the venue; seeded models derive their stream from it)."""

    def on_new_order(self, level_size_ahead: int) -> None: ...

    def on_trade(self, traded_size_at_level: int) -> None: ...

    def on_level_change(self, old_size: int, new_size: int) -> None: ...

    def filled_qty(self, leaves_qty: int) -> int: ...


class _QueueBase(ABC):
    """State shared by the L2 models: size ahead, traded size that reached us, trades since the last
    level change (to avoid counting a trade twice)."""

    __slots__ = ("_ahead", "_reached", "_traded")

    def __init__(self) -> None:
        self._ahead: float = 0.0
        self._reached: float = 0.0
        self._traded: int = 0

    @property
    def ahead(self) -> float:
        return self._ahead

    @property
    def is_filled(self) -> bool:
        return self._reached >= 1

    def on_new_order(self, level_size_ahead: int) -> None:
        if level_size_ahead < 0:
            raise ValueError("level size cannot be negative")
        self._ahead = float(level_size_ahead)
        self._reached = 0.0
        self._traded = 0

    def on_trade(self, traded_size_at_level: int) -> None:
        if traded_size_at_level < 0:
            raise ValueError("traded size cannot be negative")
        self._traded += traded_size_at_level
        if traded_size_at_level <= self._ahead:
            self._ahead -= traded_size_at_level
        else:
            self._reached += traded_size_at_level - self._ahead
            self._ahead = 0.0

    def on_level_change(self, old_size: int, new_size: int) -> None:
        traded, self._traded = self._traded, 0
        cancel = old_size - new_size - traded  # the part of the drop the trades do not explain
        if cancel > 0:
            behind = max(old_size - traded - self._ahead, 0.0)
            self._ahead -= self._from_ahead(cancel, self._ahead, behind)
        self._ahead = max(0.0, min(self._ahead, float(max(new_size, 0))))

    @abstractmethod
    def _from_ahead(self, cancel: int, ahead: float, behind: float) -> float:
        """How much of a cancel of ``cancel`` units came from ahead of our order."""

    def filled_qty(self, leaves_qty: int) -> int:
        qty = min(math.floor(self._reached), max(leaves_qty, 0))
        self._reached = 0.0  # what went past our order went to the orders behind it
        return qty


class RiskAverseQueue(_QueueBase):
    """Only trades advance the order: cancels are assumed to come from behind it. The estimate of
    ``ahead`` is only ever lowered by trades, or by the level shrinking below it."""

    __slots__ = ()

    def spawn(self, key: int) -> RiskAverseQueue:
        return RiskAverseQueue()

    def _from_ahead(self, cancel: int, ahead: float, behind: float) -> float:
        return 0.0


class QueueShape(Protocol):
    def __call__(self, x: float) -> float:
        """Weight of a side holding ``x`` (raw size) for receiving a cancel; non-negative, f(0) = 0."""


@dataclass(frozen=True, slots=True)
class PowerShape:
    """``f(x) = x**n``. Scale-free (the raw size unit does not matter). ``n=1``: a cancel is equally
    likely anywhere in the queue; larger ``n``: cancels come mostly from the longer side."""

    n: float = 1.0

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("power shape needs n > 0")

    def __call__(self, x: float) -> float:
        return x**self.n


@dataclass(frozen=True, slots=True)
class LogShape:
    """``f(x) = log(1 + x / scale_raw)``: flatter than linear, so a short side still gets a good share
    of cancels. Depends on the size unit; set ``scale_raw`` to the lot size (or typical order size)."""

    scale_raw: float = 1.0

    def __post_init__(self) -> None:
        if self.scale_raw <= 0:
            raise ValueError("log shape needs scale_raw > 0")

    def __call__(self, x: float) -> float:
        return math.log1p(x / self.scale_raw)


def prob_cancel_ahead(shape: QueueShape, ahead: float, behind: float) -> float:
    """Probability that a cancel came from ahead of us: ``f(ahead) / (f(ahead) + f(behind))``
    (1 when nothing is behind, 0 when nothing is ahead)."""
    if ahead <= 0:
        return 0.0
    if behind <= 0:
        return 1.0
    fa, fb = shape(ahead), shape(behind)
    total = fa + fb
    return fa / total if total > 0 else 0.5


class ProbabilisticQueue(_QueueBase):
    """Cancels advance the order in proportion to the shape (see the module doc): expected-value
    updates with ``seed=None``, one seeded draw per cancel otherwise."""

    __slots__ = ("_rng", "seed", "shape")

    def __init__(self, shape: QueueShape | None = None, seed: int | None = None) -> None:
        super().__init__()
        self.shape: QueueShape = shape if shape is not None else PowerShape(1.0)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(np.random.SeedSequence([seed]))

    def spawn(self, key: int) -> ProbabilisticQueue:
        q = ProbabilisticQueue(self.shape, None)
        if self.seed is not None:
            q.seed = self.seed
            q._rng = np.random.default_rng(np.random.SeedSequence([self.seed, key]))
        return q

    def _from_ahead(self, cancel: int, ahead: float, behind: float) -> float:
        p = prob_cancel_ahead(self.shape, ahead, behind)
        if self._rng is None:
            part = p * cancel
            overflow = max(cancel - part - behind, 0.0)  # behind cannot give more than it holds
            return min(part + overflow, ahead)
        if self._rng.random() < p:
            return min(cancel, ahead)
        return min(max(cancel - behind, 0.0), ahead)
