"""The book-replay venue on small hand-made flows: queue position (L3 exact, L2/L1 estimated),
trades through our price, crossing orders, taking liquidity, latency legs and order types."""

from __future__ import annotations

import pytest

from tradeforge.core.clock import SimulatedClock
from tradeforge.model.enums import LiquiditySide, OrderSide, TimeInForce
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
)
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.model.order_factory import OrderFactory
from tradeforge.venues.latency import ConstantLatency
from tradeforge.venues.queue import RiskAverseQueue
from tradeforge.venues.replay.flow import FlowAction as A
from tradeforge.venues.replay.flow import FlowMessage
from tradeforge.venues.replay.venue import BookReplayVenue, ReplayVenueConfig

IID = "XYZ.SIM"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


class Rig:
    """A venue on a simulated clock; records every report with the clock time it arrived."""

    def __init__(self, fidelity: str = "l3", latency: ConstantLatency | None = None) -> None:
        self.provider = InstrumentProvider([instrument_from_dict(
            {"id": IID, "kind": "equity", "currency": "USD", "tick_size": "1", "lot_size": "1"}, "t")])
        self.clock = SimulatedClock(0)
        self.venue = BookReplayVenue(
            ReplayVenueConfig("SIM", fidelity=fidelity, queue_model=RiskAverseQueue(), latency=latency),
            self.provider.get, self.clock,
        )
        self.reports: list[tuple[int, OrderEvent]] = []
        self.venue.connect(lambda e: self.reports.append((self.clock.timestamp_ns(), e)))
        self.factory = OrderFactory("S", self.provider.get, self.clock.timestamp_ns)
        self.venue.book(IID)
        self._oid = 1000

    def at(self, ts: int) -> None:
        self.clock.advance_to(ts)

    def msg(self, ts: int, action: A, side: int = 0, price: int = 0, size: int = 0, order_id: int = 0,
            new_id: int = 0) -> None:
        self.at(ts)
        self.venue.on_flow(FlowMessage(IID, int(action), side, price, size, order_id, new_id, ts, ts))

    def add(self, ts: int, side: int, price: int, size: int) -> int:
        self._oid += 1
        self.msg(ts, A.ADD, side, price, size, self._oid)
        return self._oid

    def limit(self, side: OrderSide, qty: int, price: int, **kw):
        order = self.factory.limit(IID, side, qty, price, **kw)
        self.venue.submit(order)
        return order

    def fills(self) -> list[tuple[int, int, LiquiditySide]]:
        return [(e.last_qty, e.last_px, e.liquidity_side) for _, e in self.reports if isinstance(e, OrderFilled)]

    def of(self, cls: type) -> list:
        return [e for _, e in self.reports if isinstance(e, cls)]


def test_l3_order_fills_only_after_the_orders_ahead_leave() -> None:
    r = Rig()
    a = r.add(1, 1, 100, 5)
    b = r.add(2, 1, 100, 7)
    r.add(3, -1, 101, 10)
    r.at(4)
    mine = r.limit(BUY, 4, 100)
    assert r.venue.queue_ahead(mine.client_order_id) == 12
    behind = r.add(5, 1, 100, 3)  # joins behind us
    r.msg(6, A.EXECUTE, 1, 100, 5, a)  # the front order trades
    assert r.venue.queue_ahead(mine.client_order_id) == 7 and not r.fills()
    r.msg(7, A.CANCEL, 1, 100, 2, b)  # partial cancel ahead of us
    assert r.venue.queue_ahead(mine.client_order_id) == 5
    r.msg(8, A.DELETE, 1, 100, 5, b)
    assert r.venue.queue_ahead(mine.client_order_id) == 0 and not r.fills()
    r.msg(9, A.EXECUTE, 1, 100, 3, behind)  # an order behind us trades: the aggressor met us first
    assert r.fills() == [(3, 100, LiquiditySide.MAKER)]
    assert r.venue.queue_ahead(mine.client_order_id) == 0


