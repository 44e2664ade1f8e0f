"""In-process message bus: topic publish/subscribe and request/response, deterministic.

Handlers of a topic run in (priority descending, subscription order) — the same order on every
run. Topic patterns (``data.bars.*``) are resolved to a plain handler list the first time a topic is
published, so publishing is one dict lookup plus a loop over a list. ``handlers(topic)`` hands the
live list itself to hot paths that want to skip even the lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

Handler = Callable[[Any], Any]


class BusError(RuntimeError):
    """A request went to an endpoint nobody registered, or an endpoint was registered twice."""


class MessageBus:
    """Topic pub/sub plus named request/response endpoints."""

    def __init__(self) -> None:
        self._subs: list[tuple[str, int, int, Handler]] = []  # (pattern, -priority, seq, handler)
        self._seq = 0
        self._resolved: dict[str, list[Handler]] = {}
        self._endpoints: dict[str, Handler] = {}
        self.published = 0

    # -- pub/sub --
    def subscribe(self, topic: str, handler: Handler, priority: int = 0) -> None:
        """Subscribe ``handler`` to ``topic`` (``*`` and ``?`` wildcards allowed)."""
        if any(p == topic and h == handler for p, _, _, h in self._subs):
            return
        self._seq += 1
        self._subs.append((topic, -priority, self._seq, handler))
        self._subs.sort(key=lambda s: (s[1], s[2]))
        for resolved_topic, handlers in self._resolved.items():
            handlers[:] = self._match(resolved_topic)  # keep list identity for holders

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        self._subs = [s for s in self._subs if not (s[0] == topic and s[3] == handler)]
        for resolved_topic, handlers in self._resolved.items():
            handlers[:] = self._match(resolved_topic)

    def _match(self, topic: str) -> list[Handler]:
        return [h for p, _, _, h in self._subs if p == topic or fnmatchcase(topic, p)]

    def handlers(self, topic: str) -> list[Handler]:
        """The live handler list of ``topic`` (kept up to date on (un)subscribe)."""
        handlers = self._resolved.get(topic)
        if handlers is None:
            handlers = self._resolved[topic] = self._match(topic)
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
