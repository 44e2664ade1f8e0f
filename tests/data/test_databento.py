"""Databento MBO decoding on the real ESH4 file: counts, CSV cross-check, book replay, fuzzing."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.data.databento import (
    F_SNAPSHOT,
    MBO_DTYPE,
    MboBook,
    MboBookError,
    MboColumns,
    decode_dbn_mbo,
    load_dbn_mbo,
    mbo_deltas,
    mbo_events,
    mbo_trades,
    replay_book,
)
from tradeforge.data.errors import BadRecordError, BadRecordPolicy
from tradeforge.model.data import OrderBookDelta, TradeTick
from tradeforge.model.enums import AggressorSide, BookAction
from tradeforge.model.instruments import Instrument, InstrumentProvider
from tradeforge.model.timeutil import parse_timestamp_ns

DATA = Path(__file__).resolve().parents[2] / "data"
DBN = DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
CSV = DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.csv.gz"
Q = BadRecordPolicy.QUARANTINE
OPEN_NS = parse_timestamp_ns("2023-12-25T23:00:00")  # Globex reopen, 17:00 CT


@pytest.fixture(scope="module")
def es() -> Instrument:
    return InstrumentProvider.from_toml(DATA / "instruments" / "cme_mbo.toml").get("ESH4.GLBX")


@pytest.fixture(scope="module")
def mbo(es: Instrument) -> MboColumns:
    cols, bad = load_dbn_mbo(DBN, instrument=es)
    assert bad == []
    return cols


@pytest.fixture(scope="module")
def raw_dbn() -> bytes:
    """The decompressed DBN stream."""
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(DBN.read_bytes()), read_across_frames=True).read()


def test_instrument(es: Instrument) -> None:
    assert (es.price_precision, es.tick_size_raw, es.size_precision, es.multiplier) == (2, 25, 0, 50)
    assert es.expiry_ns == parse_timestamp_ns("2024-03-15")


def test_record_and_action_counts(mbo: MboColumns) -> None:
    assert len(mbo) == 68_792
    assert mbo.action_counts() == {"A": 29_216, "C": 17_999, "M": 12_233, "F": 6_371, "T": 2_973}
    assert mbo.symbol == "ESH4" and set(mbo.raw_instrument_id.tolist()) == {17077}
    assert np.array_equal(mbo.record, np.arange(68_792))
    assert (np.diff(mbo.ts_init) >= 0).all()
    assert int((mbo.flags & F_SNAPSHOT != 0).sum()) == 8_725


def test_every_record_equals_the_csv_copy(mbo: MboColumns) -> None:
    opts = pacsv.ConvertOptions(column_types={"price": pa.string(), "order_id": pa.uint64()})
    t = pacsv.read_csv(CSV, convert_options=opts)
    assert t.num_rows == len(mbo)
    col = {name: t.column(name).to_numpy() for name in t.column_names}
    assert np.array_equal(col["ts_recv"], mbo.ts_init)
    assert np.array_equal(col["ts_event"], mbo.ts_event)
    assert np.array_equal(col["instrument_id"], mbo.raw_instrument_id)
    assert set(col["symbol"].tolist()) == {mbo.symbol}
    assert np.array_equal(np.array([ord(a) for a in col["action"]], dtype=np.uint8), mbo.action)
    side = {"B": 1, "A": -1, "N": 0}
    assert np.array_equal(np.array([side[s] for s in col["side"]], dtype=np.int8), mbo.side)
    # Decimal text in index points -> raw at precision 2, exactly (few distinct prices: parse each once)
    uniq, inv = np.unique(col["price"], return_inverse=True)
    raw = np.array([int(Decimal(p) * 100) for p in uniq.tolist()], dtype=np.int64)[inv]
    assert all(Decimal(p) * 100 == int(Decimal(p) * 100) for p in uniq.tolist())
    assert np.array_equal(raw, mbo.price)
    for name in ("size", "order_id", "flags", "channel_id", "sequence"):
        assert np.array_equal(col[name].astype(np.int64), getattr(mbo, name).astype(np.int64)), name


def test_decoded_columns_match_the_decoder_objects(raw_dbn: bytes, mbo: MboColumns) -> None:
    """The structured view equals the attributes of databento_dbn's own record objects (spot check)."""
    import databento_dbn as dbn

    dec = dbn.DBNDecoder()
    recs = dec.write_and_decode(raw_dbn)[1:]
    for i in (0, 8_724, 8_725, 30_000, 68_791):
        r = recs[i]
        assert (r.ts_recv, r.ts_event, r.order_id, r.size, r.flags, r.sequence) == (
            mbo.ts_init[i], mbo.ts_event[i], mbo.order_id[i], mbo.size[i], mbo.flags[i], mbo.sequence[i])
        assert r.price == int(mbo.price[i]) * 10**7 and str(r.action.value) == chr(mbo.action[i])


