"""The price path inside a bar: an explicit assumption, and a test of whether a fill depended on it.

A bar gives four prices and no order between the high and the low. Filling resting orders against
it needs a path; tradeforge makes the assumption explicit:

- ``"ohlc"``: open → high → low → close;
- ``"olhc"``: open → low → high → close;
- ``"nearest"``: visit first the extreme nearer to the open (``high - open <= open - low`` → high
  first; a tie goes to the high), then the other, then the close. The usual default: a bar that
  opened near its high probably went there first.

Between those points the price moves in straight lines, visiting every price in between (the path
has no gaps inside a bar; a gap at the open is the bar's open itself). All prices are raw ints.

A fill is **ambiguous** — it depended on the assumption — when the two orderings ``ohlc`` and
``olhc`` give it a different outcome: it fills under one and not the other, fills at a different
price, or, for several orders (an OCO bracket, a stop-loss and a take-profit), a different one fills
first. The classic case: a level hit on the way up and a level hit on the way down both lie inside
the bar's range and neither is reached at the open. A lone limit or stop is never ambiguous (whether
it is reached depends only on the range); a stop-limit whose limit lies beyond the trigger's retrace
can be. ``OrderFilled.ambiguous`` carries the flag.

Fill rules on a path (those of ``SimulatedVenue`` on bars; slippage and size are the venue's):

- limit buy at ``p``: at the open if ``open <= p``; else at ``p`` once the price goes below ``p``
  (``limit_fill="through"``) or reaches it (``"touch"``). Sell: mirrored.
- stop buy at trigger ``s``: at the open if ``open >= s`` (a gap); else at ``s`` when the price
  reaches ``s``. Sell: mirrored. Market-if-touched: the same with the directions swapped.
- stop-limit: triggers as a stop; fills at once at the trigger level (or the open on a gap) if the
  limit allows, otherwise it rests from that moment as a limit at ``p`` for the rest of the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PATH_MODES = ("ohlc", "olhc", "nearest")
ORDER_KINDS = ("limit", "stop", "stop_limit", "mit")


def resolve_mode(open_: int, high: int, low: int, mode: str) -> str:
    """``"ohlc"`` or ``"olhc"``: what ``mode`` means for this bar."""
    if mode == "nearest":
        return "ohlc" if high - open_ <= open_ - low else "olhc"
    if mode not in PATH_MODES:
        raise ValueError(f"bar path mode must be one of {PATH_MODES}, got {mode!r}")
    return mode


def bar_path(open_: int, high: int, low: int, close: int, mode: str = "nearest") -> tuple[int, ...]:
    """The ordered prices visited inside the bar (consecutive repeats dropped)."""
    if not (low <= open_ <= high and low <= close <= high):
        raise ValueError(f"inconsistent bar: open {open_} high {high} low {low} close {close}")
    mid = (high, low) if resolve_mode(open_, high, low, mode) == "ohlc" else (low, high)
    path = [open_]
    for p in (*mid, close):
        if p != path[-1]:
            path.append(p)
    return tuple(path)


@dataclass(frozen=True, slots=True)
class PathOrder:
    """A resting order as the path sees it: ``side`` +1 buy / -1 sell; ``kind`` one of
    ``ORDER_KINDS``; ``price`` the limit price (limit, stop_limit); ``trigger`` the trigger price
    (stop, stop_limit, mit)."""

    side: int
    kind: str
    price: int | None = None
    trigger: int | None = None

    def __post_init__(self) -> None:
        if self.side not in (1, -1):
            raise ValueError("side must be +1 (buy) or -1 (sell)")
        if self.kind not in ORDER_KINDS:
            raise ValueError(f"kind must be one of {ORDER_KINDS}, got {self.kind!r}")
        if self.kind in ("limit", "stop_limit") and self.price is None:
            raise ValueError(f"a {self.kind} order needs a price")
        if self.kind in ("stop", "stop_limit", "mit") and self.trigger is None:
            raise ValueError(f"a {self.kind} order needs a trigger")


@dataclass(frozen=True, slots=True)
class PathFill:
    """Where on the path an order fills: ``price`` raw, ``at`` the position along the path (leg index
    plus the fraction of that leg; 0 = at the open). ``at`` orders fills in time on one path."""

    price: int
    at: float


def _price_at(path: Sequence[int], t: float) -> float:
    i = min(int(t), len(path) - 1)
    if i == len(path) - 1:
        return float(path[-1])
    return path[i] + (t - i) * (path[i + 1] - path[i])


def _first_reach(path: Sequence[int], t0: float, level: int, direction: int, strict: bool) -> float | None:
    """First position ``t >= t0`` where the price is at or beyond ``level`` in ``direction``
    (+1: ``>= level``, or ``>`` if ``strict``; -1: ``<=`` / ``<``)."""

    def ok(x: float) -> bool:
        d = (x - level) * direction
        return d > 0 if strict else d >= 0

    if ok(_price_at(path, t0)):
        return t0
    for i in range(int(t0), len(path) - 1):
        a, b = path[i], path[i + 1]
        if ok(b):
            # the segment crosses ``level`` (it starts on the other side of it)
            s = (level - a) / (b - a)
            return max(i + s, t0)
    return None


def fill_on_path(path: Sequence[int], order: PathOrder, limit_fill: str = "through") -> PathFill | None:
    """Where ``order`` fills on ``path`` (from ``bar_path``), or ``None`` if it does not."""
    if limit_fill not in ("through", "touch"):
        raise ValueError("limit_fill must be 'through' or 'touch'")
    strict = limit_fill == "through"
    open_ = path[0]
    side = order.side
    if order.kind == "limit":
        return _limit(path, 0.0, side, order.price, strict)  # type: ignore[arg-type]
    trig = order.trigger
    assert trig is not None
    if order.kind == "mit":  # a buy MIT triggers when the price falls to the trigger
        if (open_ - trig) * side <= 0:
            return PathFill(open_, 0.0)
        t = _first_reach(path, 0.0, trig, -side, strict=False)
        return None if t is None else PathFill(trig, t)
    # stops: a buy stop triggers when the price rises to the trigger
    if (open_ - trig) * side >= 0:
        level, t_trig = open_, 0.0
    else:
        t = _first_reach(path, 0.0, trig, side, strict=False)
        if t is None:
            return None
        level, t_trig = trig, t
    if order.kind == "stop":
        return PathFill(level, t_trig)
    px = order.price
    assert px is not None
    if (level - px) * side <= 0:  # the limit allows the trigger level
        return PathFill(level, t_trig)
    return _limit(path, t_trig, side, px, strict, at_open=False)


def _limit(path: Sequence[int], t0: float, side: int, px: int, strict: bool, at_open: bool = True) -> PathFill | None:
    if at_open and (path[0] - px) * side <= 0:
        return PathFill(path[0], 0.0)
    t = _first_reach(path, t0, px, -side, strict)
    return None if t is None else PathFill(px, t)


def first_filled(path: Sequence[int], orders: Sequence[PathOrder], limit_fill: str = "through") -> int | None:
    """Index of the order that fills first on ``path`` (an OCO group fills only that one); ``None``
    when none fills; on a tie, the earlier index (priority order)."""
    best: tuple[float, int] | None = None
    for i, order in enumerate(orders):
        f = fill_on_path(path, order, limit_fill)
        if f is not None and (best is None or f.at < best[0]):
            best = (f.at, i)
    return None if best is None else best[1]


def fill_is_ambiguous(
    open_: int,
    high: int,
    low: int,
    close: int,
    orders: PathOrder | Sequence[PathOrder],
    limit_fill: str = "through",
) -> bool:
    """Whether the fills of ``orders`` on this bar depend on the intra-bar path assumption.

    True when, between ``ohlc`` and ``olhc``, any order fills under one and not the other or at a
    different price, or (several orders) two orders that both fill change which fills first.
    """
    group = [orders] if isinstance(orders, PathOrder) else list(orders)
    pa = bar_path(open_, high, low, close, "ohlc")
    pb = bar_path(open_, high, low, close, "olhc")
    fa = [fill_on_path(pa, o, limit_fill) for o in group]
    fb = [fill_on_path(pb, o, limit_fill) for o in group]
    for x, y in zip(fa, fb, strict=True):
        if (x is None) != (y is None) or (x is not None and y is not None and x.price != y.price):
            return True
    filled = [i for i, x in enumerate(fa) if x is not None]
    for k, i in enumerate(filled):
        for j in filled[k + 1 :]:
            da = fa[i].at - fa[j].at  # type: ignore[union-attr]
            db = fb[i].at - fb[j].at  # type: ignore[union-attr]
            if (da > 0) - (da < 0) != (db > 0) - (db < 0):
                return True
    return False
