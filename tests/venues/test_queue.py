"""L2 queue-position models on hand-made level sequences, Monte Carlo and property tests."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.venues.queue import (
    LogShape,
    PowerShape,
    ProbabilisticQueue,
    QueueModel,
    RiskAverseQueue,
    prob_cancel_ahead,
)


def test_risk_averse_only_trades_move_the_queue() -> None:
    q = RiskAverseQueue()
    q.on_new_order(10)  # we join behind 10
    q.on_level_change(10, 15)  # 5 join behind us
    q.on_level_change(15, 11)  # 4 cancel: assumed behind us
    assert q.ahead == 10
    q.on_trade(6)
    q.on_level_change(11, 5)  # the trade's own size drop: not counted twice
    assert q.ahead == 4 and not q.is_filled
    assert q.filled_qty(3) == 0
    q.on_trade(4)  # exactly the size ahead: we are at the front, nothing reached us
    assert q.ahead == 0 and not q.is_filled
    q.on_level_change(5, 1)
    q.on_trade(2)
    assert q.is_filled
    assert q.filled_qty(3) == 2
    assert not q.is_filled and q.filled_qty(3) == 0  # consumed


def test_risk_averse_cap_when_the_level_shrinks_below_ahead() -> None:
    """The orders ahead of us are part of the level: a level of 7 cannot hold 10 ahead of us."""
    q = RiskAverseQueue()
    q.on_new_order(10)
    q.on_level_change(10, 7)
    assert q.ahead == 7
    q.on_trade(9)
    assert q.filled_qty(5) == 2


def test_fill_is_capped_at_leaves() -> None:
    q = RiskAverseQueue()
    q.on_new_order(1)
    q.on_trade(100)
    assert q.filled_qty(3) == 3
    assert q.filled_qty(3) == 0  # the rest went to the orders behind us


def test_prob_cancel_ahead_shapes() -> None:
    assert prob_cancel_ahead(PowerShape(1), 30, 10) == pytest.approx(0.75)
    assert prob_cancel_ahead(PowerShape(2), 30, 10) == pytest.approx(0.9)
    want = math.log(31) / (math.log(31) + math.log(11))
    assert prob_cancel_ahead(LogShape(), 30, 10) == pytest.approx(want)
    assert prob_cancel_ahead(LogShape(100), 3_000, 1_000) == pytest.approx(want)  # scale: sizes in lots of 100
    assert prob_cancel_ahead(PowerShape(3), 0, 10) == 0.0
    assert prob_cancel_ahead(PowerShape(3), 10, 0) == 1.0
    with pytest.raises(ValueError):
        PowerShape(0)


def test_probabilistic_expected_update_by_hand() -> None:
    q = ProbabilisticQueue(PowerShape(2))
    q.on_new_order(30)
    q.on_level_change(30, 40)  # 10 join behind
    q.on_level_change(40, 35)  # cancel 5: 0.9 of it ahead
    assert q.ahead == pytest.approx(30 - 4.5)
    lg = ProbabilisticQueue(LogShape())
    lg.on_new_order(30)
    lg.on_level_change(30, 40)
    lg.on_level_change(40, 35)
    p = math.log(31) / (math.log(31) + math.log(11))
    assert lg.ahead == pytest.approx(30 - 5 * p)
    # a cancel larger than what is behind takes the excess from ahead
    q = ProbabilisticQueue(PowerShape(1))
    q.on_new_order(30)
    q.on_level_change(30, 32)  # 2 behind
    q.on_level_change(32, 22)  # cancel 10: 30/32 of it ahead = 9.375, behind would give 0.625 <= 2
    assert q.ahead == pytest.approx(30 - 9.375)
    q2 = ProbabilisticQueue(PowerShape(0.01))  # a flat shape: about half of a cancel from each side...
    q2.on_new_order(10)
    q2.on_level_change(10, 12)
    q2.on_level_change(12, 4)  # ... but ~4 of 8 from behind, where only 2 are: the excess came from ahead
    p = 10**0.01 / (10**0.01 + 2**0.01)
    assert 8 * (1 - p) > 2
    assert q2.ahead == pytest.approx(10 - 8 * p - (8 * (1 - p) - 2)) == 4


def test_probabilistic_trade_then_its_size_drop_is_not_a_cancel() -> None:
    q = ProbabilisticQueue(PowerShape(1))
    q.on_new_order(10)
    q.on_level_change(10, 20)
    q.on_trade(4)
    q.on_level_change(20, 16)
    assert q.ahead == 6
    q.on_trade(2)
    q.on_level_change(16, 13)  # 2 traded, 1 cancelled: behind = 16 - 2 - 4 = 10, ahead = 4
    assert q.ahead == pytest.approx(4 - 4 / 14)


def test_linear_shape_expected_position_is_exact_for_unit_cancels() -> None:
    """n=1 puts a cancel uniformly in the queue; after k unit cancels E[ahead] = a(a+b-k)/(a+b)."""
    a, b = 30, 20
    q = ProbabilisticQueue(PowerShape(1))
    q.on_new_order(a)
    q.on_level_change(a, a + b)
    size = a + b
    for k in range(1, 40):
        q.on_level_change(size, size - 1)
        size -= 1
        assert q.ahead == pytest.approx(a * (a + b - k) / (a + b))


def _true_fifo_mean_ahead(a: int, b: int, k: int, runs: int, seed: int) -> float:
    """Ground truth: a real FIFO queue of unit orders, ours after ``a`` of them; ``k`` cancels of
    orders other than ours, each chosen uniformly."""
    rng = random.Random(seed)
    total = 0
    for _ in range(runs):
        ahead, behind = a, b
        for _ in range(k):
            if rng.randrange(ahead + behind) < ahead:
                ahead -= 1
            else:
                behind -= 1
        total += ahead
    return total / runs


def _sampled_ahead(proto: ProbabilisticQueue, a: int, b: int, cancels: list[int], runs: int) -> np.ndarray:
    out = np.empty(runs)
    for r in range(runs):
        q = proto.spawn(r)
        q.on_new_order(a)
        q.on_level_change(a, a + b)
        size = a + b
        for c in cancels:
            q.on_level_change(size, size - c)
            size -= c
        out[r] = q.ahead
    return out


def test_sampled_mode_matches_the_true_fifo_queue_in_expectation() -> None:
    a, b, k, runs = 30, 20, 25, 4000
    truth = a * (a + b - k) / (a + b)  # 15
    fifo = _true_fifo_mean_ahead(a, b, k, runs, seed=1)
    sampled = _sampled_ahead(ProbabilisticQueue(PowerShape(1), seed=7), a, b, [1] * k, runs)
    se = sampled.std() / math.sqrt(runs)
    assert abs(sampled.mean() - truth) < 4 * se
    assert abs(fifo - truth) < 4 * se
    # the same seed gives the same paths; another seed others
    again = _sampled_ahead(ProbabilisticQueue(PowerShape(1), seed=7), a, b, [1] * k, runs)
    assert np.array_equal(sampled, again)
    other = _sampled_ahead(ProbabilisticQueue(PowerShape(1), seed=8), a, b, [1] * k, runs)
    assert not np.array_equal(sampled, other)


@pytest.mark.parametrize("shape", [PowerShape(2), PowerShape(0.5), LogShape()], ids=repr)
def test_sampled_cancel_advances_as_the_shape_says(shape) -> None:
    """One cancel of 3 with 12 ahead and 40 behind: E[advance] = 3 · f(12)/(f(12)+f(40))."""
    runs = 6000
    sampled = _sampled_ahead(ProbabilisticQueue(shape, seed=3), 12, 40, [3], runs)
    advance = 12 - sampled
    p = prob_cancel_ahead(shape, 12, 40)
    se = math.sqrt(p * (1 - p) / runs) * 3
    assert abs(advance.mean() - 3 * p) < 4 * se
    expected = _sampled_ahead(ProbabilisticQueue(shape), 12, 40, [3], 1)[0]
    assert 12 - expected == pytest.approx(3 * p)  # the expected-value mode takes the mean directly


# -- properties over random, consistent L2 sequences --

_event = st.one_of(
    st.tuples(st.just("trade"), st.integers(1, 8)),
    st.tuples(st.just("add"), st.integers(1, 8)),
    st.tuples(st.just("cancel"), st.integers(1, 8)),
)


def _replay(model: QueueModel, start: int, events: list[tuple[str, int]], qty: int) -> tuple[list[float], list[int]]:
    """Replay events on a consistent level; returns ``ahead`` after each event and, per trade event,
    our fill (0 for a print that could not happen: nothing left at the level)."""
    model.on_new_order(start)
    level, leaves = start, qty
    aheads, fills = [], []
    for kind, n in events:
        if kind == "trade":
            n = min(n, level + leaves)  # a print cannot exceed the level plus our order
            if n == 0:
                fills.append(0)
                aheads.append(model.ahead)
                continue
            model.on_trade(n)
            f = model.filled_qty(leaves)
            leaves -= f
            others = n - f
            new = max(level - others, 0)
            model.on_level_change(level, new)
            level = new
            fills.append(f)
        elif kind == "add":
            model.on_level_change(level, level + n)
            level += n
        else:
            new = max(level - n, 0)
            model.on_level_change(level, new)
            level = new
        aheads.append(model.ahead)
    return aheads, fills


@settings(max_examples=150, deadline=None)
@given(start=st.integers(0, 30), events=st.lists(_event, max_size=40), qty=st.integers(1, 10), n=st.floats(0.3, 4))
def test_risk_averse_is_never_ahead_of_the_probabilistic_model(start, events, qty, n) -> None:
    ra_ahead, ra_fills = _replay(RiskAverseQueue(), start, events, qty)
    for proto in (ProbabilisticQueue(PowerShape(n)), ProbabilisticQueue(LogShape())):
        pq_ahead, pq_fills = _replay(proto, start, events, qty)
        assert all(r >= p - 1e-9 for r, p in zip(ra_ahead, pq_ahead, strict=True))
        assert sum(ra_fills) <= sum(pq_fills)
        assert all(p >= -1e-9 for p in pq_ahead)
    assert sum(ra_fills) <= qty


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 30),
    events=st.lists(st.one_of(st.tuples(st.just("trade"), st.integers(1, 8)), st.tuples(st.just("add"), st.integers(1, 8))), max_size=40),
    qty=st.integers(1, 10),
)
def test_risk_averse_fills_exactly_after_the_size_ahead_trades(start, events, qty) -> None:
    """Without cancels the risk-averse queue is exact: nothing fills until ``start`` has traded."""
    _, fills = _replay(RiskAverseQueue(), start, events, qty)
    level, traded, filled = start, 0, 0
    fill_iter = iter(fills)
    for kind, n in events:
        if kind == "add":
            level += n
            continue
        n = min(n, level + qty - filled)
        f = next(fill_iter)
        traded += n
        filled += f
        level -= n - f
        assert filled == min(max(traded - start, 0), qty)
