"""Dictionary validation of a decoded message: the session-level Reject (35=3) it deserves, if any.

:meth:`Validator.validate` walks the fields once: header first, then body, then trailer; every tag
known, with a value, in its type's format and (for enumerated fields) one of its values; no tag
twice outside repeating groups; group entries starting with the delimiter, members in place and the
NumInGroup count right; required fields of header, body and each group entry present. The first
problem found becomes a :class:`SessionReject` with the FIX SessionRejectReason (373).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tradeforge.fix.codec import FixMessage
from tradeforge.fix.dictionary import DataDictionary, FieldDef, GroupDef

# SessionRejectReason (373)
INVALID_TAG_NUMBER: Final = 0
REQUIRED_TAG_MISSING: Final = 1
TAG_NOT_DEFINED_FOR_MESSAGE: Final = 2
UNDEFINED_TAG: Final = 3
TAG_WITHOUT_VALUE: Final = 4
VALUE_INCORRECT: Final = 5
INCORRECT_DATA_FORMAT: Final = 6
COMPID_PROBLEM: Final = 9
SENDING_TIME_ACCURACY: Final = 10
INVALID_MSGTYPE: Final = 11
TAG_APPEARS_MORE_THAN_ONCE: Final = 13
TAG_OUT_OF_ORDER: Final = 14
GROUP_FIELDS_OUT_OF_ORDER: Final = 15
INCORRECT_NUM_IN_GROUP: Final = 16
OTHER: Final = 99

# BusinessRejectReason (380)
BR_OTHER: Final = 0
BR_UNKNOWN_ID: Final = 1
BR_UNKNOWN_SECURITY: Final = 2
BR_UNSUPPORTED_MESSAGE_TYPE: Final = 3
BR_APPLICATION_NOT_AVAILABLE: Final = 4
BR_CONDITIONALLY_REQUIRED_FIELD_MISSING: Final = 5

_INT = re.compile(rb"-?\d+")
_UINT = re.compile(rb"\d+")
_FLOAT = re.compile(rb"-?(?:\d+\.?\d*|\.\d+)")
_TS = re.compile(rb"\d{8}-\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?")
_TIME = re.compile(rb"\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?")
_DATE = re.compile(rb"\d{8}")
_MONTHYEAR = re.compile(rb"\d{6}(?:\d{2}|w\d)?")
_BOOL = re.compile(rb"[YN]")
_CHAR = re.compile(rb"[^\x01]", re.S)
_FORMATS: Final = {
    "INT": _INT, "LENGTH": _UINT, "SEQNUM": _UINT, "NUMINGROUP": _UINT, "TAGNUM": _UINT, "DAYOFMONTH": _UINT,
    "PRICE": _FLOAT, "QTY": _FLOAT, "AMT": _FLOAT, "FLOAT": _FLOAT, "PRICEOFFSET": _FLOAT, "PERCENTAGE": _FLOAT,
    "UTCTIMESTAMP": _TS, "UTCTIMEONLY": _TIME, "UTCDATEONLY": _DATE, "UTCDATE": _DATE, "LOCALMKTDATE": _DATE,
    "MONTHYEAR": _MONTHYEAR, "BOOLEAN": _BOOL, "CHAR": _CHAR,
}
_FRAME_TAGS: Final = frozenset({8, 9, 10})


@dataclass(frozen=True, slots=True)
class SessionReject(Exception):
    """Why a message is rejected at the session level (becomes a 35=3)."""

    reason: int
    ref_tag: int | None = None
    text: str = ""

    def __str__(self) -> str:
        return f"{self.text} (373={self.reason}, 371={self.ref_tag})"


class Validator:
    """Checks messages against one :class:`DataDictionary` (see the module docstring)."""

    def __init__(self, dd: DataDictionary, allow_user_defined: bool = True, check_values: bool = True) -> None:
        self.dd = dd
        self.allow_user_defined = allow_user_defined
        self.check_values = check_values
        self._header_required = dd.header.required - _FRAME_TAGS
        self._trailer_required = dd.trailer.required - _FRAME_TAGS

    def _value_error(self, f: FieldDef, value: bytes) -> SessionReject | None:
        if not value:
            return SessionReject(TAG_WITHOUT_VALUE, f.tag, f"Tag specified without a value: {f.name}")
        if not self.check_values:
            return None
        fmt = _FORMATS.get(f.type)
        if fmt is not None and fmt.fullmatch(value) is None:
            return SessionReject(INCORRECT_DATA_FORMAT, f.tag, f"Incorrect data format for value: {f.name}")
        if f.values is not None:
            if f.type in ("MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE"):
                ok = all(v in f.values for v in value.split(b" "))
            else:
                ok = value in f.values
            if not ok:
                return SessionReject(VALUE_INCORRECT, f.tag, f"Value is incorrect (out of range) for this tag: {f.name}")
        return None

    def _field(self, tag: int, value: bytes) -> SessionReject | FieldDef | None:
        """The field's definition, ``None`` for an allowed user-defined tag, or the reject."""
        if tag <= 0:
            return SessionReject(INVALID_TAG_NUMBER, tag, "Invalid tag number")
        f = self.dd.fields.get(tag)
        if f is None:
            if self.allow_user_defined and tag >= 5000:
                return None
            return SessionReject(INVALID_TAG_NUMBER, tag, "Invalid tag number")
        return self._value_error(f, value) or f

    def validate(self, msg: FixMessage) -> SessionReject | None:
        """The first problem of ``msg`` as a :class:`SessionReject`, or ``None`` when it is valid."""
        dd = self.dd
        mdef = dd.messages.get(msg.msg_type)
        if mdef is None:
            return SessionReject(INVALID_MSGTYPE, 35, "Invalid MsgType")
        hdr, trl = dd.header, dd.trailer
        fields = msg.fields
        seen: set[int] = {35}
        phase = 0  # 0 header, 1 body, 2 trailer
        i, n = 1, len(fields)
        while i < n:
            tag, value = fields[i]
            f = self._field(tag, value)
            if isinstance(f, SessionReject):
                return f
            if tag in _FRAME_TAGS:
                return SessionReject(TAG_OUT_OF_ORDER, tag, "Tag specified out of required order")
            if tag in hdr.fields:
                if phase:
                    return SessionReject(TAG_OUT_OF_ORDER, tag, "Tag specified out of required order")
                container = hdr
            elif tag in trl.fields:
                phase, container = 2, trl
            elif tag in mdef.fields or (f is None and tag >= 5000):
                if phase == 2:
                    return SessionReject(TAG_OUT_OF_ORDER, tag, "Tag specified out of required order")
                phase, container = 1, mdef
            else:
                if any(tag in g.members for g in mdef.groups.values()):
                    return SessionReject(GROUP_FIELDS_OUT_OF_ORDER, tag, "Repeating group fields out of order")
                return SessionReject(TAG_NOT_DEFINED_FOR_MESSAGE, tag, "Tag not defined for this message type")
            if tag in seen:
                return SessionReject(TAG_APPEARS_MORE_THAN_ONCE, tag, "Tag appears more than once")
            seen.add(tag)
            group = container.groups.get(tag)
            if group is None:
                i += 1
                continue
            res = self._group(fields, i, group)
            if isinstance(res, SessionReject):
                return res
            i = res
        for required, where in ((self._header_required, hdr), (mdef.required, mdef), (self._trailer_required, trl)):
            missing = required - seen
            if missing:
                tag = min(missing, key=where.order.index) if where.order else min(missing)
                return SessionReject(REQUIRED_TAG_MISSING, tag, "Required tag missing")
        return None

    def _group(self, fields: list[tuple[int, bytes]], i: int, g: GroupDef) -> int | SessionReject:
        """Walk a repeating group whose count field is ``fields[i]``; the index after it, or the reject."""
        count = int(fields[i][1])
        i += 1
        n = len(fields)
        entries = 0
        while i < n and fields[i][0] == g.delimiter:
            entries += 1
            seen: set[int] = set()
            while i < n:
                tag, value = fields[i]
                if tag not in g.members or (tag == g.delimiter and seen):
                    break
                if tag in seen:
                    return SessionReject(GROUP_FIELDS_OUT_OF_ORDER, tag, "Repeating group fields out of order")
                f = self._field(tag, value)
                if isinstance(f, SessionReject):
                    return f
                seen.add(tag)
                nested = g.groups.get(tag)
                if nested is None:
                    i += 1
                else:
                    res = self._group(fields, i, nested)
                    if isinstance(res, SessionReject):
                        return res
                    i = res
            missing = g.required - seen
            if missing:
                return SessionReject(REQUIRED_TAG_MISSING, min(missing, key=g.order.index), "Required tag missing")
        if i < n and fields[i][0] in g.members:
            return SessionReject(GROUP_FIELDS_OUT_OF_ORDER, fields[i][0], "Repeating group fields out of order")
        if entries != count:
            return SessionReject(INCORRECT_NUM_IN_GROUP, g.count_tag, "Incorrect NumInGroup count for repeating group")
        return i


def groups(msg: FixMessage, g: GroupDef, start: int = 0) -> list[dict[int, bytes]]:
    """The entries of repeating group ``g`` in ``msg`` (first occurrence at or after ``start``), as dicts.

    Nested groups are left flat in their entry (first value wins)."""
    fields = msg.fields
    n = len(fields)
    i = next((k for k in range(start, n) if fields[k][0] == g.count_tag), n) + 1
    out: list[dict[int, bytes]] = []
    while i < n and fields[i][0] == g.delimiter:
        entry: dict[int, bytes] = {}
        while i < n:
            tag, value = fields[i]
            if tag not in g.members and not any(tag in ng.members for ng in g.groups.values()):
                break
            if tag == g.delimiter and entry:
                break
            entry.setdefault(tag, value)
            i += 1
        out.append(entry)
    return out