def test_events(mbo: MboColumns) -> None:
    events = mbo_events(mbo).events
    deltas = [e for e in events if isinstance(e, OrderBookDelta)]
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(deltas) == 29_216 + 17_999 + 12_233 and len(trades) == 2_973
    assert len(mbo_deltas(mbo)) == len(deltas)
    kinds: dict[BookAction, int] = {}
    for d in deltas:
        kinds[d.action] = kinds.get(d.action, 0) + 1
    assert kinds == {BookAction.ADD: 29_216, BookAction.DELETE: 17_999, BookAction.UPDATE: 12_233}
    first = deltas[0]
    assert (first.side, first.price, first.size, first.order_id) == (1, 479_900, 2, 6412777162812)
    opening = trades[0]  # the opening auction print: no aggressor
    assert (opening.price, opening.size, opening.aggressor, opening.ts_event) == (480_025, 44, AggressorSide.NONE, OPEN_NS)
    tc = mbo_trades(mbo)
    assert len(tc) == 2_973 and int(tc.size.sum()) == 9_892
    assert {int(a) for a in np.unique(tc.aggressor)} == {-1, 0, 1}
    assert tc.to_events(0, 1)[0] == opening
    ts = np.array([e.ts_init for e in events])
    assert (np.diff(ts) >= 0).all()


def test_book_replay(mbo: MboColumns) -> None:
    book = MboBook()
    snapshot_end = int((mbo.flags & F_SNAPSHOT != 0).sum())
    for i in range(snapshot_end):
        book.apply(int(mbo.action[i]), int(mbo.side[i]), int(mbo.price[i]), int(mbo.size[i]), int(mbo.order_id[i]))
    assert len(book) == 8_725
    book.check_invariant()

    book = MboBook()
    crossed_pre_open, checked_after_open = 0, 0
    last_crossed_ts = 0
    for i, b in replay_book(mbo, book):
        bid, ask = b.best_bid(), b.best_ask()
        assert bid is not None and ask is not None
        if mbo.ts_event[i] < OPEN_NS:
            if bid[0] >= ask[0]:
                crossed_pre_open += 1
                last_crossed_ts = int(mbo.ts_event[i])
        else:
            # From the opening trade on, the book is strictly uncrossed (never locked) after each event.
            assert bid[0] < ask[0], f"row {i}: bid {bid} ask {ask}"
            checked_after_open += 1
        if i % 5_000 == 0:
            b.check_invariant()
    # The pre-open lets orders cross (no matching until the auction): observed in the data.
    assert crossed_pre_open == 891 and last_crossed_ts < OPEN_NS
    assert checked_after_open > 40_000
    book.check_invariant()  # every order size positive, levels consistent
    assert len(book) == 11_217
    assert all(size > 0 for _, _, size in book.orders.values())


def test_book_refuses_negative_sizes() -> None:
    book = MboBook()
    book.add(1, 1, 100, 5)
    with pytest.raises(MboBookError, match="cancel of 6 but 5 rests"):
        book.cancel(1, 6)
    with pytest.raises(MboBookError, match="unknown order"):
        book.cancel(2, 1)
    with pytest.raises(MboBookError, match="added twice"):
        book.add(1, 1, 100, 1)
    book.cancel(1, 2)
    assert book.best_bid() == (100, 3)
    book.modify(1, 1, 101, 4)
    assert book.best_bid() == (101, 4) and book.bids == {101: 4}
    book.add(2, -1, 103, 1)
    book.cancel(1, 4)
    assert book.best_bid() is None and book.best_ask() == (103, 1) and len(book) == 1
    book.check_invariant()


