"""ITCH 5.0 -> L3 books per stock, depth deltas and trades."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tradeforge.data.book import BookError, UnknownOrderPolicy
from tradeforge.data.itch.book import book_columns, events, rebuild_books
from tradeforge.data.itch.decode import decode, decode_file
from tradeforge.data.itch.generator import encode, generate_messages
from tradeforge.model.data import OrderBookDelta, TradeTick

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "itch" / "ex20101224.TEST_ITCH_50.gz"


def python_books(cols) -> dict[int, dict[int, list[int]]]:
    """Plain model: locate -> order ref -> [side, price, shares]."""
    books: dict[int, dict[int, list[int]]] = {}
    for a, loc, oid, sd, p, q, nid in zip(*(c.tolist() for c in (
        cols.action, cols.locate, cols.order_id, cols.side, cols.price, cols.size, cols.new_id)), strict=True):
        o = books.setdefault(loc, {})
        if a == 1:
            o[oid] = [sd, p, q]
        elif a in (2, 4):
            o[oid][2] -= q
            if o[oid][2] == 0:
                del o[oid]
        elif a == 3:
            del o[oid]
        elif a == 5:
            o[nid] = [o.pop(oid)[0], p, q]
    return books


def levels(orders: dict[int, list[int]], side: int) -> list[list[int]]:
    agg: dict[int, list[int]] = {}
    for sd, p, q in orders.values():
        if sd == side:
            lv = agg.setdefault(p, [p, 0, 0])
            lv[1] += q
            lv[2] += 1
    return sorted(agg.values(), key=lambda r: -r[0] * side)


@pytest.fixture(scope="module")
def generated():
    return generate_messages(60_000, 11)


def test_generated_stream_matches_a_python_book(generated) -> None:
    replay = rebuild_books(generated, date="2024-03-01")
    model = python_books(book_columns(generated))
    assert len(replay.books) == 8
    for stock, book in replay.books.items():
        book.check_invariant()
        loc = int(replay.columns[stock].locate[0])
        for side in (1, -1):
            assert book.levels(side)[:, :3].tolist() == levels(model[loc], side)
        assert book.n_orders == len(model[loc])
    # every E, printable C, P and Q is one trade
    c = generated.arrays["C"]
    n_trades = sum(len(t) for t in replay.trades.values())
    assert n_trades == len(generated.arrays["E"]) + int((c["printable"] == b"Y").sum()) + len(generated.arrays["P"]) + len(generated.arrays.get("Q", []))


def test_decoded_bytes_give_the_same_books(generated) -> None:
    a = rebuild_books(generated)
    b = rebuild_books(decode(encode(generated)))
    for stock in a.books:
        assert a.books[stock].depth(50) == b.books[stock].depth(50)
        assert np.array_equal(a.trades[stock].price, b.trades[stock].price)


def test_events_are_in_stream_order(generated) -> None:
    replay = rebuild_books(generated, date="2024-03-01")
    stock = next(iter(replay.books))
    evs = events(replay, stock, ts_init=7)
    assert evs and all(e.ts_init == 7 for e in evs)
    seq = [e.sequence if isinstance(e, OrderBookDelta) else int(e.trade_id) for e in evs]
    assert seq == sorted(seq)
    t = next(e for e in evs if isinstance(e, TradeTick))
    assert t.ts_event > 1_709_251_200 * 10**9  # after midnight 2024-03-01 New York
    # an E trade prints at the executed order's level, right after that level's delta
    i = evs.index(t)
    prev = evs[i - 1]
    if isinstance(prev, OrderBookDelta) and prev.sequence == int(t.trade_id):
        assert prev.price == t.price and prev.side == -int(t.aggressor)


def test_itch_sample() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msgs = decode_file(SAMPLE)
    # the sample was *sampled* from a real day: some deletes/executions name orders it never added
    with pytest.raises(BookError, match="unknown order id"):
        rebuild_books(msgs)
    replay = rebuild_books(msgs, date="2010-12-24", unknown=UnknownOrderPolicy.IGNORE)
    assert sorted(replay.books) == ["ALC", "BOB", "CHAR"]
    skipped = 0
    for stock, book in replay.books.items():
        book.check_invariant()
        upd, cols = replay.updates[stock], replay.columns[stock]
        skipped += int(((upd.order_size < 0) & (cols.action != 1)).sum())
    assert skipped == 117
    assert sum(len(t) for t in replay.trades.values()) >= 5_000  # all P trades plus known E
    assert len(replay.trading_actions) == 3