def test_l3_cancels_behind_us_do_not_move_us() -> None:
    r = Rig()
    r.add(1, 1, 100, 5)
    r.at(2)
    mine = r.limit(BUY, 1, 100)
    c = r.add(3, 1, 100, 9)
    r.msg(4, A.DELETE, 1, 100, 9, c)
    assert r.venue.queue_ahead(mine.client_order_id) == 5


def test_trade_through_our_price_fills_us_whatever_is_ahead() -> None:
    r = Rig()
    r.add(1, 1, 100, 50)
    lower = r.add(2, 1, 99, 10)
    r.at(3)
    r.limit(BUY, 4, 100)
    r.msg(4, A.EXECUTE, 1, 99, 10, lower)  # a seller reached 99: the level at 100 (and we) came first
    assert r.fills() == [(4, 100, LiquiditySide.MAKER)]


def test_data_order_crossing_our_resting_order_trades_with_it() -> None:
    r = Rig()
    r.add(1, 1, 100, 5)
    r.add(1, -1, 103, 5)
    r.at(2)
    r.limit(BUY, 10, 102)  # improves the bid: nobody ahead
    r.add(3, -1, 101, 6)  # a sell limit at 101 would have hit our 102 bid
    assert r.fills() == [(6, 102, LiquiditySide.MAKER)]


def test_marketable_limit_takes_displayed_levels_then_rests() -> None:
    r = Rig()
    r.add(1, -1, 101, 3)
    r.add(1, -1, 102, 4)
    r.add(1, -1, 104, 9)
    r.at(2)
    order = r.limit(BUY, 10, 102)
    assert r.fills() == [(3, 101, LiquiditySide.TAKER), (4, 102, LiquiditySide.TAKER)]
    assert r.venue.queue_ahead(order.client_order_id) == 0  # the rest (3) now bids 102 alone


def test_fok_ioc_market_and_post_only() -> None:
    r = Rig()
    r.add(1, -1, 101, 3)
    r.at(2)
    fok = r.limit(BUY, 5, 101, time_in_force=TimeInForce.FOK)
    ioc = r.limit(BUY, 5, 101, time_in_force=TimeInForce.IOC)
    po = r.limit(BUY, 1, 101, post_only=True)
    mkt = r.venue.submit(r.factory.market(IID, BUY, 4))
    assert [e.client_order_id for e in r.of(OrderCanceled)][:2] == [fok.client_order_id, ioc.client_order_id]
    assert r.of(OrderRejected)[0].client_order_id == po.client_order_id
    assert r.fills() == [(3, 101, LiquiditySide.TAKER), (3, 101, LiquiditySide.TAKER)]
    assert r.of(OrderCanceled)[-1].reason == "market order found no more liquidity"
    assert mkt is None


def test_latency_order_meets_the_book_of_its_arrival_and_reports_come_late() -> None:
    lat = ConstantLatency(entry_latency_ns=10, response_latency_ns=5)
    r = Rig(latency=lat)
    r.add(1, -1, 101, 3)
    r.at(2)
    r.limit(BUY, 3, 101)  # decided at 2, arrives at 12
    oid2 = r.add(6, -1, 101, 4)
    r.msg(8, A.DELETE, -1, 101, 3, 1001)  # the liquidity we aimed at is gone before we arrive
    r.at(12)
    assert not r.of(OrderAccepted)  # the ack is on its way
    r.at(17)
    acks = r.reports
    assert [type(e) for _, e in acks] == [OrderAccepted, OrderFilled]
    assert all(t == 17 for t, _ in acks)
    ack, fill = acks[0][1], acks[1][1]
    assert (ack.ts_event, ack.ts_init) == (12, 17)
    assert (fill.last_qty, fill.last_px) == (3, 101)  # from the order added at 6, still there at 12
    assert oid2


