"""NASDAQ TotalView-ITCH 5.0 message layouts as numpy structured dtypes.

Every message is a 1-byte type code followed by big-endian fields, with no padding. Each type has
two dtypes, with the spec's field names in snake_case and in the spec's order:

- ``WIRE_DTYPES[code]``: the exact bytes on the wire (``itemsize`` equals the message length).
  Integers are big-endian (``>u2``, ``>u4``, ``>u8``); ``timestamp`` is the spec's 6-byte
  nanoseconds-since-midnight integer, held as ``('u1', (6,))``; alpha fields are ``S<n>``
  (space padded, as sent).
- ``DTYPES[code]``: the decoded form: the same fields in the same order, integers native-endian,
  ``timestamp`` as ``uint64``, C-aligned (``align=True``: every integer at a multiple of its size,
  rows a multiple of 8 bytes). Alpha fields stay raw bytes (``stock`` is ``b"ALC     "``).

Prices are raw integers as sent: ``Price(4)`` fields have 4 implied decimals (``PRICE4_FIELDS``),
``Price(8)`` fields (the MWCB levels of ``V``) have 8 (``PRICE8_FIELDS``).

``J`` (LULD Auction Collar, 35 bytes) and ``h`` (Operational Halt, 21 bytes) come from spec
revisions later than the 2015-03-06 text; the lengths are those of ``itch50_message_types.csv``.
"""

from __future__ import annotations

import numpy as np

HEADER: list[tuple[str, str | tuple[str, tuple[int, ...]]]] = [
    ("message_type", "S1"),
    ("stock_locate", ">u2"),
    ("tracking_number", ">u2"),
    ("timestamp", ("u1", (6,))),
]

_A = "S1"  # 1-byte alpha
_STOCK = "S8"
_U2, _U4, _U8 = ">u2", ">u4", ">u8"
_P4 = ">u4"  # Price(4): 4 implied decimals
_P8 = ">u8"  # Price(8): 8 implied decimals

# code -> (spec name, body fields after the common 11-byte header)
_BODIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "S": ("System Event", [("event_code", _A)]),
    "R": (
        "Stock Directory",
        [
            ("stock", _STOCK),
            ("market_category", _A),
            ("financial_status_indicator", _A),
            ("round_lot_size", _U4),
            ("round_lots_only", _A),
            ("issue_classification", _A),
            ("issue_sub_type", "S2"),
            ("authenticity", _A),
            ("short_sale_threshold_indicator", _A),
            ("ipo_flag", _A),
            ("luld_reference_price_tier", _A),
            ("etp_flag", _A),
            ("etp_leverage_factor", _U4),
            ("inverse_indicator", _A),
        ],
    ),
    "H": (
        "Stock Trading Action",
        [("stock", _STOCK), ("trading_state", _A), ("reserved", _A), ("reason", "S4")],
    ),
    "Y": ("Reg SHO Short Sale Price Test Restricted Indicator", [("stock", _STOCK), ("reg_sho_action", _A)]),
    "L": (
        "Market Participant Position",
        [
            ("mpid", "S4"),
            ("stock", _STOCK),
            ("primary_market_maker", _A),
            ("market_maker_mode", _A),
            ("market_participant_state", _A),
        ],
    ),
    "V": ("MWCB Decline Level", [("level_1", _P8), ("level_2", _P8), ("level_3", _P8)]),
    "W": ("MWCB Status (Breach)", [("breached_level", _A)]),
    "K": (
        "IPO Quoting Period Update",
        [
            ("stock", _STOCK),
            ("ipo_quotation_release_time", _U4),
            ("ipo_quotation_release_qualifier", _A),
            ("ipo_price", _P4),
        ],
    ),
    "J": (
        "LULD Auction Collar",
        [
            ("stock", _STOCK),
            ("auction_collar_reference_price", _P4),
            ("upper_auction_collar_price", _P4),
            ("lower_auction_collar_price", _P4),
            ("auction_collar_extension", _U4),
        ],
    ),
    "h": (
        "Operational Halt",
        [("stock", _STOCK), ("market_code", _A), ("operational_halt_action", _A)],
    ),
    "A": (
        "Add Order (no MPID attribution)",
        [
            ("order_reference_number", _U8),
            ("buy_sell_indicator", _A),
            ("shares", _U4),
            ("stock", _STOCK),
            ("price", _P4),
        ],
    ),
    "F": (
        "Add Order with MPID Attribution",
        [
            ("order_reference_number", _U8),
            ("buy_sell_indicator", _A),
            ("shares", _U4),
            ("stock", _STOCK),
            ("price", _P4),
            ("attribution", "S4"),
        ],
    ),
    "E": (
        "Order Executed",
        [("order_reference_number", _U8), ("executed_shares", _U4), ("match_number", _U8)],
    ),
    "C": (
        "Order Executed With Price",
        [
            ("order_reference_number", _U8),
            ("executed_shares", _U4),
            ("match_number", _U8),
            ("printable", _A),
            ("execution_price", _P4),
        ],
    ),
    "X": ("Order Cancel", [("order_reference_number", _U8), ("cancelled_shares", _U4)]),
    "D": ("Order Delete", [("order_reference_number", _U8)]),
    "U": (
        "Order Replace",
        [
            ("original_order_reference_number", _U8),
            ("new_order_reference_number", _U8),
            ("shares", _U4),
            ("price", _P4),
        ],
    ),
    "P": (
        "Trade (Non-Cross)",
        [
            ("order_reference_number", _U8),
            ("buy_sell_indicator", _A),
            ("shares", _U4),
            ("stock", _STOCK),
            ("price", _P4),
            ("match_number", _U8),
        ],
    ),
    "Q": (
        "Cross Trade",
        [
            ("shares", _U8),
            ("stock", _STOCK),
            ("cross_price", _P4),
            ("match_number", _U8),
            ("cross_type", _A),
        ],
    ),
    "B": ("Broken Trade / Order Execution", [("match_number", _U8)]),
    "I": (
        "Net Order Imbalance Indicator (NOII)",
        [
            ("paired_shares", _U8),
            ("imbalance_shares", _U8),
            ("imbalance_direction", _A),
            ("stock", _STOCK),
            ("far_price", _P4),
            ("near_price", _P4),
            ("current_reference_price", _P4),
            ("cross_type", _A),
            ("price_variation_indicator", _A),
        ],
    ),
    "N": ("Retail Price Improvement Indicator (RPII)", [("stock", _STOCK), ("interest_flag", _A)]),
}

