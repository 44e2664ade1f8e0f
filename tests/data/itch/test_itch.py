"""ITCH 5.0: spec dtypes, BinaryFILE/MoldUDP64 framing, vectorized decoding, the generator, fuzzing."""

from __future__ import annotations

import csv
import gzip
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.data.errors import BadRecordError
from tradeforge.data.itch import (
    DTYPES,
    MESSAGE_LENGTHS,
    MESSAGE_TYPES,
    WIRE_DTYPES,
    ZeroLengthPrefixWarning,
    decode,
    decode_file,
)
from tradeforge.data.itch.generator import encode, generate, generate_messages, to_moldudp64

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "itch" / "ex20101224.TEST_ITCH_50.gz"
TYPES_CSV = ROOT / "data" / "itch" / "itch50_message_types.csv"
SAMPLE_COUNTS = {"A": 4997, "P": 5000, "D": 1745, "E": 198, "X": 45, "U": 12, "S": 6, "F": 3, "H": 3, "R": 3}


@pytest.fixture(scope="module")
def sample_bytes() -> bytes:
    return gzip.decompress(SAMPLE.read_bytes())


@pytest.fixture(scope="module")
def small() -> tuple[object, bytes]:
    rare = {c: 5.0 for c in "QBINKJhYLVW"}  # every type occurs in a small file
    g = generate_messages(20_000, seed=11, weights=rare)
    return g, encode(g)


# ---------------------------------------------------------------- spec


def test_every_dtype_matches_the_csv_lengths() -> None:
    with TYPES_CSV.open(newline="") as fh:
        table = {row["type"]: int(row["length_bytes"]) for row in csv.DictReader(fh)}
    assert len(table) == 22 and set(table) == set(MESSAGE_TYPES) == set(WIRE_DTYPES) == set(DTYPES)
    for code, length in table.items():
        assert WIRE_DTYPES[code].itemsize == length == MESSAGE_LENGTHS[code], code
        assert DTYPES[code].names == WIRE_DTYPES[code].names
        assert DTYPES[code]["timestamp"] == np.uint64
        assert WIRE_DTYPES[code].names[:4] == ("message_type", "stock_locate", "tracking_number", "timestamp")
    assert WIRE_DTYPES["J"].itemsize == 35 and WIRE_DTYPES["h"].itemsize == 21
    assert WIRE_DTYPES["A"]["price"] == np.dtype(">u4")
    assert WIRE_DTYPES["A"]["order_reference_number"] == np.dtype(">u8")


def test_generated_scatter_kernel_is_up_to_date() -> None:
    from tradeforge.data.itch.decode import _SCATTER_MODULE, scatter_source

    assert _SCATTER_MODULE.read_text(encoding="utf-8") == scatter_source(), (
        "regenerate with tradeforge.data.itch.decode.write_scatter_module()"
    )


# ---------------------------------------------------------------- the real sample


def test_sample_decodes_with_zero_prefix_notice(sample_bytes: bytes) -> None:
    with pytest.warns(ZeroLengthPrefixWarning, match="length prefix is 0"):
        m = decode_file(SAMPLE)
    assert len(m) == 12_012
    assert m.counts() == SAMPLE_COUNTS
    assert m.bytes_consumed == len(sample_bytes) == 465_048  # zero bytes left over
    assert m.zero_prefix and m.framing == "binaryfile" and len(m.notices) == 1
    # spot checks
    assert {s.strip() for s in m["R"]["stock"].tolist()} == {b"ALC", b"BOB", b"CHAR"}
    assert set(m["A"]["stock"].tolist()) <= {b"ALC     ", b"BOB     ", b"CHAR    "}
    assert set(m["A"]["buy_sell_indicator"].tolist()) == {b"B", b"S"}
    assert (m["A"]["price"] > 0).all() and (m["P"]["price"] > 0).all() and (m["A"]["shares"] > 0).all()
    assert m["S"]["event_code"][0] == b"O"
    ts = m.timestamps()
    assert (np.diff(ts.astype(np.int64)) >= 0).all() and ts[-1] < 86_400 * 10**9
    first_add = m["A"][0]
    assert first_add["stock"] == b"BOB     " and first_add["price"] == 53_167 and first_add["shares"] == 1000
    # file order: type bytes and per-type rows replay the file
    assert bytes(m.types[:2]) == b"SR" and m.index[:4].tolist() == [0, 0, 1, 2]
    table = m.to_arrow("A")
    assert table.num_rows == 4997 and table.column("stock")[0].as_py() == "BOB"
    assert table.schema.field("price").type == "uint32"