def test_cancel_that_arrives_after_the_fill_is_rejected() -> None:
    r = Rig(latency=ConstantLatency(entry_latency_ns=10))
    r.add(1, 1, 100, 1)
    r.at(2)
    order = r.limit(SELL, 2, 100)  # arrives at 12, marketable against the bid
    r.at(12)
    r.venue.cancel(order)
    r.at(30)
    assert r.fills() == [(1, 100, LiquiditySide.TAKER)]
    assert not r.of(OrderCancelRejected)  # the rest (1) was resting: canceled
    assert r.of(OrderCanceled)


def test_stop_triggers_on_a_print_and_enters_as_market() -> None:
    r = Rig()
    r.add(1, -1, 105, 10)
    r.add(1, 1, 100, 10)
    r.at(2)
    stop = r.factory.stop_market(IID, BUY, 2, 103)
    r.venue.submit(stop)
    r.msg(3, A.TRADE, -1, 102, 1)
    assert not r.of(OrderTriggered)
    r.msg(4, A.TRADE, -1, 103, 1)
    assert r.of(OrderTriggered) and r.fills() == [(2, 105, LiquiditySide.TAKER)]


def test_l2_queue_model_and_l3_differ_on_the_same_events() -> None:
    # at L2 a cancel is not attributable: the risk-averse model assumes it came from behind us
    r = Rig("l2")
    r.msg(1, A.LEVEL, 1, 100, 10)
    r.at(2)
    mine = r.limit(BUY, 2, 100)
    r.msg(3, A.LEVEL, 1, 100, 6)  # 4 canceled somewhere
    assert r.venue.queue_ahead(mine.client_order_id) == 6  # capped by the level, not moved
    r.msg(4, A.TRADE, 1, 100, 7)  # 6 ahead, then one of ours
    assert r.fills() == [(1, 100, LiquiditySide.MAKER)]


def test_l1_behind_the_touch_is_sized_when_it_becomes_the_touch() -> None:
    r = Rig("l1")
    r.msg(1, A.TOP, 1, 101, 5)
    r.msg(1, A.TOP, -1, 102, 5)
    r.at(2)
    mine = r.limit(BUY, 1, 100)
    r.msg(3, A.TRADE, 1, 101, 5)
    r.msg(3, A.TOP, 1, 100, 8)  # the touch falls back to our level: 8 ahead (risk-averse)
    assert r.venue.queue_ahead(mine.client_order_id) == 8
    r.msg(4, A.TRADE, 1, 100, 9)
    assert r.fills() == [(1, 100, LiquiditySide.MAKER)]


def test_reveal_adds_unattributed_size_ahead_and_unknown_ids_consume_it() -> None:
    r = Rig()
    r.add(1, 1, 100, 4)
    r.at(2)
    mine = r.limit(BUY, 1, 100)
    r.msg(3, A.REVEAL, 1, 100, 10)  # the source shows 10: 6 older, unattributed, in front
    assert r.venue.queue_ahead(mine.client_order_id) == 10
    r.msg(4, A.EXECUTE, 1, 100, 6, 99999)  # an order the data never added
    assert r.venue.queue_ahead(mine.client_order_id) == 4
    assert r.venue.books[IID].unexplained == 0


def test_modify_smaller_keeps_place_larger_goes_to_the_back() -> None:
    r = Rig()
    r.add(1, 1, 100, 5)
    r.at(2)
    mine = r.limit(BUY, 4, 100)
    r.add(3, 1, 100, 6)
    r.venue.modify(mine, 3, None, None)
    assert r.venue.queue_ahead(mine.client_order_id) == 5
    r.venue.modify(mine, 8, None, None)
    assert r.venue.queue_ahead(mine.client_order_id) == 11


@pytest.mark.parametrize("fidelity", ["l3", "l2", "l1"])
def test_down_window_and_unsupported_types_are_rejected(fidelity: str) -> None:
    r = Rig(fidelity)
    r.venue.config.down = ((5, 10),)
    r.at(6)
    r.limit(BUY, 1, 100)
    r.at(11)
    r.venue.submit(r.factory.market_if_touched(IID, BUY, 1, 99))
    reasons = [e.reason for e in r.of(OrderRejected)]
    assert reasons[0] == "venue is down" and "not supported" in reasons[1]


