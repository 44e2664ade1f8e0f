"""Fuzz: arbitrary and mutated bytes never crash the codec, the validator or a logged-on session."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.fix.codec import FixDecodeError, Framer, decode, encode
from tradeforge.fix.dictionary import load_dictionary
from tradeforge.fix.validation import Validator
from tradeforge.fix.values import format_timestamp

from ._util import NOS, Wire

V = Validator(load_dictionary())
GOOD = encode(b"D", [(49, b"THEM"), (56, b"US"), (34, 2), (52, b"20231114-22:13:20.000"), *NOS])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_decoder_or_framer(data: bytes) -> None:
    for chunk in [data, b"8=FIX.4.4\x019=" + data, GOOD[:40] + data]:
        for raw in [*Framer().feed(chunk), chunk]:
            try:
                m = decode(raw)
            except FixDecodeError:
                continue
            V.validate(m)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(1, len(GOOD)))
def test_mutated_messages_never_crash_a_session(mutations, cut) -> None:
    w = Wire()
    w.logon()
    b = bytearray(encode(b"D", [(49, b"THEM"), (56, b"US"), (34, 2), (52, format_timestamp(w.clock.now)), *NOS]))
    for pos, value in mutations:
        b[pos] = value
    w.session.on_data(bytes(b[:cut]))
    w.session.on_data(bytes(b[cut:]))
    w.peer(b"0", seq=w.session.next_target_seq) if not w.closed else None
    assert w.session.app_errors == 0
