"""MessageBus: deterministic handler order, wildcards, live handler lists, request/response."""

from __future__ import annotations

from typing import Any

import pytest

from tradeforge.core.bus import BusError, MessageBus


def recorder(log: list[tuple[str, Any]], name: str):
    def handler(msg: Any) -> None:
        log.append((name, msg))

    handler.__name__ = name
    return handler


def test_priority_then_subscription_order() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    bus.subscribe("t", recorder(log, "a0"))
    bus.subscribe("t", recorder(log, "b5"), priority=5)
    bus.subscribe("t", recorder(log, "c0"))
    bus.subscribe("t", recorder(log, "d5"), priority=5)
    bus.subscribe("t", recorder(log, "e-1"), priority=-1)
    bus.subscribe("t", recorder(log, "f10"), priority=10)
    bus.publish("t", 1)
    assert [n for n, _ in log] == ["f10", "b5", "d5", "a0", "c0", "e-1"]
    assert all(m == 1 for _, m in log)


def test_order_is_the_same_on_every_publish_and_every_bus() -> None:
    def build() -> list[str]:
        bus = MessageBus()
        log: list[tuple[str, Any]] = []
        for i, prio in enumerate([3, 1, 3, 2, 1, 0, 2]):
            bus.subscribe("x", recorder(log, f"h{i}"), priority=prio)
        bus.publish("x", None)
        bus.publish("x", None)
        return [n for n, _ in log]

    first = build()
    assert first[:7] == first[7:]
    assert first[:7] == ["h0", "h2", "h3", "h6", "h1", "h4", "h5"]
    assert build() == first


def test_wildcard_topics() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    bus.subscribe("data.bars.*", recorder(log, "bars"))
    bus.subscribe("data.*", recorder(log, "data"), priority=1)
    bus.subscribe("data.bars.AAPL.XNAS", recorder(log, "exact"))
    bus.subscribe("data.quotes.???", recorder(log, "q3"))
    bus.publish("data.bars.AAPL.XNAS", "bar")
    assert [n for n, _ in log] == ["data", "bars", "exact"]
    log.clear()
    bus.publish("data.bars.MSFT.XNAS", "bar2")
    assert [n for n, _ in log] == ["data", "bars"]
    log.clear()
    bus.publish("data.quotes.EUR", "q")
    assert [n for n, _ in log] == ["data", "q3"]
    log.clear()
    bus.publish("data.quotes.EURUSD", "q")
    assert [n for n, _ in log] == ["data"]
    log.clear()
    bus.publish("orders.filled", "f")
    assert log == []


def test_wildcard_subscribed_after_topic_resolved() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    bus.publish("events.order.S-1", 0)  # resolves the topic with no handlers
    bus.subscribe("events.order.*", recorder(log, "late"))
    bus.publish("events.order.S-1", 1)
    assert log == [("late", 1)]


def test_handlers_list_stays_live() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    a, b, c = recorder(log, "a"), recorder(log, "b"), recorder(log, "c")
    bus.subscribe("t", a)
    live = bus.handlers("t")
    assert live == [a]
    bus.subscribe("t", b, priority=1)
    bus.subscribe("t*", c)
    assert bus.handlers("t") is live
    assert live == [b, a, c]
    bus.unsubscribe("t", a)
    assert bus.handlers("t") is live
    assert live == [b, c]
    bus.unsubscribe("t*", c)
    bus.unsubscribe("t", b)
    assert live == []
    bus.subscribe("t", a)
    assert live == [a]
    for h in live:  # what a hot path does with the list
        h("direct")
    assert log == [("a", "direct")]


def test_unsubscribe_unknown_is_harmless_and_other_topics_untouched() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    a = recorder(log, "a")
    bus.subscribe("x", a)
    bus.unsubscribe("y", a)
    bus.unsubscribe("x", recorder(log, "other"))
    bus.publish("x", 1)
    assert log == [("a", 1)]


def test_duplicate_subscribe_ignored() -> None:
    bus = MessageBus()
    log: list[tuple[str, Any]] = []
    a = recorder(log, "a")
    bus.subscribe("t", a)
    bus.subscribe("t", a)
    bus.subscribe("t", a, priority=9)  # still a duplicate: the first subscription stands
    b = recorder(log, "b")
    bus.subscribe("t", b, priority=1)
    bus.publish("t", 1)
    assert log == [("b", 1), ("a", 1)]
    assert bus.handlers("t") == [b, a]


def test_duplicate_bound_method_ignored() -> None:
    class Strategy:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def on_bar(self, bar: Any) -> None:
            self.seen.append(bar)

    s = Strategy()
    bus = MessageBus()
    bus.subscribe("bars", s.on_bar)
    bus.subscribe("bars", s.on_bar)  # a new bound-method object, equal to the first
    bus.publish("bars", "b1")
    assert s.seen == ["b1"]
    bus.unsubscribe("bars", s.on_bar)
    bus.publish("bars", "b2")
    assert s.seen == ["b1"]


def test_published_messages_reach_handlers_unchanged() -> None:
    bus = MessageBus()
    got: list[Any] = []
    bus.subscribe("t", got.append)
    msg = {"k": [1, 2]}
    bus.publish("t", msg)
    assert got == [msg] and got[0] is msg


def test_request_response() -> None:
    bus = MessageBus()
    calls: list[Any] = []

    def endpoint(msg: Any) -> Any:
        calls.append(msg)
        return msg * 2

    assert not bus.has_endpoint("risk.check")
    bus.register_endpoint("risk.check", endpoint)
    assert bus.has_endpoint("risk.check")
    assert bus.request("risk.check", 21) == 42
    assert bus.request("risk.check", "ab") == "abab"
    assert calls == [21, "ab"]


def test_unknown_endpoint_raises() -> None:
    bus = MessageBus()
    with pytest.raises(BusError, match=r"no endpoint registered for 'cache\.get'"):
        bus.request("cache.get", None)


def test_duplicate_endpoint_raises_and_keeps_first() -> None:
    bus = MessageBus()
    bus.register_endpoint("e", lambda m: "first")
    with pytest.raises(BusError, match="'e' is already registered"):
        bus.register_endpoint("e", lambda m: "second")
    assert bus.request("e", None) == "first"


def test_endpoints_and_topics_are_separate() -> None:
    bus = MessageBus()
    got: list[Any] = []
    bus.subscribe("e", got.append)
    with pytest.raises(BusError):
        bus.request("e", 1)
    bus.register_endpoint("e", lambda m: m + 1)
    bus.publish("e", 5)
    assert got == [5]
    assert bus.request("e", 5) == 6
