"""FIX field values <-> tradeforge types: exact fixed-point prices/quantities and UTC timestamps (no Decimal).

``to_raw(b"187.25", 4) == 1872500``; ``from_raw(1872500, 4) == b"187.25"``. A value with more
significant decimals than the precision raises :class:`FixValueError` (never rounded).
Timestamps are UTC nanoseconds; ``UTCTIMESTAMP`` text is ``YYYYMMDD-HH:MM:SS[.sss[sss[sss]]]``.
"""

from __future__ import annotations

import calendar
import time
from typing import Final

_POW10: Final = [10**i for i in range(19)]
NANOS: Final = 1_000_000_000


class FixValueError(ValueError):
    """A field value is not in the format its type requires."""


def to_raw(value: bytes, precision: int) -> int:
    """Exact decimal text -> raw integer at ``precision`` (FIX PRICE/QTY/AMT/FLOAT)."""
    whole, _, frac = value.partition(b".")
    neg = whole[:1] == b"-"
    try:
        w = int(whole) if whole not in (b"", b"-", b"+") else 0
        if len(frac) > precision:
            extra = frac[precision:]
            if extra.strip(b"0"):
                raise FixValueError(f"{value!r} has more than {precision} decimals")
            frac = frac[:precision]
        f = int(frac) * _POW10[precision - len(frac)] if frac else 0
    except ValueError:
        raise FixValueError(f"{value!r} is not a decimal number") from None
    if not frac.isdigit() and frac:
        raise FixValueError(f"{value!r} is not a decimal number")
    r = w * _POW10[precision]
    return r - f if neg else r + f


def from_raw(raw: int, precision: int) -> bytes:
    """Raw integer -> shortest exact decimal text (``187.25``, ``100``)."""
    if not precision:
        return b"%d" % raw
    whole, frac = divmod(abs(raw), _POW10[precision])
    sign = b"-" if raw < 0 else b""
    if not frac:
        return b"%b%d" % (sign, whole)
    return (b"%b%d.%0*d" % (sign, whole, precision, frac)).rstrip(b"0")


_day_cache: dict[int, bytes] = {}


def format_timestamp(ns: int, digits: int = 3) -> bytes:
    """UTC nanoseconds -> ``YYYYMMDD-HH:MM:SS.sss`` (``digits`` 0, 3, 6 or 9)."""
    secs, sub = divmod(ns, NANOS)
    day, sod = divmod(secs, 86400)
    prefix = _day_cache.get(day)
    if prefix is None:
        prefix = _day_cache[day] = time.strftime("%Y%m%d-", time.gmtime(day * 86400)).encode()
        if len(_day_cache) > 64:
            _day_cache.clear()
            _day_cache[day] = prefix
    h, rem = divmod(sod, 3600)
    m, s = divmod(rem, 60)
    if digits == 0:
        return b"%b%02d:%02d:%02d" % (prefix, h, m, s)
    return b"%b%02d:%02d:%02d.%0*d" % (prefix, h, m, s, digits, sub // _POW10[9 - digits])


def parse_timestamp(value: bytes) -> int:
    """``YYYYMMDD-HH:MM:SS[.fraction]`` (UTC) -> nanoseconds; raises :class:`FixValueError`."""
    if len(value) < 17 or value[8:9] != b"-" or value[11:12] != b":" or value[14:15] != b":":
        raise FixValueError(f"{value!r} is not a UTCTIMESTAMP")
    try:
        y, mo, d = int(value[0:4]), int(value[4:6]), int(value[6:8])
        h, mi, s = int(value[9:11]), int(value[12:14]), int(value[15:17])
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s <= 60):
            raise ValueError
        frac = value[18:]
        if len(value) > 17 and (value[17:18] != b"." or not frac.isdigit() or len(frac) > 9):
            raise ValueError
        sub = int(frac) * _POW10[9 - len(frac)] if frac else 0
        return (calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))) * NANOS + sub
    except (ValueError, OverflowError):
        raise FixValueError(f"{value!r} is not a UTCTIMESTAMP") from None