def test_sample_with_real_prefixes_decodes_silently_and_identically(sample_bytes: bytes) -> None:
    with pytest.warns(ZeroLengthPrefixWarning):
        ref = decode(sample_bytes, source="zero")
    framed = bytearray(sample_bytes)
    for off, t in zip(ref.offsets.tolist(), ref.types.tolist(), strict=True):
        framed[off - 2 : off] = MESSAGE_LENGTHS[chr(t)].to_bytes(2, "big")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = decode(bytes(framed), source="real")
    assert not m.zero_prefix and not m.notices
    for code in SAMPLE_COUNTS:
        assert np.array_equal(m[code], ref[code])
    # one prefix that disagrees with its type's length -> BadRecordError naming that byte offset
    bad = bytearray(framed)
    off = int(ref.offsets[100]) - 2
    bad[off : off + 2] = (99).to_bytes(2, "big")
    with pytest.raises(BadRecordError) as err:
        decode(bytes(bad), source="bad.itch")
    assert err.value.record == off and err.value.unit == "byte offset" and err.value.field == "length"
    assert "bad.itch byte offset" in str(err.value) and "99" in str(err.value)


def test_framing_errors_name_the_byte_offset(sample_bytes: bytes) -> None:
    data = sample_bytes[:1000]
    with pytest.raises(BadRecordError) as err:  # the error comes before any notice
        decode(data, source="cut")
    assert 0 < err.value.record < 1000 and "truncated" in err.value.reason
    unknown = sample_bytes[:14] + b"\x00\x00Z" + b"\x00" * 40
    with pytest.raises(BadRecordError) as err:
        decode(unknown, framing="binaryfile", source="u")
    assert err.value.record == 14 and err.value.field == "message_type" and "'Z'" in err.value.reason
    with pytest.raises(ValueError, match="framing"):
        decode(b"", framing="fix")
    assert len(decode(b"")) == 0


# ---------------------------------------------------------------- generator round trips


def test_generator_round_trip(small) -> None:
    g, data = small
    m = decode(data, source="gen")
    assert not m.zero_prefix and m.bytes_consumed == len(data)
    assert m.counts() == g.counts() and sum(g.counts().values()) == 20_000
    assert len(g.counts()) == 22  # every message type occurs
    for code, rows in g.arrays.items():
        assert np.array_equal(m[code], rows), code
    assert np.array_equal(m.types, g.types) and np.array_equal(m.index, g.index)
    assert np.array_equal(m.to_arrow("A").column("shares").to_numpy(), g.arrays["A"]["shares"])
    assert generate(2000, seed=3) == generate(2000, seed=3) != generate(2000, seed=4)


def test_generated_book_is_consistent(small) -> None:
    _, data = small
    m = decode(data)
    open_shares: dict[int, int] = {}
    seen: set[int] = set()
    matches = 0
    for code, row in m.iter_rows():
        if code in "AF":
            ref = int(row["order_reference_number"])
            assert ref not in seen
            seen.add(ref)
            open_shares[ref] = int(row["shares"])
        elif code in "EC":
            ref = int(row["order_reference_number"])
            assert open_shares[ref] >= int(row["executed_shares"]) > 0
            open_shares[ref] -= int(row["executed_shares"])
            if open_shares[ref] == 0:
                del open_shares[ref]
            matches += 1
            assert int(row["match_number"]) > 0
        elif code == "X":
            ref = int(row["order_reference_number"])
            assert open_shares[ref] > int(row["cancelled_shares"]) > 0
            open_shares[ref] -= int(row["cancelled_shares"])
        elif code == "D":
            del open_shares[int(row["order_reference_number"])]
        elif code == "U":
            old, new = int(row["original_order_reference_number"]), int(row["new_order_reference_number"])
            del open_shares[old]
            assert new not in seen
            seen.add(new)
            open_shares[new] = int(row["shares"])
    assert matches > 0 and open_shares


def test_moldudp64_round_trip_with_dropped_packet(small) -> None:
    g, data = small
    packets = to_moldudp64(data, per_packet=25, first_sequence=1, heartbeat_every=50)
    full = decode(b"".join(packets), framing="auto", source="mold")
    assert full.framing == "moldudp64" and full.gaps == [] and len(full) == 20_000
    assert full.sequence.tolist() == list(range(1, 20_001))
    for code, rows in g.arrays.items():
        assert np.array_equal(full[code], rows), code
    # drop the 11th data packet (messages 251..275) -> one gap with that range
    data_packets = [i for i, p in enumerate(packets) if int.from_bytes(p[18:20], "big") not in (0, 0xFFFF)]
    drop = data_packets[10]
    lost = packets[drop]
    first = int.from_bytes(lost[10:18], "big")
    assert first == 251
    kept = packets[:drop] + packets[drop + 1 :]
    m = decode(b"".join(kept), framing="moldudp64", source="mold")
    assert m.gaps == [(251, 275)] and len(m) == 20_000 - 25
    assert any("251..275" in n for n in m.notices)
    assert 251 not in set(m.sequence.tolist()) and 276 in set(m.sequence.tolist())
    # a retransmitted packet is a duplicate, dropped (or kept on request)
    again = decode(b"".join([*packets[:5], packets[3], *packets[5:]]), framing="moldudp64")
    assert again.gaps == [] and again.duplicates == 25 and len(again) == 20_000
    assert len(decode(b"".join([*packets[:5], packets[3], *packets[5:]]), keep_duplicates=True)) == 20_025
    # a gap seen only through a heartbeat (the trailing packets lost) is reported too
    last_data = data_packets[-1]
    tail = decode(b"".join(packets[:last_data] + packets[last_data + 1 :]), framing="moldudp64")
    assert tail.gaps == [(20_000 - 24, 20_000)]
    assert len(tail.packets) == len(packets) - 1 and tail.packets.session[0] == b"TFGEN00001"


