"""LOBSTER reader and book rebuild; the acceptance test replays the AMZN sample against its own
level-1 orderbook file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.data.book import BookError
from tradeforge.data.book.events import level_deltas
from tradeforge.data.errors import BadRecordError, BadRecordPolicy
from tradeforge.data.lobster import (
    read_lobster_messages,
    read_lobster_orderbook,
    rebuild_book,
    trade_columns,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "l3"
MSG = DATA / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"
OB = DATA / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz"


@pytest.fixture(scope="module")
def amzn():
    msgs, bad = read_lobster_messages(MSG)
    ob, bad_ob = read_lobster_orderbook(OB)
    assert bad == [] and bad_ob == []
    return msgs, ob


def test_reads_the_amzn_sample(amzn) -> None:
    msgs, ob = amzn
    assert len(msgs) == len(ob) == 57_515
    assert np.bincount(msgs.type).tolist() == [0, 27_845, 16, 18_235, 8_974, 2_445]
    # 34200.017459617 s after midnight, New York (EDT, UTC-4) on 2012-06-21 -> exact nanoseconds
    assert int(msgs.time_ns[0]) == 34_200_017_459_617
    assert int(msgs.ts_event[0]) == 1_340_285_400_017_459_617
    assert int(msgs.time_ns[1]) == 34_200_189_607_670  # "34200.18960767": 8 decimals
    assert msgs.line[:3].tolist() == [1, 2, 3]
    assert ob.levels == 1 and ob.ask_price[0, 0] == 2_239_500 and ob.bid_size[1, 0] == 21


def test_rebuilt_level_one_equals_lobsters_orderbook_at_every_row(amzn) -> None:
    """The acceptance test: 0 mismatches on all 57,515 rows.

    A level-1 LOBSTER file holds only the messages at level 1, so where a message empties the touch
    the next level comes from the orderbook file (a *reveal*); every other row must follow from
    the messages alone, including messages on orders that rested before 09:30.
    """
    msgs, ob = amzn
    replay = rebuild_book(msgs, ob, instrument_id="AMZN.XNAS")
    u = replay.updates
    assert len(replay.mismatches) == 0
    diff = (
        (u.ask_price != ob.ask_price[:, 0]) | (u.ask_size != ob.ask_size[:, 0])
        | (u.bid_price != ob.bid_price[:, 0]) | (u.bid_size != ob.bid_size[:, 0])
    )
    assert int(diff.sum()) == 0
    # reveals happen only where the message emptied the touch: the touch moved away (worse) ...
    r = replay.reveals
    r = r[r > 0]
    prev_ask, prev_bid = ob.ask_price[r - 1, 0], ob.bid_price[r - 1, 0]
    worse = np.where(msgs.direction[r] == -1, ob.ask_price[r, 0] > prev_ask, ob.bid_price[r, 0] < prev_bid)
    assert worse.all()
    # ... by a delete or an execution of the whole remaining level
    assert set(np.unique(msgs.type[r]).tolist()) <= {3, 4}
    assert len(replay.reveals) == 8_168
    replay.book.check_invariant()
    # every row where the best price did not change is explained by the message size alone
    same = np.flatnonzero(
        (ob.ask_price[1:, 0] == ob.ask_price[:-1, 0]) & (ob.bid_price[1:, 0] == ob.bid_price[:-1, 0])
    ) + 1
    assert not np.isin(same, replay.reveals).any()


def test_book_only_replay_and_events(amzn) -> None:
    msgs, _ = amzn
    replay = rebuild_book(msgs)  # no orderbook: unknown (pre-09:30) orders are ignored
    replay.book.check_invariant()
    assert len(replay.reveals) == 0
    deltas = level_deltas("AMZN.XNAS", replay.updates, msgs.ts_event, 0)
    assert deltas and all(d.ts_event >= msgs.ts_event[0] for d in deltas)
    trades = trade_columns(msgs, "AMZN.XNAS")
    assert len(trades) == 8_974 + 2_445
    first = trades.to_events(0, 1)[0]
    assert first.price == 2_238_200 and first.size == 1 and first.trade_id == "1"
    assert int(first.aggressor) == 1  # a hidden sell order executed: buyer-initiated


def test_level_deltas_of_a_checked_replay_show_the_orderbook_files_level_one(amzn) -> None:
    from tradeforge.data.book_import import level_delta_columns

    msgs, ob = amzn
    replay = rebuild_book(msgs, ob, instrument_id="AMZN.XNAS")
    assert len(replay.reveals) > 0
    deltas = level_deltas("AMZN.XNAS", replay.updates, msgs.ts_event, 0)
    cols = level_delta_columns("AMZN.XNAS", replay.updates, msgs.ts_event, msgs.ts_event, np.arange(len(msgs)),
                               touch=True)
    assert [(d.sequence, int(d.side), d.price, d.size, int(d.action)) for d in deltas] == list(zip(
        cols.sequence.tolist(), cols.side.tolist(), cols.price.tolist(), cols.size.tolist(), cols.action.tolist(),
        strict=True))
    levels: dict[int, dict[int, int]] = {1: {}, -1: {}}
    k, n = 0, len(deltas)
    for i in range(len(msgs)):  # after every message the book's touch is the file's level one
        while k < n and deltas[k].sequence == i:
            d = deltas[k]
            if d.size == 0:
                levels[int(d.side)].pop(d.price, None)
            else:
                levels[int(d.side)][d.price] = d.size
            k += 1
        for side, prices, sizes in ((1, ob.bid_price, ob.bid_size), (-1, ob.ask_price, ob.ask_size)):
            book = levels[side]
            if sizes[i, 0] > 0:
                best = max(book) if side == 1 else min(book)
                assert (best, book[best]) == (int(prices[i, 0]), int(sizes[i, 0])), (i, side)


def _write(tmp_path: Path, text: str, name: str = "X_2012-06-21_34200000_57600000_message_1.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_lines_name_file_line_and_field(tmp_path: Path) -> None:
    good = "34200.1,1,5,10,1000000,1\n34200.2,3,5,10,1000000,1\n"
    cases = {
        "34200.1,1,5,10,1000000\n": "<row>",
        "34200.1,9,5,10,1000000,1\n": "type",
        "34200.1,1,5,-10,1000000,1\n": "size",
        "34200.1,1,5,10,abc,1\n": "price",
        "34200.1,1,5,10,1000000,2\n": "direction",
        "34200.1234567891,1,5,10,1000000,1\n": "time",
        "34199.0,1,5,10,1000000,1\n": "time",  # goes back in time
        "34200.1,1,0,10,1000000,1\n": "order_id",
        "34200.1,7,0,0,5,-1\n": "price",
        "\n": "<row>",
    }
    for line, field in cases.items():
        p = _write(tmp_path, good + line)
        with pytest.raises(BadRecordError) as exc:
            read_lobster_messages(p)
        assert exc.value.record == 3 and exc.value.field == field, (line, exc.value)
        assert str(p) in str(exc.value)
        msgs, bad = read_lobster_messages(p, policy=BadRecordPolicy.QUARANTINE)
        assert len(msgs) == 2 and [b.record for b in bad] == [3] and bad[0].field == field
    msgs, _ = read_lobster_messages(_write(tmp_path, good + "34200.3,7,0,0,-1,-1\n"))
    assert msgs.type.tolist() == [1, 3, 7]


_FIELD = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet="0123456789.-,e x\t\"", max_size=12),
    st.sampled_from(["", "1", "-1", "7", "34200.5", "0"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_FIELD, min_size=0, max_size=8).map(",".join), min_size=1, max_size=12), st.binary(max_size=20))
def test_fuzzed_message_files_raise_bad_record_or_quarantine(tmp_path: Path, lines: list[str], junk: bytes) -> None:
    p = tmp_path / "F_2012-06-21_1_2_message_1.csv"
    p.write_bytes(("\n".join(lines) + "\n").encode() + junk)
    try:
        msgs, bad = read_lobster_messages(p)
        assert bad == []
    except BadRecordError as e:
        assert e.source == str(p) and e.record >= 1
    msgs, bad = read_lobster_messages(p, policy=BadRecordPolicy.QUARANTINE)
    n_lines = len(p.read_bytes().splitlines())
    assert len(msgs) + len(bad) == n_lines
    assert sorted(msgs.line.tolist() + [b.record for b in bad]) == list(range(1, n_lines + 1))
    assert np.all(np.diff(msgs.time_ns) >= 0)
    try:  # whatever survives the checks replays, or fails as a book error (e.g. a duplicate id)
        rebuild_book(msgs)
    except BookError as e:
        assert 0 <= e.index < len(msgs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 200), st.integers(0, 5), st.binary(min_size=1, max_size=8))
def test_corrupted_sample_lines(tmp_path: Path, row: int, col: int, garbage: bytes) -> None:
    """Corrupt one field of a real line: the reader reports exactly that line (or accepts it)."""
    raw = gzip.decompress(MSG.read_bytes()).splitlines()[:201]
    fields = raw[row].split(b",")
    fields[col] = garbage
    raw[row] = b",".join(fields)
    p = tmp_path / "AMZN_2012-06-21_34200000_57600000_message_1.csv"
    p.write_bytes(b"\n".join(raw) + b"\n")
    msgs, bad = read_lobster_messages(p, policy=BadRecordPolicy.QUARANTINE)
    assert len(msgs) + len(bad) == len(p.read_bytes().splitlines())
    assert all(b.record >= row + 1 for b in bad)  # nothing before the corrupted line is blamed


def test_orderbook_reader_checks(tmp_path: Path) -> None:
    p = tmp_path / "X_2012-06-21_1_2_orderbook_1.csv"
    p.write_text("101,5,100,3\n100,5,100,3\n9999999999,0,-9999999999,0\n101,-1,100,3\n")
    with pytest.raises(BadRecordError) as exc:
        read_lobster_orderbook(p)
    assert exc.value.record == 2 and exc.value.field == "bid_price_1"
    ob, bad = read_lobster_orderbook(p, policy=BadRecordPolicy.QUARANTINE)
    assert ob.line.tolist() == [1, 3] and [(b.record, b.field) for b in bad] == [(2, "bid_price_1"), (4, "ask_size_1")]
