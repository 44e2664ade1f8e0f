"""Codec, dictionary and validation: the captured QuickFIX log, round trips, groups, data fields, rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeforge.fix.codec import FixDecodeError, Framer, decode, encode, frame
from tradeforge.fix.dictionary import load_dictionary
from tradeforge.fix.validation import Validator, groups
from tradeforge.fix.values import FixValueError, format_timestamp, from_raw, parse_timestamp, to_raw

LOG = Path(__file__).resolve().parents[2] / "data" / "fix" / "quickfix-1.16.0_fill_acceptor_session.messages.log"
V = Validator(load_dictionary())


def log_messages() -> list[bytes]:
    return [line.split(b" : ", 1)[1].rstrip(b"\n") for line in LOG.read_bytes().splitlines(keepends=True)]


def test_every_message_of_the_quickfix_log_parses_validates_and_reencodes() -> None:
    raws = log_messages()
    assert len(raws) == 18
    types = [decode(r).msg_type for r in raws]
    assert types == [b"A", b"A", b"D", b"8", b"8", b"D", b"8", b"8", b"D", b"8", b"8", b"D", b"8", b"8", b"F", b"9", b"5", b"5"]
    for raw in raws:
        m = decode(raw)
        assert V.validate(m) is None
        assert encode(m.msg_type, m.fields[1:]) == raw  # byte-identical, BodyLength and CheckSum included
    fill = decode(raws[4])
    assert to_raw(fill[31], 4) == 1_872_500 and to_raw(fill[32], 0) == 100 and fill[150] == b"F"
    # the framer cuts the concatenated stream back into the same messages
    assert Framer().feed(b"".join(raws)) == raws


def test_dictionary_tables() -> None:
    dd = load_dictionary()
    assert len(dd.messages) == 93 and len(dd.fields) == 912
    er = dd.messages[b"8"]
    assert {6, 14, 17, 37, 39, 54, 150, 151} <= er.required
    snap = dd.messages[b"W"].groups[268]
    assert snap.delimiter == 269 and 270 in snap.members
    assert dd.data_lengths[95] == 96 and dd.data_lengths[354] == 355
    assert b"F" in dd.fields[150].values and load_dictionary() is dd


def test_values_exact() -> None:
    assert to_raw(b"187.25", 4) == 1_872_500 and to_raw(b"-0.5", 2) == -50 and to_raw(b"1.2500", 2) == 125
    with pytest.raises(FixValueError):
        to_raw(b"1.255", 2)
    with pytest.raises(FixValueError):
        to_raw(b"1x", 2)
    assert from_raw(1_872_500, 4) == b"187.25" and from_raw(100, 0) == b"100" and from_raw(-5, 1) == b"-0.5"
    ns = 1_700_000_000_123_000_000
    assert parse_timestamp(format_timestamp(ns)) == ns
    assert format_timestamp(ns, 9) == b"20231114-22:13:20.123000000"
    with pytest.raises(FixValueError):
        parse_timestamp(b"20231314-22:13:20")


def test_data_field_with_soh_inside() -> None:
    raw = encode(b"B", [(49, b"A"), (56, b"B"), (34, 2), (52, b"20231114-22:13:20"), (148, b"news"),
                        (33, 1), (58, b"line"), (95, 5), (96, b"a\x01b=c")])
    m = decode(raw)
    assert m[96] == b"a\x01b=c" and m[95] == b"5"
    assert V.validate(m) is None


def test_repeating_groups_and_snapshot_entries() -> None:
    dd = load_dictionary()
    raw = encode(b"W", [(49, b"A"), (56, b"B"), (34, 2), (52, b"20231114-22:13:20"), (55, b"AAPL"), (268, 2),
                        (269, b"0"), (270, b"187.25"), (271, 100), (269, b"1"), (270, b"187.5"), (271, 200)])
    m = decode(raw)
    assert V.validate(m) is None
    entries = groups(m, dd.messages[b"W"].groups[268])
    assert [(e[269], e[270], e[271]) for e in entries] == [(b"0", b"187.25", b"100"), (b"1", b"187.5", b"200")]
    wrong = encode(b"W", [(49, b"A"), (56, b"B"), (34, 2), (52, b"20231114-22:13:20"), (55, b"AAPL"), (268, 3),
                          (269, b"0"), (270, b"187.25"), (271, 100), (269, b"1"), (270, b"187.5"), (271, 200)])
    assert V.validate(decode(wrong)).reason == 16
    misordered = encode(b"W", [(49, b"A"), (56, b"B"), (34, 2), (52, b"20231114-22:13:20"), (55, b"AAPL"), (268, 1),
                               (270, b"187.25"), (269, b"0"), (271, 100)])
    assert V.validate(decode(misordered)).reason == 15


HDR = [(49, b"A"), (56, b"B"), (34, 2), (52, b"20231114-22:13:20")]
NOS = [(11, b"O1"), (21, b"1"), (55, b"AAPL"), (54, b"1"), (60, b"20231114-22:13:20"), (38, b"100"), (40, b"2")]


@pytest.mark.parametrize(
    ("fields", "msg_type", "reason", "ref_tag"),
    [
        (HDR + NOS[1:], b"D", 1, 11),  # required ClOrdID missing
        (HDR + NOS + [(4000, b"x")], b"D", 0, 4000),  # invalid tag number
        (HDR + NOS + [(270, b"1")], b"D", 2, 270),  # tag not defined for this message
        (HDR + NOS + [(44, b"")], b"D", 4, 44),  # tag without a value
        ([*HDR, (11, b"O1"), (21, b"1"), (55, b"AAPL"), (54, b"Z"), *NOS[4:]], b"D", 5, 54),  # value out of range
        (HDR + NOS + [(44, b"1.2.3")], b"D", 6, 44),  # incorrect data format
        (HDR + NOS, b"ZZ", 11, 35),  # invalid MsgType
        (HDR + NOS + [(11, b"O2")], b"D", 13, 11),  # tag twice
        (HDR[:2] + NOS + HDR[2:], b"D", 14, 34),  # header field after the body
    ],
)
def test_session_reject_reasons(fields, msg_type, reason, ref_tag) -> None:
    rej = V.validate(decode(encode(msg_type, fields)))
    assert rej is not None and (rej.reason, rej.ref_tag) == (reason, ref_tag)


def test_bad_frames_raise() -> None:
    good = encode(b"0", HDR)
    with pytest.raises(FixDecodeError):
        decode(good[:-4] + b"000\x01")  # checksum
    with pytest.raises(FixDecodeError):
        decode(good.replace(b"9=", b"9=1", 1))  # body length
    with pytest.raises(FixDecodeError):
        decode(good[:-10])  # truncated
    with pytest.raises(FixDecodeError):
        decode(b"garbage")
    assert frame(b"35=0\x01") == b"8=FIX.4.4\x019=5\x0135=0\x0110=163\x01"


def test_framer_skips_garbage_and_resyncs() -> None:
    good = encode(b"0", HDR)
    f = Framer()
    wrong_len = good.replace(b"9=41", b"9=38", 1)  # too short: 10= is not where it says
    out = f.feed(b"xx" + wrong_len + good[:10])
    assert out == [] and f.garbled >= 1
    assert f.feed(good[10:] + good) == [good, good]
