"""The FIX data dictionary (QuickFIX XML format), parsed once into compact lookup tables.

:func:`load_dictionary` reads ``data/fix/FIX44.xml`` (or any QuickFIX-style dictionary) and returns a
:class:`DataDictionary`: every field (tag, name, type, allowed values), every message (its allowed
top-level tags, required tags and repeating groups, with components expanded), the header and the
trailer, and the length field that goes with each ``DATA`` field. Results are cached per path.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: The FIX 4.4 dictionary shipped in ``data/fix`` (override with ``TRADEFORGE_FIX44_XML``).
DEFAULT_FIX44 = Path(__file__).resolve().parents[3] / "data" / "fix" / "FIX44.xml"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field: ``values`` is the set of allowed values (``None`` = any value of ``type``)."""

    tag: int
    name: str
    type: str
    values: frozenset[bytes] | None


@dataclass(slots=True)
class GroupDef:
    """A repeating group: ``count_tag`` (NUMINGROUP) then entries starting with ``delimiter``."""

    count_tag: int
    delimiter: int
    order: tuple[int, ...]  # member tags in dictionary order (nested group count tags included)
    members: frozenset[int]
    required: frozenset[int]
    groups: dict[int, GroupDef]


@dataclass(slots=True)
class MessageDef:
    """A message (or the header/trailer): allowed top-level tags, required ones and its groups."""

    msg_type: bytes
    name: str
    admin: bool
    fields: frozenset[int]
    required: frozenset[int]
    groups: dict[int, GroupDef]
    order: tuple[int, ...] = field(default=())


@dataclass(slots=True)
class DataDictionary:
    """Lookup tables of one FIX version (see the module docstring)."""

    begin_string: bytes
    fields: dict[int, FieldDef]
    tags: dict[str, int]
    messages: dict[bytes, MessageDef]
    header: MessageDef
    trailer: MessageDef
    data_lengths: dict[int, int]  # LENGTH tag -> the DATA tag it measures

    def tag(self, name: str) -> int:
        return self.tags[name]

    def message(self, msg_type: bytes) -> MessageDef | None:
        return self.messages.get(msg_type)


def _members(
    node: ET.Element, fields_by_name: dict[str, int], components: dict[str, ET.Element], required_parent: bool
) -> tuple[list[int], set[int], dict[int, GroupDef]]:
    """Expand the fields, components and groups below ``node`` (in order)."""
    order: list[int] = []
    required: set[int] = set()
    groups: dict[int, GroupDef] = {}
    for child in node:
        req = required_parent and child.get("required") == "Y"
        name = child.get("name", "")
        if child.tag == "field":
            tag = fields_by_name[name]
            order.append(tag)
            if req:
                required.add(tag)
        elif child.tag == "component":
            sub_order, sub_req, sub_groups = _members(components[name], fields_by_name, components, req)
            order.extend(sub_order)
            required |= sub_req
            groups.update(sub_groups)
        elif child.tag == "group":
            tag = fields_by_name[name]
            order.append(tag)
            if req:
                required.add(tag)
            g_order, g_req, g_groups = _members(child, fields_by_name, components, True)
            groups[tag] = GroupDef(tag, g_order[0], tuple(g_order), frozenset(g_order), frozenset(g_req), g_groups)
    return order, required, groups


def parse_dictionary(path: str | Path) -> DataDictionary:
    """Parse a QuickFIX-style XML dictionary (uncached; see :func:`load_dictionary`)."""
    root = ET.parse(path).getroot()
    begin = f"{root.get('type', 'FIX')}.{root.get('major')}.{root.get('minor')}".encode()
    fields: dict[int, FieldDef] = {}
    by_name: dict[str, int] = {}
    for f in root.find("fields") or ():
        tag = int(f.get("number", "0"))
        values = frozenset(v.get("enum", "").encode() for v in f.findall("value")) or None
        fields[tag] = FieldDef(tag, f.get("name", ""), f.get("type", "STRING"), values)
        by_name[fields[tag].name] = tag
    components = {c.get("name", ""): c for c in root.find("components") or ()}

    def build(node: ET.Element, msg_type: bytes, name: str, admin: bool) -> MessageDef:
        order, required, groups = _members(node, by_name, components, True)
        return MessageDef(msg_type, name, admin, frozenset(order), frozenset(required), groups, tuple(order))

    messages = {
        m.get("msgtype", "").encode(): build(m, m.get("msgtype", "").encode(), m.get("name", ""), m.get("msgcat") == "admin")
        for m in root.find("messages") or ()
    }
    header = build(root.find("header"), b"", "header", True)  # type: ignore[arg-type]
    trailer = build(root.find("trailer"), b"", "trailer", True)  # type: ignore[arg-type]
    data_lengths: dict[int, int] = {}
    for tag, f in fields.items():
        if f.type == "DATA":
            for suffix in ("Length", "Len"):
                length_tag = by_name.get(f.name + suffix)
                if length_tag is not None and fields[length_tag].type == "LENGTH":
                    data_lengths[length_tag] = tag
    return DataDictionary(begin, fields, by_name, messages, header, trailer, data_lengths)


@lru_cache(maxsize=8)
def load_dictionary(path: str | None = None) -> DataDictionary:
    """The dictionary at ``path`` (default: the shipped FIX 4.4 one), parsed once per process."""
    return parse_dictionary(path or os.environ.get("TRADEFORGE_FIX44_XML") or DEFAULT_FIX44)
