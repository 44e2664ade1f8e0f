"""The L3 (market-by-order) book: unit tests and property tests against a plain-Python model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.data.book import Action, BookError, L3Book, UnknownOrderPolicy
from tradeforge.data.book.events import level_deltas, order_deltas, replay_depth, top_of_book
from tradeforge.model.enums import BookAction


class Model:
    """A plain dict model of an L3 book: id -> [side, price, size]; FIFO = insertion order."""

    def __init__(self) -> None:
        self.orders: dict[int, list[int]] = {}

    def apply(self, a: int, oid: int, side: int, price: int, size: int, new_id: int) -> None:
        o = self.orders
        if a == Action.ADD:
            o[oid] = [side, price, size]
        elif a in (Action.CANCEL, Action.EXECUTE):
            o[oid][2] -= size
            if o[oid][2] == 0:
                del o[oid]
        elif a == Action.DELETE:
            del o[oid]
        elif a == Action.REPLACE:
            sd = o.pop(oid)[0]
            o[new_id] = [sd, price, size]

    def levels(self, side: int) -> list[tuple[int, int, int]]:
        agg: dict[int, list[int]] = {}
        for sd, p, q in self.orders.values():
            if sd == side:
                lv = agg.setdefault(p, [0, 0])
                lv[0] += q
                lv[1] += 1
        return sorted(((p, q, c) for p, (q, c) in agg.items()), key=lambda t: -t[0] * side)

    def queue(self, side: int, price: int) -> list[tuple[int, int]]:
        return [(i, q) for i, (sd, p, q) in self.orders.items() if sd == side and p == price]


def assert_same(book: L3Book, model: Model) -> None:
    book.check_invariant()
    assert book.n_orders == len(model.orders)
    for side in (1, -1):
        want = model.levels(side)
        got = book.levels(side)
        assert [tuple(r[:3]) for r in got.tolist()] == want
        assert np.all(got[:, 1] > 0) if len(got) else True
        for p, _, _ in want:
            assert book.orders_at(side, p) == model.queue(side, p)
    bb, ba = book.best_bid(), book.best_ask()
    bids, asks = model.levels(1), model.levels(-1)
    assert bb == ((bids[0][0], bids[0][1]) if bids else None)
    assert ba == ((asks[0][0], asks[0][1]) if asks else None)
    if bids:
        assert bb[0] == max(p for p, _, _ in bids)
    if asks:
        assert ba[0] == min(p for p, _, _ in asks)


@st.composite
def valid_ops(draw: st.DrawFn, max_ops: int = 120) -> list[tuple[int, int, int, int, int, int]]:
    """A random valid message sequence; prices on a narrow grid so levels share orders."""
    model = Model()
    next_id = 1
    ops = []
    for _ in range(draw(st.integers(1, max_ops))):
        live = list(model.orders)
        kind = draw(st.sampled_from(["add", "add", "cancel", "execute", "delete", "replace"]) if live else st.just("add"))
        if kind == "add":
            side = draw(st.sampled_from([1, -1]))
            op = (Action.ADD, next_id, side, draw(st.integers(95, 105)), draw(st.integers(1, 50)), 0)
            next_id += 1
        else:
            oid = draw(st.sampled_from(live))
            rem = model.orders[oid][2]
            if kind == "cancel":
                op = (Action.CANCEL, oid, 0, 0, draw(st.integers(1, rem)), 0)
            elif kind == "execute":
                op = (Action.EXECUTE, oid, 0, 0, draw(st.integers(1, rem)), 0)
            elif kind == "delete":
                op = (Action.DELETE, oid, 0, 0, 0, 0)
            else:
                op = (Action.REPLACE, oid, 0, draw(st.integers(95, 105)), draw(st.integers(1, 50)), next_id)
                next_id += 1
        model.apply(*op)
        ops.append(op)
    return ops


def _cols(ops: list[tuple[int, ...]]) -> list[np.ndarray]:
    return [np.array(c, dtype=np.int64) for c in zip(*ops, strict=True)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_ops(), st.integers(1, 7))
def test_random_valid_sequences_match_the_model(ops: list[tuple[int, ...]], n_batches: int) -> None:
    book = L3Book("X", capacity=16)  # tiny: forces growth of slots, hash table and levels
    model = Model()
    cols = _cols(ops)
    cuts = np.linspace(0, len(ops), n_batches + 1).astype(int)
    for a, b in itertools.pairwise(cuts):
        upd = book.apply(*(c[a:b] for c in cols))
        for op in ops[a:b]:
            model.apply(*op)
        assert_same(book, model)
        # the recorded touch after the batch's last message is the book's touch now
        if upd is not None and len(upd):
            bb, ba = book.best_bid(), book.best_ask()
            assert (int(upd.bid_price[-1]), int(upd.bid_size[-1])) == (bb or (0, 0))
            assert (int(upd.ask_price[-1]), int(upd.ask_size[-1])) == (ba or (0, 0))
    assert book.sequence == len(ops)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_ops(60), st.data())
def test_invalid_operations_raise_and_leave_earlier_messages_applied(ops: list[tuple[int, ...]], data: st.DataObject) -> None:
    model = Model()
    for op in ops:
        model.apply(*op)
    live = list(model.orders)
    bad_kind = data.draw(st.sampled_from(["unknown", "dup", "over_exec", "over_cancel", "bad_side", "bad_size"]))
    unknown_id = 10**12
    if bad_kind == "unknown":
        bad = (data.draw(st.sampled_from([Action.CANCEL, Action.EXECUTE, Action.DELETE, Action.REPLACE])), unknown_id, 1, 100, 1, unknown_id + 1)
    elif bad_kind == "dup" and live:
        bad = (Action.ADD, live[0], 1, 100, 1, 0)
    elif bad_kind in ("over_exec", "over_cancel") and live:
        act = Action.EXECUTE if bad_kind == "over_exec" else Action.CANCEL
        bad = (act, live[0], 0, 0, model.orders[live[0]][2] + 1, 0)
    elif bad_kind == "bad_side":
        bad = (Action.ADD, unknown_id, 0, 100, 1, 0)
    else:
        bad = (Action.ADD, unknown_id, 1, 100, 0, 0)
    book = L3Book()
    with pytest.raises(BookError) as exc:
        book.apply(*_cols([*ops, bad, (Action.ADD, unknown_id + 7, 1, 100, 1, 0)]))
    assert exc.value.index == len(ops)
    assert f"message {len(ops)}" in str(exc.value)
    assert_same(book, model)


def test_basic_operations_and_priority() -> None:
    b = L3Book("X")
    b.add(1, 1, 100, 10)
    b.add(2, 1, 100, 5)
    b.add(3, -1, 105, 7)
    b.add(4, 1, 99, 3)
    assert b.best_bid() == (100, 15) and b.best_ask() == (105, 7)
    assert b.orders_at(1, 100) == [(1, 10), (2, 5)]
    b.execute(1, 4)  # partial
    assert b.order(1) == (1, 100, 6)
    b.cancel(2, 5)  # cancel of everything left removes it
    assert b.order(2) is None
    b.add(5, 1, 100, 1)
    b.replace(1, 10, 100, 6)  # same price, new id: goes to the back of the queue
    assert b.orders_at(1, 100) == [(5, 1), (10, 6)]
    b.execute(3, 7)  # full execution empties the ask side
    assert b.best_ask() is None
    assert b.depth(5) == (((100, 7), (99, 3)), ())
    lv = b.levels(1)
    assert lv[:, 2].tolist() == [2, 1]
    b.check_invariant()
    with pytest.raises(BookError, match="execution larger"):
        b.execute(10, 7)
    with pytest.raises(BookError, match="unknown order id"):
        b.delete(999)


def test_unknown_order_policies() -> None:
    b = L3Book(unknown=UnknownOrderPolicy.IGNORE)
    b.add(1, 1, 100, 10)
    b.delete(77, 1, 100, 5)
    assert b.best_bid() == (100, 10)
    lv = L3Book(unknown=UnknownOrderPolicy.LEVEL)
    lv.add(1, -1, 101, 10)
    lv.set_level(-1, 101, 25)  # 15 in orders the book never saw
    assert lv.levels(-1).tolist() == [[101, 25, 1, 15]]
    lv.execute(88, 5, -1, 101)
    assert lv.best_ask() == (101, 20)
    lv.delete(89, -1, 101, 10)
    assert lv.best_ask() == (101, 10)
    lv.check_invariant()
    # short of unattributed size: the oldest known order is presumed gone and folded in
    lv.execute(90, 4, -1, 101)
    assert lv.order(1) is None and lv.best_ask() == (101, 6)
    lv.check_invariant()
    with pytest.raises(BookError, match="not enough unattributed"):
        lv.execute(91, 7, -1, 101)
    with pytest.raises(BookError, match="not enough unattributed"):
        lv.delete(92, 1, 50, 1)  # no such level


def test_large_batch_grows_and_matches_one_by_one() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    ids = np.arange(1, n + 1)
    sides = rng.choice([1, -1], n)
    prices = np.where(sides == 1, rng.integers(900, 1000, n), rng.integers(1001, 1100, n))
    sizes = rng.integers(1, 100, n)
    act = np.full(n, Action.ADD)
    book = L3Book(capacity=16)
    book.apply(act, ids, sides, prices, sizes, record=False)
    # delete every other order, execute a third of the rest fully
    dele = ids[::2]
    book.apply(np.full(len(dele), Action.DELETE), dele, np.zeros_like(dele), np.zeros_like(dele), np.zeros_like(dele))
    assert book.n_orders == n - len(dele)
    book.check_invariant()
    keep = ids[1::2]
    want_bid = prices[keep - 1][sides[keep - 1] == 1].max()
    assert book.best_bid()[0] == want_bid


def test_events_from_updates() -> None:
    book = L3Book("X")
    ops = [
        (Action.ADD, 1, 1, 100, 10, 0),
        (Action.ADD, 2, -1, 101, 5, 0),
        (Action.EXECUTE, 1, 0, 0, 4, 0),
        (Action.REPLACE, 2, 0, 102, 3, 7),
        (Action.NONE, 0, 0, 0, 0, 0),
        (Action.DELETE, 1, 0, 0, 0, 0),
    ]
    cols = _cols(ops)
    ts = np.arange(len(ops), dtype=np.int64) * 1000 + 5
    upd = book.apply(*cols)
    deltas = level_deltas("X", upd, ts, 99)
    assert [(d.action, d.side, d.price, d.size, d.sequence) for d in deltas] == [
        (BookAction.ADD, 1, 100, 10, 0),
        (BookAction.ADD, -1, 101, 5, 1),
        (BookAction.UPDATE, 1, 100, 6, 2),
        (BookAction.DELETE, -1, 101, 0, 3),
        (BookAction.ADD, -1, 102, 3, 3),
        (BookAction.DELETE, 1, 100, 0, 5),
    ]
    assert all(d.ts_init == 99 for d in deltas) and deltas[2].ts_event == 2005
    l3 = order_deltas("X", cols[0], cols[1], cols[5], upd, ts, 99)
    assert [(d.action, d.order_id, d.size) for d in l3] == [
        (BookAction.ADD, 1, 10), (BookAction.ADD, 2, 5), (BookAction.UPDATE, 1, 6),
        (BookAction.DELETE, 2, 0), (BookAction.ADD, 7, 3), (BookAction.DELETE, 1, 0),
    ]
    q = top_of_book("X", upd, ts, ts)
    assert q.bid.tolist() == [100, 100, 100, 100, 0] and q.ask.tolist() == [0, 101, 101, 102, 102]
    snaps = replay_depth(L3Book("X"), *cols, at=[1, 3, 5], ts_event=ts, ts_init=0, n_levels=5)
    assert [(s.bids, s.asks, s.sequence) for s in snaps] == [
        (((100, 10),), ((101, 5),), 1),
        (((100, 6),), ((102, 3),), 3),
        ((), ((102, 3),), 5),
    ]
