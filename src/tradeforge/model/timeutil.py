"""Nanosecond UTC timestamps (plain ``int``), and conversions for configs and output only."""

from __future__ import annotations

from datetime import UTC, datetime

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND


def parse_timestamp_ns(text: str) -> int:
    """Parse an ISO-8601 date or datetime (naive means UTC) into UNIX nanoseconds."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date or datetime") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND + delta.microseconds * 1_000


def format_timestamp_ns(ts_ns: int) -> str:
    """ISO-8601 UTC text with nanoseconds, e.g. ``2024-01-02T14:30:00.000000000Z``."""
    secs, nanos = divmod(ts_ns, NANOS_PER_SECOND)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