def test_snapshot_restarts_the_book(mbo: MboColumns) -> None:
    """A second snapshot block clears the book first (replayed twice, the book is the same)."""
    n = 9_000
    twice = mbo.take(np.concatenate([np.arange(n), np.arange(8_725)]))
    a, b = MboBook(), MboBook()
    for _ in replay_book(mbo.take(np.arange(8_725)), a):
        pass
    for _ in replay_book(twice, b):
        pass
    assert b.orders == a.orders


# ------------------------------------------------------------------------------------------
# Corrupt input
# ------------------------------------------------------------------------------------------

META = 206
REC = MBO_DTYPE.itemsize


def _small(raw_dbn: bytes, n: int = 300) -> bytes:
    return raw_dbn[: META + REC * n]


def test_truncated_file(raw_dbn: bytes, es: Instrument) -> None:
    data = _small(raw_dbn)[:-10]
    with pytest.raises(BadRecordError, match="truncated") as exc:
        decode_dbn_mbo(data, instrument=es, source="x.dbn")
    assert (exc.value.record, exc.value.unit) == (299, "record")
    cols, bad = decode_dbn_mbo(data, instrument=es, policy=Q)
    assert len(cols) == 299 and len(bad) == 1 and bad[0].field == "<record>"
    with pytest.raises(BadRecordError, match="truncated metadata"):
        decode_dbn_mbo(raw_dbn[:100], instrument=es)
    with pytest.raises(BadRecordError, match="not a DBN stream"):
        decode_dbn_mbo(b"", instrument=es)
    compressed = DBN.read_bytes()
    with pytest.raises(BadRecordError, match=r"zstd|truncated|DBN"):
        decode_dbn_mbo(compressed[: len(compressed) // 2], instrument=es)


def test_corrupt_fields_are_named(raw_dbn: bytes, es: Instrument) -> None:
    data = bytearray(_small(raw_dbn))
    off = META + REC * 10
    data[off + 1] = 0x15  # rtype of record 10
    data[META + REC * 20 + 38] = ord("X")  # action of record 20
    price_off = META + REC * 30 + 24
    data[price_off:price_off + 8] = (4_800_100_000_000).to_bytes(8, "little", signed=True)  # 4800.10: off tick
    with pytest.raises(BadRecordError) as exc:
        decode_dbn_mbo(bytes(data), instrument=es, source="bad.dbn")
    assert (exc.value.source, exc.value.record, exc.value.field) == ("bad.dbn", 10, "rtype")
    cols, bad = decode_dbn_mbo(bytes(data), instrument=es, policy=Q)
    assert [(b.record, b.field) for b in bad] == [(10, "rtype"), (20, "action"), (30, "price")]
    assert "off the tick grid" in bad[2].reason and len(cols) == 297
    assert 10 not in cols.record.tolist()


def _decode_or_clear_error(data: bytes, es: Instrument) -> None:
    for policy in (BadRecordPolicy.RAISE, Q):
        try:
            cols, bad = decode_dbn_mbo(data, instrument=es, policy=policy)
        except BadRecordError as exc:
            assert str(exc)
            continue
        assert all(isinstance(b.record, int) and b.reason for b in bad)
        assert (np.diff(cols.ts_init) >= 0).all() and (cols.price % es.tick_size_raw == 0).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_corrupt_and_truncated_bytes(raw_dbn: bytes, es: Instrument, data: st.DataObject) -> None:
    """Random truncation and byte flips (in the DBN or in the zstd layer): a result or a clear error."""
    base = _small(raw_dbn, 200)
    compressed = data.draw(st.booleans())
    blob = bytearray(zstandard.ZstdCompressor(level=1).compress(base) if compressed else base)
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    _decode_or_clear_error(bytes(blob[:cut]), es)


def test_fuzz_every_header_byte(raw_dbn: bytes, es: Instrument) -> None:
    """Each byte of the metadata and of the first record set to 0x00 and 0xFF in turn."""
    base = _small(raw_dbn, 5)
    for i in range(META + REC):
        for v in (0x00, 0xFF):
            blob = bytearray(base)
            blob[i] = v
            _decode_or_clear_error(bytes(blob), es)
