"""The matching engine: unit tests of every rule, and hypothesis property tests over random sequences
of submit / modify / cancel / expire / halt / resume from several owners, checked by a ledger built
only from the engine's records."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.model.enums import AggressorSide, OrderSide, OrderType, TimeInForce
from tradeforge.venues.matching import (
    Accepted,
    Canceled,
    Cross,
    Fill,
    LevelView,
    MatchingEngine,
    Modified,
    QueuePosition,
    Reason,
    Reduced,
    Rejected,
    Request,
    StpMode,
    Triggered,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
STOP, STOP_LIMIT = OrderType.STOP_MARKET, OrderType.STOP_LIMIT
GTC, DAY, IOC, FOK = TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK


def kinds(records: list[Any]) -> list[str]:
    return [type(r).__name__ for r in records]


def fills(records: list[Any]) -> list[tuple[Any, Any, int, int]]:
    """(maker, taker, price, size) of each fill."""
    return [(r.maker_id, r.taker_id, r.price, r.size) for r in records if isinstance(r, Fill)]


def book(e: MatchingEngine) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    bids, asks = e.depth(100)
    return [tuple(x) for x in bids], [tuple(x) for x in asks]


def engine_with(*orders: tuple[Any, ...]) -> MatchingEngine:
    """Resting limits (id, owner, side, size, price)."""
    e = MatchingEngine("X")
    for oid, owner, side, size, price in orders:
        assert kinds(e.submit(oid, owner, side, LIMIT, size, price)) == ["Accepted"]
    e.check_invariant()
    return e


# -- limit orders, priority, queries ---------------------------------------------------------------


def test_limit_orders_rest_in_price_then_time_order() -> None:
    e = engine_with((1, "a", BUY, 5, 99), (2, "b", BUY, 3, 100), (3, "c", BUY, 4, 99), (4, "a", SELL, 2, 102),
                    (5, "b", SELL, 6, 101))
    assert e.best_bid() == 100 and e.best_ask() == 101
    assert e.best_bid_size() == 3 and e.best_ask_size() == 6
    assert book(e) == ([(100, 3, 1), (99, 9, 2)], [(101, 6, 1), (102, 2, 1)])
    assert e.depth(1) == ([LevelView(100, 3, 1)], [LevelView(101, 6, 1)])
    assert e.queue_position(3) == QueuePosition(1, 5, 9)
    assert e.queue_position(1) == QueuePosition(0, 0, 9)
    view = e.order(3)
    assert view is not None and view.price == 99 and view.size == 4 and view.owner == "c" and not view.held
    assert e.order(42) is None and e.queue_position(42) is None
    assert len(e) == 5 and 4 in e and 42 not in e
    assert sorted(v.order_id for v in e.orders()) == [1, 2, 3, 4, 5]
    assert not e.is_crossed()


def test_crossing_limit_fills_at_maker_prices_walks_levels_and_rests_the_rest() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 3, 101), (3, "c", SELL, 4, 102), (4, "d", SELL, 1, 104))
    out = e.submit(10, "t", BUY, LIMIT, 10, 103)
    assert kinds(out) == ["Accepted", "Fill", "Fill", "Fill"]
    assert fills(out) == [(1, 10, 101, 2), (2, 10, 101, 3), (3, 10, 102, 4)]
    f = out[1]
    assert f.maker_owner == "a" and f.taker_owner == "t" and f.aggressor is AggressorSide.BUYER
    assert f.maker_side is SELL and f.maker_remaining == 0 and f.taker_remaining == 8
    assert [r.match_id for r in out[1:]] == [1, 2, 3]
    assert book(e) == ([(103, 1, 1)], [(104, 1, 1)])
    assert e.last_trade_price == 102
    e.check_invariant()


def test_partial_fill_of_the_maker_keeps_its_place() -> None:
    e = engine_with((1, "a", BUY, 10, 100), (2, "b", BUY, 5, 100))
    out = e.submit(3, "c", SELL, LIMIT, 4, 100)
    assert fills(out) == [(1, 3, 100, 4)]
    assert out[-1].aggressor is AggressorSide.SELLER
    assert e.queue_position(1) == QueuePosition(0, 0, 11)
    assert e.queue_position(2) == QueuePosition(1, 6, 11)
    assert fills(e.submit(4, "c", SELL, LIMIT, 7, 100)) == [(1, 4, 100, 6), (2, 4, 100, 1)]


def test_market_order_walks_the_book_and_never_rests() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 3, 103))
    out = e.submit(3, "c", BUY, MARKET, 10)
    assert fills(out) == [(1, 3, 101, 2), (2, 3, 103, 3)]
    assert out[-1] == Canceled(3, "c", 5, Reason.NO_LIQUIDITY)
    assert book(e) == ([], [])
    assert kinds(e.submit(4, "c", SELL, MARKET, 1)) == ["Accepted", "Canceled"]  # empty book
    assert len(e) == 0


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 3, 102))
    out = e.submit(3, "c", BUY, LIMIT, 5, 101, tif=IOC)
    assert fills(out) == [(1, 3, 101, 2)]
    assert out[-1] == Canceled(3, "c", 3, Reason.IOC)
    assert 3 not in e and book(e) == ([], [(102, 3, 1)])


def test_fok_is_all_or_nothing_checked_before_any_fill() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 3, 102), (3, "c", SELL, 9, 103))
    before = book(e)
    out = e.submit(4, "d", BUY, LIMIT, 6, 102, tif=FOK)  # only 5 up to 102
    assert kinds(out) == ["Accepted", "Canceled"] and out[-1].reason is Reason.FOK and out[-1].size == 6
    assert book(e) == before
    out = e.submit(5, "d", BUY, LIMIT, 5, 102, tif=FOK)
    assert fills(out) == [(1, 5, 101, 2), (2, 5, 102, 3)] and 5 not in e
    out = e.submit(6, "d", BUY, MARKET, 10, tif=FOK)
    assert kinds(out) == ["Accepted", "Canceled"] and out[-1].reason is Reason.FOK
    assert fills(e.submit(7, "d", BUY, MARKET, 9, tif=FOK)) == [(3, 7, 103, 9)]


def test_post_only_is_rejected_if_it_would_take() -> None:
    e = engine_with((1, "a", SELL, 2, 101))
    out = e.submit(2, "b", BUY, LIMIT, 1, 101, post_only=True)
    assert out == [Rejected(2, "b", Request.SUBMIT, Reason.POST_ONLY, out[0].detail)]
    assert kinds(e.submit(3, "b", BUY, LIMIT, 1, 100, post_only=True)) == ["Accepted"]
    assert e.order(3).post_only  # type: ignore[union-attr]
    # moving it to a marketable price is refused and changes nothing
    out = e.modify(3, new_price=101)
    assert kinds(out) == ["Rejected"] and out[0].reason is Reason.POST_ONLY and out[0].request is Request.MODIFY
    assert e.order(3).price == 100  # type: ignore[union-attr]


def test_validation_and_duplicates_are_rejected() -> None:
    e = engine_with((1, "a", BUY, 1, 100))
    bad = [
        dict(order_id=2, owner="a", side=BUY, order_type=LIMIT, size=0, price=100),
        dict(order_id=2, owner="a", side=BUY, order_type=LIMIT, size=1),
        dict(order_id=2, owner="a", side=BUY, order_type=MARKET, size=1, price=100),
        dict(order_id=2, owner="a", side=BUY, order_type=STOP, size=1),
        dict(order_id=2, owner="a", side=BUY, order_type=LIMIT, size=1, price=100, trigger=99),
        dict(order_id=2, owner="a", side=BUY, order_type=OrderType.MARKET_IF_TOUCHED, size=1, trigger=99),
        dict(order_id=2, owner="a", side=BUY, order_type=LIMIT, size=1, price=99, tif=IOC, post_only=True),
        dict(order_id=2, owner="a", side=0, order_type=LIMIT, size=1, price=99),
    ]
    for kw in bad:
        out = e.submit(**kw)
        assert kinds(out) == ["Rejected"] and out[0].reason is Reason.INVALID, kw
    out = e.submit(1, "b", SELL, LIMIT, 1, 200)
    assert kinds(out) == ["Rejected"] and out[0].reason is Reason.DUPLICATE_ID
    assert kinds(e.submit(3, "a", -1, LIMIT, 1, 101)) == ["Accepted"]  # a plain int side is fine
    assert e.order(3).side is SELL  # type: ignore[union-attr]
    e.check_invariant()


# -- stops -----------------------------------------------------------------------------------------


def test_stop_market_is_held_until_a_trade_at_or_through_the_trigger() -> None:
    e = engine_with((1, "a", SELL, 1, 101), (2, "a", SELL, 5, 102), (3, "b", BUY, 5, 99))
    assert kinds(e.submit(10, "s", BUY, STOP, 3, trigger=101)) == ["Accepted"]
    assert e.order(10).held and e.queue_position(10) is None  # type: ignore[union-attr]
    assert e.best_bid() == 99  # a held stop is not in the book
    out = e.submit(11, "t", BUY, LIMIT, 1, 101)  # prints 101 = trigger
    assert kinds(out) == ["Accepted", "Fill", "Triggered", "Fill"]
    assert out[2] == Triggered(10, "s", 101, 101)
    assert fills(out)[1] == (2, 10, 102, 3)
    assert 10 not in e
    # a sell stop below the market
    assert kinds(e.submit(12, "s", SELL, STOP, 2, trigger=99)) == ["Accepted"]
    assert kinds(e.submit(13, "t", SELL, LIMIT, 1, 100)) == ["Accepted"]  # rests, no trade
    assert 12 in e
    out = e.submit(14, "t", SELL, MARKET, 1)  # prints 99 (the best bid) = the sell stop's trigger
    assert kinds(out) == ["Accepted", "Fill", "Triggered", "Fill"]
    assert fills(out) == [(3, 14, 99, 1), (3, 12, 99, 2)]
    e.check_invariant()


def test_stop_limit_rests_after_its_trigger_and_stop_through_the_last_trade_triggers_at_once() -> None:
    e = engine_with((1, "a", SELL, 1, 101), (2, "a", SELL, 5, 105))
    assert kinds(e.submit(10, "s", BUY, STOP_LIMIT, 3, price=102, trigger=101)) == ["Accepted"]
    out = e.submit(11, "t", BUY, MARKET, 1)
    assert kinds(out) == ["Accepted", "Fill", "Triggered"]
    assert e.order(10).price == 102 and not e.order(10).held  # type: ignore[union-attr]
    assert e.best_bid() == 102
    # the last trade (101) is already at/through a buy stop at 100: it triggers on submission
    out = e.submit(12, "s", BUY, STOP, 1, trigger=100)
    assert kinds(out) == ["Accepted", "Triggered", "Fill"] and fills(out) == [(2, 12, 105, 1)]
    e.check_invariant()


def test_stops_cascade_within_one_call() -> None:
    e = engine_with((1, "a", BUY, 1, 100), (2, "a", BUY, 1, 99), (3, "a", BUY, 1, 98), (4, "a", BUY, 5, 90))
    e.submit(10, "s", SELL, STOP, 1, trigger=99)
    e.submit(11, "s", SELL, STOP, 1, trigger=98)
    e.submit(12, "s", SELL, STOP, 1, trigger=97)  # reached only by stop 11's trade at 98? no: 98 > 97
    out = e.submit(13, "t", SELL, MARKET, 1)  # prints 100: nothing triggers
    assert kinds(out) == ["Accepted", "Fill"]
    out = e.submit(14, "t", SELL, MARKET, 1)  # prints 99 -> stop 10 prints 98 -> stop 11 prints 90 -> stop 12
    assert [r.order_id for r in out if isinstance(r, Triggered)] == [10, 11, 12]
    assert fills(out) == [(2, 14, 99, 1), (3, 10, 98, 1), (4, 11, 90, 1), (4, 12, 90, 1)]
    assert len(e) == 1 and e.order(4).size == 3  # type: ignore[union-attr]
    e.check_invariant()


def test_several_stops_trigger_best_trigger_first_then_arrival() -> None:
    e = engine_with((1, "a", SELL, 1, 101), (2, "a", SELL, 10, 110))
    e.submit(10, "s", BUY, STOP_LIMIT, 1, price=100, trigger=101)  # rests after triggering
    e.submit(11, "s", BUY, STOP_LIMIT, 1, price=100, trigger=100)
    e.submit(12, "s", BUY, STOP_LIMIT, 1, price=100, trigger=100)
    out = e.submit(13, "t", BUY, MARKET, 1)
    assert [r.order_id for r in out if isinstance(r, Triggered)] == [11, 12, 10]
    assert [o.order_id for o in sorted(e.orders(), key=lambda v: v.seq) if o.side is BUY] == [11, 12, 10]


# -- modify, cancel, expire ------------------------------------------------------------------------


def test_modify_size_down_keeps_priority_and_size_up_loses_it() -> None:
    e = engine_with((1, "a", BUY, 5, 100), (2, "b", BUY, 5, 100), (3, "c", BUY, 5, 100))
    out = e.modify(1, new_size=2)
    assert out == [Modified(1, "a", 5, 2, 100, 100, None, None, True)]
    assert e.queue_position(1) == QueuePosition(0, 0, 12)
    out = e.modify(2, new_size=6)
    assert out == [Modified(2, "b", 5, 6, 100, 100, None, None, False)]
    assert e.queue_position(2) == QueuePosition(2, 7, 13)
    assert e.queue_position(3) == QueuePosition(1, 2, 13)
    e.check_invariant()


def test_modify_price_loses_priority_and_may_match_at_once() -> None:
    e = engine_with((1, "a", BUY, 5, 100), (2, "b", BUY, 5, 99), (3, "c", SELL, 4, 102))
    out = e.modify(1, new_price=99)
    assert kinds(out) == ["Modified"] and not out[0].priority_kept
    assert e.queue_position(1) == QueuePosition(1, 5, 10)
    out = e.modify(2, new_size=6, new_price=102)  # now marketable: takes 4, rests 2 at 102
    assert kinds(out) == ["Modified", "Fill"] and fills(out) == [(3, 2, 102, 4)]
    assert out[1].aggressor is AggressorSide.BUYER
    assert book(e) == ([(102, 2, 1), (99, 5, 1)], [])
    e.check_invariant()


def test_modify_rejections() -> None:
    e = engine_with((1, "a", BUY, 5, 100))
    assert e.modify(9, new_size=1)[0].reason is Reason.UNKNOWN_ORDER
    assert e.modify(1, new_size=0)[0].reason is Reason.INVALID
    assert e.modify(1, new_trigger=90)[0].reason is Reason.INVALID  # not a stop
    e.submit(2, "a", SELL, STOP, 1, trigger=90)
    assert e.modify(2, new_price=91)[0].reason is Reason.INVALID  # a stop-market has no limit price
    assert e.order(1).size == 5  # type: ignore[union-attr]


def test_modify_a_held_stop() -> None:
    e = engine_with((1, "a", SELL, 1, 101), (2, "a", SELL, 5, 103))
    e.submit(10, "s", BUY, STOP_LIMIT, 3, price=103, trigger=102)
    out = e.modify(10, new_size=2, new_price=104)
    assert out == [Modified(10, "s", 3, 2, 103, 104, 102, 102, True)] and e.order(10).held  # type: ignore[union-attr]
    e.submit(11, "t", BUY, LIMIT, 1, 101)  # prints 101: below the trigger
    out = e.modify(10, new_trigger=101)  # now at the last trade: triggers at once
    assert kinds(out) == ["Modified", "Triggered", "Fill"] and fills(out) == [(2, 10, 103, 2)]
    e.check_invariant()


def test_cancel_and_expire() -> None:
    e = engine_with((1, "a", BUY, 5, 100), (2, "b", BUY, 5, 100))
    e.submit(3, "c", SELL, STOP, 2, trigger=90)
    assert e.cancel(1) == [Canceled(1, "a", 5, Reason.CANCELED)]
    assert e.expire(2) == [Canceled(2, "b", 5, Reason.EXPIRED)]
    assert e.cancel(3) == [Canceled(3, "c", 2, Reason.CANCELED)]
    assert book(e) == ([], []) and len(e) == 0
    out = e.cancel(1)
    assert kinds(out) == ["Rejected"] and out[0].reason is Reason.UNKNOWN_ORDER and out[0].request is Request.CANCEL
    assert e.expire(1)[0].request is Request.EXPIRE
    e.check_invariant()


def test_cancel_in_the_middle_of_a_queue_and_of_the_book() -> None:
    e = engine_with((1, "a", BUY, 1, 100), (2, "a", BUY, 2, 100), (3, "a", BUY, 3, 100), (4, "a", BUY, 1, 98),
                    (5, "a", BUY, 1, 97))
    e.cancel(2)
    assert e.queue_position(3) == QueuePosition(1, 1, 4)
    e.cancel(4)  # a whole inner level
    assert book(e)[0] == [(100, 4, 2), (97, 1, 1)]
    e.check_invariant()


# -- self-trade prevention ---------------------------------------------------------------------------


def test_stp_none_lets_an_owner_trade_with_itself() -> None:
    e = engine_with((1, "a", SELL, 2, 101))
    assert fills(e.submit(2, "a", BUY, LIMIT, 2, 101)) == [(1, 2, 101, 2)]


def test_stp_cancel_newest() -> None:
    e = engine_with((1, "b", SELL, 1, 100), (2, "a", SELL, 2, 101), (3, "b", SELL, 2, 101))
    out = e.submit(4, "a", BUY, LIMIT, 5, 101, stp_mode=StpMode.CANCEL_NEWEST)
    assert fills(out) == [(1, 4, 100, 1)] and out[-1] == Canceled(4, "a", 4, Reason.SELF_TRADE)
    assert book(e) == ([], [(101, 4, 2)])


def test_stp_cancel_oldest() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 2, 101))
    out = e.submit(4, "a", BUY, LIMIT, 5, 101, stp_mode=StpMode.CANCEL_OLDEST)
    assert kinds(out) == ["Accepted", "Canceled", "Fill"]
    assert out[1] == Canceled(1, "a", 2, Reason.SELF_TRADE) and fills(out) == [(2, 4, 101, 2)]
    assert book(e) == ([(101, 3, 1)], [])


def test_stp_cancel_both() -> None:
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 2, 101))
    out = e.submit(4, "a", BUY, LIMIT, 5, 101, stp_mode=StpMode.CANCEL_BOTH)
    assert out[1:] == [Canceled(1, "a", 2, Reason.SELF_TRADE), Canceled(4, "a", 5, Reason.SELF_TRADE)]
    assert book(e) == ([], [(101, 2, 1)])


def test_stp_decrement_and_cancel() -> None:
    dc = StpMode.DECREMENT_AND_CANCEL
    # resting larger: it is reduced, the incoming canceled
    e = engine_with((1, "a", SELL, 5, 101))
    out = e.submit(2, "a", BUY, LIMIT, 2, 101, stp_mode=dc)
    assert out[1:] == [Reduced(1, "a", 2, 3, Reason.SELF_TRADE), Canceled(2, "a", 2, Reason.SELF_TRADE)]
    assert book(e) == ([], [(101, 3, 1)])
    # incoming larger: the resting one is canceled, the incoming reduced and it matches on
    e = engine_with((1, "a", SELL, 2, 101), (2, "b", SELL, 2, 101))
    out = e.submit(3, "a", BUY, LIMIT, 5, 101, stp_mode=dc)
    assert out[1:3] == [Canceled(1, "a", 2, Reason.SELF_TRADE), Reduced(3, "a", 2, 3, Reason.SELF_TRADE)]
    assert fills(out) == [(2, 3, 101, 2)] and out[-1].taker_remaining == 1
    assert book(e) == ([(101, 1, 1)], [])
    # equal: both canceled
    e = engine_with((1, "a", SELL, 2, 101))
    out = e.submit(2, "a", BUY, LIMIT, 2, 101, stp_mode=dc)
    assert out[1:] == [Canceled(1, "a", 2, Reason.SELF_TRADE), Canceled(2, "a", 2, Reason.SELF_TRADE)]
    assert len(e) == 0


def test_fok_counts_only_liquidity_it_could_take_under_stp() -> None:
    e = engine_with((1, "b", SELL, 2, 101), (2, "a", SELL, 2, 101), (3, "b", SELL, 2, 101))
    for mode in (StpMode.CANCEL_NEWEST, StpMode.CANCEL_BOTH, StpMode.DECREMENT_AND_CANCEL, StpMode.CANCEL_OLDEST):
        out = e.submit(10, "a", BUY, LIMIT, 5, 101, tif=FOK, stp_mode=mode)
        assert kinds(out) == ["Accepted", "Canceled"] and out[-1].reason is Reason.FOK, mode
    out = e.submit(11, "a", BUY, LIMIT, 4, 101, tif=FOK, stp_mode=StpMode.CANCEL_OLDEST)
    assert fills(out) == [(1, 11, 101, 2), (3, 11, 101, 2)]
    assert Canceled(2, "a", 2, Reason.SELF_TRADE) in out


# -- reduce-only ------------------------------------------------------------------------------------


def test_reduce_only_limit_trims_or_rejects() -> None:
    e = engine_with((1, "a", SELL, 10, 101))
    out = e.submit(2, "b", BUY, LIMIT, 5, 101, reduce_only_limit=3)
    assert kinds(out) == ["Accepted", "Reduced", "Fill"]
    assert out[1] == Reduced(2, "b", 2, 3, Reason.REDUCE_ONLY) and fills(out) == [(1, 2, 101, 3)]
    out = e.submit(3, "b", BUY, LIMIT, 5, 101, reduce_only_limit=0)
    assert kinds(out) == ["Rejected"] and out[0].reason is Reason.REDUCE_ONLY
    assert kinds(e.submit(4, "b", BUY, LIMIT, 2, 101, reduce_only_limit=5)) == ["Accepted", "Fill"]


# -- halts and the opening cross --------------------------------------------------------------------


def test_halt_collects_orders_and_rejects_those_that_cannot_rest() -> None:
    e = engine_with((1, "a", SELL, 5, 101))
    assert e.halt() == [] and e.halted
    for kw in (dict(order_type=MARKET), dict(order_type=LIMIT, price=101, tif=IOC),
               dict(order_type=LIMIT, price=101, tif=FOK)):
        out = e.submit(2, "b", BUY, size=1, **kw)
        assert kinds(out) == ["Rejected"] and out[0].reason is Reason.HALTED
    assert kinds(e.submit(3, "b", BUY, LIMIT, 2, 102)) == ["Accepted"]  # rests crossed, no trade
    assert e.is_crossed()
    assert kinds(e.submit(4, "b", BUY, STOP, 1, trigger=100)) == ["Accepted"]  # held
    assert kinds(e.modify(3, new_price=103)) == ["Modified"]  # no matching while halted
    e.check_invariant()  # crossed is allowed while halted
    out = e.resume()
    assert not e.halted and not e.is_crossed()
    assert kinds(out) == ["Fill", "Cross", "Triggered", "Fill"]
    assert out[0].price == 101 and out[0].aggressor is AggressorSide.NONE and out[1] == Cross(101, 2)
    assert out[0].maker_id == 1 and out[0].taker_id == 3  # the earlier order is the maker
    assert fills(out)[1] == (1, 4, 101, 1)
    e.check_invariant()


def test_opening_cross_maximizes_volume() -> None:
    e = MatchingEngine()
    e.halt()
    for oid, side, size, px in ((1, BUY, 10, 102), (2, BUY, 5, 101), (3, SELL, 8, 100), (4, SELL, 10, 101),
                                (5, BUY, 7, 95), (6, SELL, 7, 110)):
        e.submit(oid, f"o{oid}", side, LIMIT, size, px)
    out = e.resume()
    # at 100: min(15, 8) = 8; at 101: min(15, 18) = 15; at 102: min(10, 18) = 10
    assert out[-1] == Cross(101, 15)
    assert fills(out) == [(1, 3, 101, 8), (1, 4, 101, 2), (2, 4, 101, 5)]
    assert book(e) == ([(95, 7, 1)], [(101, 3, 1), (110, 7, 1)])
    assert e.last_trade_price == 101
    e.check_invariant()


@pytest.mark.parametrize(
    ("orders", "ref", "price"),
    [
        # equal volume and imbalance at 100 and 101: the lower price without a reference...
        (((1, BUY, 10, 101), (2, SELL, 10, 100)), None, 100),
        # ...the one nearer the reference with one
        (((1, BUY, 10, 101), (2, SELL, 10, 100)), 105, 101),
        # equal volume (10): 101 leaves no imbalance, 100 leaves 5 bought unmatched
        (((1, BUY, 10, 101), (2, BUY, 5, 100), (3, SELL, 10, 100)), 100, 101),
    ],
)
def test_opening_cross_tie_breaks(orders: tuple[tuple[int, OrderSide, int, int], ...], ref: int | None,
                                  price: int) -> None:
    e = MatchingEngine()
    e.halt()
    for oid, side, size, px in orders:
        e.submit(oid, f"o{oid}", side, LIMIT, size, px)
    out = e.resume(reference_price=ref)
    assert out[-1] == Cross(price, 10)
    e.check_invariant()


def test_opening_cross_applies_stp_and_repeats_until_uncrossed() -> None:
    e = MatchingEngine()
    e.submit(1, "x", SELL, LIMIT, 10, 100)
    e.halt()
    e.submit(2, "y", SELL, LIMIT, 10, 101)
    e.submit(3, "x", BUY, LIMIT, 10, 101, stp_mode=StpMode.CANCEL_OLDEST)
    out = e.resume()
    # round 1 at 100 (equal volume, no imbalance, lower price): 3 meets its own 1, which is canceled;
    # the book is still crossed (101/101), so round 2 crosses at 101
    assert out == [
        Canceled(1, "x", 10, Reason.SELF_TRADE),
        Cross(100, 0),
        Fill(1, 101, 10, 2, 3, "y", "x", SELL, AggressorSide.NONE, 0, 0),
        Cross(101, 10),
    ]
    assert len(e) == 0
    e.check_invariant()


def test_resume_without_a_cross() -> None:
    e = engine_with((1, "a", BUY, 1, 100), (2, "a", SELL, 1, 101))
    e.halt()
    assert e.resume() == [] and not e.halted


# -- invariant ------------------------------------------------------------------------------------


def test_check_invariant_detects_corruption() -> None:
    e = engine_with((1, "a", BUY, 5, 100))
    e._bids.levels[100].size += 1
    with pytest.raises(AssertionError):
        e.check_invariant()


def test_determinism_same_calls_same_records() -> None:
    def run() -> list[Any]:
        e = MatchingEngine()
        out: list[Any] = []
        for i in range(200):
            side = BUY if (i * 7) % 3 else SELL
            out += e.submit(i, i % 4, side, LIMIT, 1 + i % 5, 100 + (i * 13) % 7 - 3)
            if i % 5 == 0:
                out += e.cancel(i - 3)
        return out

    assert run() == run()


# -- property tests ---------------------------------------------------------------------------------

OWNERS = ("a", "b", "c")
STPS = list(StpMode)

submit_op = st.tuples(
    st.just("submit"),
    st.sampled_from(OWNERS),
    st.sampled_from([BUY, SELL]),
    st.sampled_from([LIMIT] * 6 + [MARKET, STOP, STOP_LIMIT]),
    st.integers(1, 8),  # size
    st.integers(97, 103),  # price
    st.integers(97, 103),  # trigger
    st.sampled_from([GTC, GTC, DAY, IOC, FOK]),
    st.booleans(),  # post-only (for resting limits only)
    st.sampled_from(STPS),
    st.one_of(st.none(), st.none(), st.integers(0, 8)),  # reduce-only limit
)
modify_op = st.tuples(
    st.just("modify"), st.integers(0, 1000), st.one_of(st.none(), st.integers(1, 9)),
    st.one_of(st.none(), st.integers(97, 103)), st.one_of(st.none(), st.integers(97, 103)),
)
cancel_op = st.tuples(st.sampled_from(["cancel", "expire"]), st.integers(0, 1000))
halt_op = st.tuples(st.sampled_from(["halt", "resume"]))


@st.composite
def one_op(draw: st.DrawFn) -> tuple[Any, ...]:
    """Mostly submits (so that books build up and cross), some modifies and cancels, rare halts."""
    k = draw(st.integers(0, 99))
    if k < 70:
        return draw(submit_op)
    if k < 82:
        return draw(modify_op)
    if k < 95:
        return draw(cancel_op)
    return draw(halt_op)


ops_strategy = st.lists(one_op(), min_size=10, max_size=100)


class Ledger:
    """Per-order accounting rebuilt from the records alone, checked against the engine."""

    def __init__(self) -> None:
        self.open: dict[Any, int] = {}  # open size per accepted order (0 once it is gone)
        self.entered: dict[Any, int] = {}  # accepted size after a reduce-only trim and modifies
        self.filled: dict[Any, int] = {}
        self.total_in: dict[Any, int] = {}  # accepted + modify changes
        self.total_out: dict[Any, int] = {}  # filled + reduced + canceled
        self.meta: dict[Any, dict[str, Any]] = {}

    def apply(self, records: list[Any], snapshot: dict[int, list[Any]], engine: MatchingEngine) -> None:
        priority_ok = True  # checked until the first trigger / cross (the book can change beyond the snapshot)
        for r in records:
            if isinstance(r, (Triggered, Cross)):
                priority_ok = False
            if isinstance(r, Accepted):
                assert r.order_id not in self.open
                self.open[r.order_id] = self.entered[r.order_id] = self.total_in[r.order_id] = r.size
                self.filled[r.order_id] = self.total_out[r.order_id] = 0
                self.meta[r.order_id]["limit"] = r.price
            elif isinstance(r, Reduced):
                self.open[r.order_id] -= r.size
                self.total_out[r.order_id] += r.size
                assert self.open[r.order_id] == r.remaining > 0
                if r.reason is Reason.REDUCE_ONLY:
                    self.entered[r.order_id] -= r.size
            elif isinstance(r, Canceled):
                assert self.open[r.order_id] == r.size > 0
                self.open[r.order_id] = 0
                self.total_out[r.order_id] += r.size
            elif isinstance(r, Modified):
                assert self.open[r.order_id] == r.old_size
                self.open[r.order_id] = r.size
                self.total_in[r.order_id] += r.size - r.old_size
                self.entered[r.order_id] += r.size - r.old_size  # (a held FOK stop can be resized)
                self.meta[r.order_id]["limit"] = r.price
            elif isinstance(r, Fill):
                self.check_fill(r, snapshot if priority_ok else None)
        # conservation, and the ledger agrees with the engine's live orders
        for oid, open_size in self.open.items():
            assert self.total_in[oid] == self.total_out[oid] + open_size
            view = engine.order(oid)
            assert (view.size if view is not None else 0) == open_size, oid
            if self.meta[oid]["tif"] is FOK:  # all or nothing
                assert self.filled[oid] in (0, self.entered[oid])
        assert len(engine) == sum(1 for v in self.open.values() if v)

    def check_fill(self, f: Fill, snapshot: dict[int, list[Any]] | None) -> None:
        mk, tk = f.maker_id, f.taker_id
        assert f.size > 0 and mk != tk
        for oid in (mk, tk):
            self.open[oid] -= f.size
            self.filled[oid] += f.size
            self.total_out[oid] += f.size
            assert self.open[oid] >= 0
        assert self.open[mk] == f.maker_remaining and self.open[tk] == f.taker_remaining
        # STP: the incoming (later) order's mode decides; with any mode but NONE, no self-trade
        if self.meta[tk]["stp"] is not StpMode.NONE:
            assert f.maker_owner != f.taker_owner
        assert f.maker_owner == self.meta[mk]["owner"] and f.taker_owner == self.meta[tk]["owner"]
        # limits: the buyer never pays above its limit, the seller never gets below
        maker_side = self.meta[mk]["side"]
        assert self.meta[tk]["side"] == -maker_side and f.maker_side is maker_side
        buyer, seller = (mk, tk) if maker_side is BUY else (tk, mk)
        if self.meta[buyer]["limit"] is not None:
            assert f.price <= self.meta[buyer]["limit"]
        if self.meta[seller]["limit"] is not None:
            assert f.price >= self.meta[seller]["limit"]
        if f.aggressor is AggressorSide.NONE:
            return
        assert f.aggressor == self.meta[tk]["side"]
        assert not self.meta[tk]["post_only"], "a post-only order took liquidity"
        assert f.price == self.meta[mk]["limit"], "trades execute at the maker's price"
        if snapshot is None:
            return
        # price-time priority: every resting order ahead of the maker is already consumed
        queue = snapshot[maker_side]
        ids = [v.order_id for v in queue]
        assert mk in ids, "the maker was resting before this call"
        for v in queue[: ids.index(mk)]:
            assert self.open[v.order_id] == 0, f"fill hit {mk} while {v.order_id} (ahead of it) still rests"


def priority_snapshot(e: MatchingEngine) -> dict[int, list[Any]]:
    resting = [v for v in e.orders() if not v.held]
    return {
        BUY: sorted((v for v in resting if v.side is BUY), key=lambda v: (-v.price, v.seq)),
        SELL: sorted((v for v in resting if v.side is SELL), key=lambda v: (v.price, v.seq)),
    }


def run_ops(ops: list[tuple[Any, ...]]) -> list[Any]:
    e = MatchingEngine()
    ledger = Ledger()
    ids = itertools.count()
    everything: list[Any] = []
    for op in ops:
        live = sorted(v.order_id for v in e.orders())
        snapshot = priority_snapshot(e)
        kind = op[0]
        if kind == "submit":
            _, owner, side, otype, size, price, trigger, tif, post_only, stp, ro = op
            oid = next(ids)
            kw: dict[str, Any] = {"tif": tif, "stp_mode": stp, "reduce_only_limit": ro}
            if otype in (LIMIT, STOP_LIMIT):
                kw["price"] = price
            if otype in (STOP, STOP_LIMIT):
                kw["trigger"] = trigger
            kw["post_only"] = post_only and otype is LIMIT and tif not in (IOC, FOK)
            ledger.meta[oid] = {"owner": owner, "side": side, "tif": tif, "stp": stp, "post_only": kw["post_only"]}
            out = e.submit(oid, owner, side, otype, size, **kw)
            if isinstance(out[0], Rejected):
                assert len(out) == 1 and out[0].reason in (Reason.POST_ONLY, Reason.HALTED, Reason.REDUCE_ONLY)
                del ledger.meta[oid]
        elif kind == "modify":
            _, pick, new_size, new_price, new_trigger = op
            if not live:
                continue
            oid = live[pick % len(live)]
            view = e.order(oid)
            assert view is not None
            if view.order_type not in (LIMIT, STOP_LIMIT):
                new_price = None
            if not view.held:
                new_trigger = None
            out = e.modify(oid, new_size, new_price, new_trigger)
            if isinstance(out[0], Rejected):
                assert out[0].reason is Reason.POST_ONLY and len(out) == 1
        elif kind in ("cancel", "expire"):
            pick = op[1]
            if not live:
                out = e.cancel(pick)
                assert kinds(out) == ["Rejected"]
                continue
            oid = live[pick % len(live)]
            out = e.cancel(oid) if kind == "cancel" else e.expire(oid)
            assert kinds(out) == ["Canceled"]
        elif kind == "halt":
            out = e.halt()
        else:
            out = e.resume()
            assert not e.is_crossed()
        ledger.apply(out, snapshot, e)
        e.check_invariant()  # includes: never crossed unless halted
        everything.extend(out)
    out = e.resume()  # whatever a halt collected, the cross leaves the book uncrossed
    ledger.apply(out, priority_snapshot(e), e)
    e.check_invariant()
    everything.extend(out)
    return everything


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_strategy)
def test_random_sequences_keep_every_invariant(ops: list[tuple[Any, ...]]) -> None:
    first = run_ops(ops)
    assert run_ops(ops) == first  # deterministic


def random_ops(seed: int, n: int) -> list[tuple[Any, ...]]:
    """A long op sequence from a seeded RNG (deep books, many fills; hypothesis shrinks only the seed)."""
    rng = random.Random(seed)
    ops: list[tuple[Any, ...]] = []
    for _ in range(n):
        k = rng.random()
        if k < 0.7:
            ops.append((
                "submit", rng.choice(OWNERS), rng.choice([BUY, SELL]),
                rng.choice([LIMIT] * 8 + [MARKET, STOP, STOP_LIMIT]), rng.randint(1, 8), rng.randint(96, 104),
                rng.randint(96, 104), rng.choice([GTC, GTC, GTC, DAY, IOC, FOK]), rng.random() < 0.2,
                rng.choice(STPS), None if rng.random() < 0.8 else rng.randint(0, 8),
            ))
        elif k < 0.82:
            ops.append(("modify", rng.randrange(1000), rng.choice([None, rng.randint(1, 9)]),
                        rng.choice([None, rng.randint(96, 104)]), rng.choice([None, rng.randint(96, 104)])))
        elif k < 0.99:
            ops.append((rng.choice(["cancel", "expire"]), rng.randrange(1000)))
        else:
            ops.append((rng.choice(["halt", "resume"]),))
    return ops


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32))
def test_long_random_sequences_keep_every_invariant(seed: int) -> None:
    run_ops(random_ops(seed, 400))