def test_synthetic_flow_is_consistent_and_never_crossed() -> None:
    from tradeforge.venues.replay.market_view import derive
    from tradeforge.venues.replay.synthetic import synthetic_flow

    flow = synthetic_flow(5_000, seed=3)
    assert len(flow) == 5_000 and flow.count(A.EXECUTE) > 0
    d = derive(flow)
    both = (d.quotes.bid_size > 0) & (d.quotes.ask_size > 0)
    assert d.unexplained == 0
    assert (d.quotes.bid[both] < d.quotes.ask[both]).all()
    again = synthetic_flow(5_000, seed=3)
    assert (again.order_id == flow.order_id).all() and (again.ts_event == flow.ts_event).all()


def test_mbo_fills_move_the_queue_before_their_book_updates() -> None:
    # Databento MBO: an aggressor's fills come first (F F), the resting orders' updates after (C C)
    r = Rig()
    a = r.add(1, 1, 100, 5)
    r.at(2)
    mine = r.limit(BUY, 3, 100)
    behind = r.add(3, 1, 100, 4)
    r.msg(4, A.FILL, 1, 100, 5, a)  # the order ahead of us trades in full ...
    assert r.venue.queue_ahead(mine.client_order_id) == 0
    r.msg(4, A.FILL, 1, 100, 2, behind)  # ... then the aggressor reaches the order behind us: we came first
    assert r.fills() == [(2, 100, LiquiditySide.MAKER)]
    r.msg(4, A.CANCEL, 1, 100, 5, a)  # the book updates follow and do not move us again
    r.msg(4, A.CANCEL, 1, 100, 2, behind)
    assert r.venue.queue_ahead(mine.client_order_id) == 0
    assert r.venue.books[IID].level(1, 100).size == 2


def test_gtd_and_day_orders_expire_on_the_replay_venue() -> None:
    from tradeforge.model.calendar import nyse_calendar
    from tradeforge.model.events import OrderExpired
    from tradeforge.model.timeutil import parse_timestamp_ns

    r = Rig()
    r.venue.config.calendar = nyse_calendar()
    t0 = parse_timestamp_ns("2024-01-02T15:00:00")  # 10:00 New York
    r.add(t0, 1, 100, 5)
    r.at(t0 + 1)
    gtd = r.limit(BUY, 1, 100, time_in_force=TimeInForce.GTD, expire_time_ns=t0 + 10**9)
    day = r.limit(BUY, 1, 100, time_in_force=TimeInForce.DAY)
    r.at(t0 + 2 * 10**9)
    assert [e.client_order_id for e in r.of(OrderExpired)] == [gtd.client_order_id]
    close = parse_timestamp_ns("2024-01-02T21:00:00")  # 16:00 New York
    r.at(close - 1)
    assert len(r.of(OrderExpired)) == 1
    r.at(close)
    expired = r.of(OrderExpired)
    assert [e.client_order_id for e in expired] == [gtd.client_order_id, day.client_order_id]
    assert expired[1].ts_event == close and r.venue.queue_ahead(day.client_order_id) is None


def test_requests_reach_the_exchange_in_the_order_they_were_sent() -> None:
    from tradeforge.venues.latency import DistributionLatency, LatencyDistribution

    lat = DistributionLatency(entry=LatencyDistribution.uniform(1, 1_000), seed=3)
    r = Rig()
    r.venue.latency = lat
    r.add(1, 1, 100, 5)
    r.at(10)
    orders = [r.limit(BUY, 1, 100 - i) for i in range(20)]
    r.venue.cancel(orders[0])  # sent last: must not overtake the submits
    r.at(10_000)
    accepted = [e.client_order_id for e in r.of(OrderAccepted)]
    assert accepted == [o.client_order_id for o in orders]
    assert r.of(OrderCanceled)[0].client_order_id == orders[0].client_order_id
    assert not r.of(OrderCancelRejected)
