"""In-process message bus: topic publish/subscribe and request/response, deterministic.

Handlers of a topic run in (priority descending, subscription order) — the same order on every
run. Topic patterns (``data.bars.*``) are resolved to a plain handler list the first time a topic is
published, so publishing is one dict lookup plus a loop over a list. ``handlers(topic)`` hands the
live list itself to hot paths that want to skip even the lookup. Subscribing updates only the
resolved topics the new pattern matches (one dict lookup for an exact topic), so wiring thousands
of instruments stays linear.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

Handler = Callable[[Any], Any]
_WILDCARDS = frozenset("*?[")


class BusError(RuntimeError):
    """A request went to an endpoint nobody registered, or an endpoint was registered twice."""


def _is_pattern(topic: str) -> bool:
    return not _WILDCARDS.isdisjoint(topic)


class MessageBus:
    """Topic pub/sub plus named request/response endpoints."""

    def __init__(self) -> None:
        self._subs: dict[tuple[str, Handler], tuple[int, int]] = {}  # (topic or pattern, handler) -> sort key
        self._exact: dict[str, dict[Handler, tuple[int, int]]] = {}  # exact topic -> handler -> key
        self._patterns: dict[tuple[str, Handler], tuple[int, int]] = {}  # wildcard subscriptions only
        self._seq = 0
        self._resolved: dict[str, list[Handler]] = {}
        self._keys: dict[str, list[tuple[int, int]]] = {}  # sort keys aligned with _resolved lists
        self._endpoints: dict[str, Handler] = {}

    # -- pub/sub --
    def subscribe(self, topic: str, handler: Handler, priority: int = 0) -> None:
        """Subscribe ``handler`` to ``topic`` (``*`` and ``?`` wildcards allowed); repeats are ignored."""
        if (topic, handler) in self._subs:
            return
        self._seq += 1
        key = (-priority, self._seq)
        self._subs[(topic, handler)] = key
        if _is_pattern(topic):
            self._patterns[(topic, handler)] = key
        else:
            self._exact.setdefault(topic, {})[handler] = key
        for resolved in self._affected(topic):
            keys = self._keys[resolved]
            handlers = self._resolved[resolved]
            insort(keys, key)
            handlers.insert(keys.index(key), handler)  # in place: holders keep the same list

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        key = self._subs.pop((topic, handler), None)
        if key is None:
            return
        if _is_pattern(topic):
            del self._patterns[(topic, handler)]
        else:
            del self._exact[topic][handler]
        for resolved in self._affected(topic):
            keys = self._keys[resolved]
            i = keys.index(key)
            del keys[i]
            del self._resolved[resolved][i]

    def _affected(self, pattern: str) -> list[str]:
        if not _is_pattern(pattern):
            return [pattern] if pattern in self._resolved else []
        return [t for t in self._resolved if fnmatchcase(t, pattern)]

    def handlers(self, topic: str) -> list[Handler]:
        """The live handler list of ``topic`` (kept up to date on (un)subscribe)."""
        handlers = self._resolved.get(topic)
        if handlers is None:
            matched = sorted(
                [(key, handler) for handler, key in self._exact.get(topic, {}).items()]
                + [(key, handler) for (pattern, handler), key in self._patterns.items() if fnmatchcase(topic, pattern)]
            )
            self._keys[topic] = [k for k, _ in matched]
            handlers = self._resolved[topic] = [h for _, h in matched]
        return handlers

    def publish(self, topic: str, message: Any) -> None:
        handlers = self._resolved.get(topic)
        if handlers is None:
            handlers = self.handlers(topic)
        for handler in handlers:
            handler(message)

    # -- request/response --
    def register_endpoint(self, name: str, handler: Handler) -> None:
        if name in self._endpoints:
            raise BusError(f"endpoint {name!r} is already registered")
        self._endpoints[name] = handler

    def request(self, name: str, message: Any) -> Any:
        """Call the endpoint ``name`` synchronously and return its response."""
        try:
            handler = self._endpoints[name]
        except KeyError:
            raise BusError(f"no endpoint registered for {name!r}") from None
        return handler(message)

    def has_endpoint(self, name: str) -> bool:
        return name in self._endpoints