def test_moldudp64_bad_block_length_names_offset() -> None:
    stream = bytearray(b"".join(to_moldudp64(generate(100, seed=2), per_packet=10)))
    stream[20:22] = (7).to_bytes(2, "big")
    with pytest.raises(BadRecordError) as err:
        decode(bytes(stream), framing="moldudp64", source="m")
    assert err.value.record == 20 and err.value.field == "length"


# ---------------------------------------------------------------- fuzzing


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_VALID = generate(300, seed=5)
_VALID_MOLD = b"".join(to_moldudp64(_VALID, per_packet=7))


def _decode_or_bad_record(data: bytes, framing: str = "auto") -> None:
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroLengthPrefixWarning)
            try:
                m = decode(data, framing=framing, source="fuzz")
            except BadRecordError as exc:
                assert exc.unit == "byte offset" and 0 <= exc.record <= len(data)
                assert exc.source == "fuzz"
            else:
                assert m.bytes_consumed == len(data)
                assert sum(m.counts().values()) == len(m)
                # numba's allocations are not traced: bound what the result holds instead (the
                # offsets' scan buffer has n // 14 + 1 slots of 8 bytes)
                held = sum(a.nbytes for a in (*m.arrays.values(), m.types, m.index)) + 8 * (len(data) // 14 + 1)
                assert held <= 6 * len(data) + 1024
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 12 * len(data) + 256 * 1024, (peak, len(data))


@FUZZ
@given(st.integers(0, len(_VALID)))
def test_fuzz_truncated(cut: int) -> None:
    _decode_or_bad_record(_VALID[:cut])
    _decode_or_bad_record(_VALID_MOLD[:cut], "moldudp64")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_fuzz_byte_flips(flips: list[tuple[int, int]]) -> None:
    for base, framing in ((_VALID, "binaryfile"), (_VALID_MOLD, "moldudp64")):
        data = bytearray(base)
        for pos, val in flips:
            data[pos % len(data)] = val
        _decode_or_bad_record(bytes(data), framing)


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["auto", "binaryfile", "moldudp64"]))
def test_fuzz_random_bytes(data: bytes, framing: str) -> None:
    _decode_or_bad_record(data, framing)


@FUZZ
@given(st.integers(0, 299), st.integers(0, 0xFFFF))
def test_fuzz_bad_length_prefix(k: int, prefix: int) -> None:
    m = decode(_VALID)
    off = int(m.offsets[k]) - 2
    data = bytearray(_VALID)
    data[off : off + 2] = prefix.to_bytes(2, "big")
    if prefix == MESSAGE_LENGTHS[chr(m.types[k])]:
        assert len(decode(bytes(data))) == 300
    else:
        with pytest.raises(BadRecordError) as err:
            decode(bytes(data), framing="binaryfile", source="p")
        # a zero first prefix switches to zero-prefix mode: then the next (real) prefix is the bad one
        assert err.value.record == (int(m.offsets[1]) - 2 if k == 0 and prefix == 0 else off)


@FUZZ
@given(st.lists(st.sampled_from(MESSAGE_TYPES), max_size=200), st.booleans())
def test_fuzz_zero_prefix_streams_of_any_types(codes: list[str], zero: bool) -> None:
    parts = []
    for c in codes:
        body = c.encode() + bytes(MESSAGE_LENGTHS[c] - 1)
        if c in "AFP":  # a valid side
            off = WIRE_DTYPES[c].fields["buy_sell_indicator"][1]
            body = body[:off] + b"S" + body[off + 1 :]
        parts.append((b"\x00\x00" if zero else MESSAGE_LENGTHS[c].to_bytes(2, "big")) + body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroLengthPrefixWarning)
        m = decode(b"".join(parts))
    assert [chr(t) for t in m.types.tolist()] == codes
    assert m.zero_prefix == (zero and bool(codes))
