"""Field access and derived events shared by the CEP operators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradeforge.model.data import CustomData

Getter = Callable[[Any], Any]
FieldSpec = str | Getter | None
_MISSING = object()


def getter(spec: FieldSpec) -> Getter:
    """A callable reading ``spec`` from an event: a callable as is; a name reads the attribute of a
    data struct or, for a derived event (``CustomData``), the payload entry; ``None`` gives ``""``."""
    if spec is None:
        return _empty
    if callable(spec):
        return spec
    name = spec

    def get(ev: Any) -> Any:
        v = getattr(ev, name, _MISSING)
        return ev.payload[name] if v is _MISSING else v

    return get


def _empty(ev: Any) -> str:
    return ""


def derived(name: str, key: Any, payload: dict[str, Any], ts_event: int, ts_init: int) -> CustomData:
    """A derived event: ``CustomData`` with ``data_type = name`` and the key as ``instrument_id``."""
    return CustomData(name, payload, ts_event, ts_init, key if isinstance(key, str) else str(key))
