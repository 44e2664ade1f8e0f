"""Intra-bar path assumption and the ambiguity flag on hand-made bars."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.venues.bar_path import (
    PathFill,
    PathOrder,
    bar_path,
    fill_is_ambiguous,
    fill_on_path,
    first_filled,
    resolve_mode,
)

BUY, SELL = 1, -1
BAR = (100, 110, 95, 105)  # open nearer the low


def test_paths() -> None:
    assert bar_path(*BAR, mode="ohlc") == (100, 110, 95, 105)
    assert bar_path(*BAR, mode="olhc") == (100, 95, 110, 105)
    assert bar_path(*BAR, mode="nearest") == (100, 95, 110, 105)
    assert bar_path(100, 104, 90, 95, mode="nearest") == (100, 104, 90, 95)  # high nearer
    assert resolve_mode(100, 105, 95, "nearest") == "ohlc"  # a tie goes to the high
    assert bar_path(100, 100, 90, 95, "ohlc") == (100, 90, 95)  # repeats dropped
    assert bar_path(100, 100, 100, 100) == (100,)
    with pytest.raises(ValueError):
        bar_path(100, 99, 95, 97)  # open above the high
    with pytest.raises(ValueError):
        bar_path(*BAR, mode="random")


def test_fill_rules_on_a_path() -> None:
    p = bar_path(*BAR, mode="ohlc")  # 100 -> 110 -> 95 -> 105
    assert fill_on_path(p, PathOrder(SELL, "limit", price=108)) == PathFill(108, 0.8)
    assert fill_on_path(p, PathOrder(SELL, "limit", price=110)) is None  # the high only touches it
    assert fill_on_path(p, PathOrder(SELL, "limit", price=110), limit_fill="touch") == PathFill(110, 1.0)
    assert fill_on_path(p, PathOrder(BUY, "limit", price=101)) == PathFill(100, 0.0)  # marketable at the open
    assert fill_on_path(p, PathOrder(BUY, "limit", price=97)) == PathFill(97, pytest.approx(1 + 13 / 15))
    assert fill_on_path(p, PathOrder(SELL, "stop", trigger=97)) == PathFill(97, pytest.approx(1 + 13 / 15))
    assert fill_on_path(p, PathOrder(SELL, "stop", trigger=101)) == PathFill(100, 0.0)  # gapped through
    assert fill_on_path(p, PathOrder(BUY, "stop", trigger=111)) is None
    assert fill_on_path(p, PathOrder(BUY, "mit", trigger=96)) == PathFill(96, pytest.approx(1 + 14 / 15))
    assert fill_on_path(p, PathOrder(SELL, "mit", trigger=99)) == PathFill(100, 0.0)
    with pytest.raises(ValueError):
        PathOrder(BUY, "limit")
    with pytest.raises(ValueError):
        PathOrder(0, "stop", trigger=1)


def test_bracket_inside_the_bar_is_ambiguous() -> None:
    """Long from below: take-profit sell limit 108 and stop-loss sell stop 97, both inside the bar."""
    bracket = [PathOrder(SELL, "limit", price=108), PathOrder(SELL, "stop", trigger=97)]
    assert fill_is_ambiguous(*BAR, bracket)
    assert first_filled(bar_path(*BAR, mode="ohlc"), bracket) == 0  # take-profit first
    assert first_filled(bar_path(*BAR, mode="olhc"), bracket) == 1  # stop-loss first
    # stop below the low: only the take-profit can fill, whatever the path
    assert not fill_is_ambiguous(*BAR, [PathOrder(SELL, "limit", price=108), PathOrder(SELL, "stop", trigger=94)])
    # the bar opens through the stop: it fills at the open, first on either path
    gap = [PathOrder(SELL, "limit", price=108), PathOrder(SELL, "stop", trigger=101)]
    assert not fill_is_ambiguous(*BAR, gap)
    # market making: a bid and an offer both inside the range; which fills first depends on the path
    assert fill_is_ambiguous(*BAR, [PathOrder(BUY, "limit", price=97), PathOrder(SELL, "limit", price=108)])
    # two levels on the way up always come in price order
    assert not fill_is_ambiguous(*BAR, [PathOrder(SELL, "limit", price=105), PathOrder(BUY, "stop", trigger=107)])
    # a bar that opens at its high has one way down: still two orderings, since the high may be revisited
    assert not fill_is_ambiguous(100, 100, 90, 95, [PathOrder(BUY, "limit", price=97), PathOrder(SELL, "stop", trigger=93)])


def test_stop_limit_fill_depends_on_the_path() -> None:
    # buy stop 105 with limit 102: after the trigger it rests as a limit at 102
    sl = PathOrder(BUY, "stop_limit", price=102, trigger=105)
    bar = (100, 110, 95, 104)
    assert fill_on_path(bar_path(*bar, mode="ohlc"), sl) == PathFill(102, pytest.approx(1 + 8 / 15))
    assert fill_on_path(bar_path(*bar, mode="olhc"), sl) is None  # 95 came before the trigger
    assert fill_is_ambiguous(*bar, sl)
    # a limit at or above the trigger fills at the trigger on either path
    assert not fill_is_ambiguous(*bar, PathOrder(BUY, "stop_limit", price=106, trigger=105))


def _bars():
    return st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200), st.integers(0, 200)).map(
        lambda t: (t[0], max(t), min(t), t[3])
    )


_simple = st.builds(
    PathOrder,
    side=st.sampled_from([BUY, SELL]),
    kind=st.sampled_from(["limit", "stop", "mit"]),
    price=st.integers(0, 200),
    trigger=st.integers(0, 200),
)


@settings(max_examples=300, deadline=None)
@given(bar=_bars(), order=_simple, touch=st.booleans())
def test_a_lone_limit_stop_or_mit_is_never_ambiguous(bar, order, touch) -> None:
    mode = "touch" if touch else "through"
    assert not fill_is_ambiguous(*bar, order, limit_fill=mode)
    f = fill_on_path(bar_path(*bar), order, mode)
    if f is not None:
        assert bar[2] <= f.price <= bar[1]
        assert f.at >= 0.0


@settings(max_examples=300, deadline=None)
@given(bar=_bars(), up=st.integers(0, 200), down=st.integers(0, 200))
def test_one_up_level_and_one_down_level_ambiguous_iff_both_strictly_inside(bar, up, down) -> None:
    """A sell limit (hit going up) and a sell stop (hit going down): ambiguous exactly when both are
    reached and neither at the open."""
    o, h, lo, _ = bar
    orders = [PathOrder(SELL, "limit", price=up), PathOrder(SELL, "stop", trigger=down)]
    up_inside = o < up < h  # "through": the high must exceed the limit
    down_inside = lo <= down < o
    assert fill_is_ambiguous(*bar, orders) == (up_inside and down_inside)
    assert bar_path(*bar, mode="nearest") in (bar_path(*bar, mode="ohlc"), bar_path(*bar, mode="olhc"))
