"""NASDAQ TotalView-ITCH 5.0: message dtypes, BinaryFILE/MoldUDP64 framing, vectorized decoding and a
seeded generator of valid files."""

from tradeforge.data.itch.decode import ItchMessages, decode, decode_file
from tradeforge.data.itch.framing import MoldPackets, ZeroLengthPrefixWarning
from tradeforge.data.itch.spec import DTYPES, MESSAGE_LENGTHS, MESSAGE_NAMES, MESSAGE_TYPES, WIRE_DTYPES

__all__ = [
    "DTYPES",
    "MESSAGE_LENGTHS",
    "MESSAGE_NAMES",
    "MESSAGE_TYPES",
    "WIRE_DTYPES",
    "ItchMessages",
    "MoldPackets",
    "ZeroLengthPrefixWarning",
    "decode",
    "decode_file",
]
