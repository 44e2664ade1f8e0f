"""Slippage models for orders that take liquidity at a price the strategy did not fix (market,
stop-market, triggered if-touched). Return the adjusted raw price; deterministic (seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from tradeforge.model.instruments import Instrument


class SlippageModel(Protocol):
    def adjust(self, instrument: Instrument, side: int, price: int) -> int:
        """``side`` is +1 buy / -1 sell; a worse price is higher for buys, lower for sells."""


class NoSlippage:
    def adjust(self, instrument: Instrument, side: int, price: int) -> int:
        return price


@dataclass(slots=True)
class FixedTickSlippage:
    """Always ``ticks`` ticks worse."""

    ticks: int

    def adjust(self, instrument: Instrument, side: int, price: int) -> int:
        return price + side * self.ticks * instrument.tick_size_raw


@dataclass(slots=True)
class RandomTickSlippage:
    """With probability ``probability``, ``ticks`` ticks worse; seeded for reproducibility."""

    probability: float
    ticks: int = 1
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def adjust(self, instrument: Instrument, side: int, price: int) -> int:
        if self._rng.random() < self.probability:
            return price + side * self.ticks * instrument.tick_size_raw
        return price