#: Message lengths in bytes (type code included), as in ``data/itch/itch50_message_types.csv``.
MESSAGE_LENGTHS: dict[str, int] = {
    "S": 12, "R": 39, "H": 25, "Y": 20, "L": 26, "V": 35, "W": 12, "K": 28, "J": 35, "h": 21,
    "A": 36, "F": 40, "E": 31, "C": 36, "X": 23, "D": 19, "U": 35, "P": 44, "Q": 40, "B": 19,
    "I": 50, "N": 20,
}  # fmt: skip

MESSAGE_NAMES: dict[str, str] = {code: name for code, (name, _) in _BODIES.items()}

#: Type codes in the spec's order.
MESSAGE_TYPES: tuple[str, ...] = tuple(_BODIES)

PRICE4_FIELDS: frozenset[str] = frozenset(
    {
        "price", "execution_price", "cross_price", "ipo_price", "far_price", "near_price",
        "current_reference_price", "auction_collar_reference_price", "upper_auction_collar_price",
        "lower_auction_collar_price",
    }
)  # fmt: skip
PRICE8_FIELDS: frozenset[str] = frozenset({"level_1", "level_2", "level_3"})


def _native(fmt: str | tuple[str, tuple[int, ...]]) -> np.dtype:
    dt = np.dtype(fmt)
    return dt.newbyteorder("=") if dt.kind == "u" else dt


WIRE_DTYPES: dict[str, np.dtype] = {code: np.dtype(HEADER + body) for code, (_, body) in _BODIES.items()}
DTYPES: dict[str, np.dtype] = {
    code: np.dtype(
        [(name, np.dtype(np.uint64) if name == "timestamp" else _native(fmt)) for name, fmt in HEADER + body],
        align=True,
    )
    for code, (_, body) in _BODIES.items()
}

#: Byte value of the type code -> message length (0 for a byte that is no ITCH 5.0 type).
LENGTH_TABLE: np.ndarray = np.zeros(256, dtype=np.int64)
#: Byte value of the type code -> position in ``MESSAGE_TYPES`` (-1 for an unknown byte).
TYPE_INDEX: np.ndarray = np.full(256, -1, dtype=np.int64)
for _i, _code in enumerate(MESSAGE_TYPES):
    LENGTH_TABLE[ord(_code)] = MESSAGE_LENGTHS[_code]
    TYPE_INDEX[ord(_code)] = _i
LENGTH_TABLE.setflags(write=False)
TYPE_INDEX.setflags(write=False)

for _code, _dt in WIRE_DTYPES.items():
    assert _dt.itemsize == MESSAGE_LENGTHS[_code], (_code, _dt.itemsize, MESSAGE_LENGTHS[_code])
assert set(MESSAGE_LENGTHS) == set(_BODIES) and len(_BODIES) == 22


def load_length_table(path: str) -> dict[str, int]:
    """The ``type -> length_bytes`` table of an ``itch50_message_types.csv`` file (for cross-checks)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return {row["type"]: int(row["length_bytes"]) for row in csv.DictReader(fh)}
