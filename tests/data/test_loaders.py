"""Loaders on the real sample data, on hand-made bad files, and on fuzzed CSVs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeforge.data.columns import BarColumns
from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars, load_csv_quotes, load_parquet_quotes, load_parquet_trades
from tradeforge.model.instruments import InstrumentError, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_MINUTE, format_timestamp_ns, parse_timestamp_ns

DATA = Path(__file__).resolve().parents[2] / "data"
SP500 = DATA / "daily" / "all_stocks_5yr.csv.gz"
EURO = DATA / "intraday" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
QUOTES = DATA / "ticks" / "binance_btcusdt-quotes-20210108.parquet"
TRADES = DATA / "ticks" / "binance_btcusdt-trades-20210108.parquet"
DAY = 86_400 * 10**9
Q = BadRecordPolicy.QUARANTINE
Bars = tuple[list[BarColumns], list[BadRecord]]

NULL_LINES = {82951, 165736, 165859, 205078, 239834, 434381, 434504, 478596, 558215, 581908, 598238}
OHLC_LINES = {
    53004: "high", 78686: "low", 113364: "low", 114652: "low", 165573: "low", 303086: "low",
    349478: "low", 434168: "low", 434218: "low", 516106: "low", 558260: "low", 598460: "low",
}


@pytest.fixture(scope="module")
def sp500() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "sp500.toml")


@pytest.fixture(scope="module")
def others() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "futures_fx_crypto.toml")


def _load_sp500(sp500: InstrumentProvider, policy: BadRecordPolicy = Q) -> Bars:
    return load_csv_bars(
        SP500, instruments=sp500, symbol_column="Name", venue="XNYS", timestamp_column="date",
        timezone="America/New_York", session_close="16:00", interval_ns=DAY, policy=policy,
    )


@pytest.fixture(scope="module")
def sp500_loaded(sp500: InstrumentProvider) -> Bars:
    return _load_sp500(sp500)


# ------------------------------------------------------------------------------------------
# Real data
# ------------------------------------------------------------------------------------------


def test_instrument_files_load(sp500: InstrumentProvider, others: InstrumentProvider) -> None:
    assert len(sp500) == 505
    aal = sp500.get("AAL.XNYS")
    assert (aal.price_precision, aal.tick_size_raw, aal.size_precision, aal.lot_size_raw) == (4, 1, 0, 1)
    assert {str(i.id) for i in others} == {"6EH4.XCME", "BTCUSDT.BINANCE", "USDJPY.FXCM", "USDJPY-ASK.FXCM",
                                           "BTC-PERP.FTX", "USDJPY.TRUEFX"}
    fut = others.get("6EH4.XCME")
    assert (fut.multiplier, fut.margin_init_bps, fut.tick_size_raw, fut.price_precision) == (125000, 300, 5, 5)
    assert fut.expiry_ns == parse_timestamp_ns("2024-03-18")


def test_sp500_counts_and_quarantine(sp500_loaded: Bars) -> None:
    bars, bad = sp500_loaded
    assert len(bars) == 505
    assert [b.instrument_id for b in bars] == sorted(b.instrument_id for b in bars)
    assert sum(len(b) for b in bars) + len(bad) == 619_040
    nulls = [b for b in bad if b.reason == "missing value"]
    assert {b.record for b in nulls} == NULL_LINES
    assert all(b.field == "open" and b.unit == "line" for b in nulls)
    assert {b.record: b.field for b in bad if b.reason != "missing value"} == OHLC_LINES
    assert len(bad) == 23
    first = next(b for b in bad if b.record == 82951)
    assert first.raw_text == "2017-07-26,,,,69.0842,3,BHF"
    assert str(first) == f"{SP500} line 82951 field 'open': missing value"
    for b in bars:
        assert np.all(np.diff(b.ts_event) > 0)
        assert np.array_equal(b.ts_event, b.ts_init)


def test_sp500_values_are_close_stamped_utc(sp500_loaded: Bars) -> None:
    bars, _ = sp500_loaded
    aal = next(b for b in bars if b.instrument_id == "AAL.XNYS")
    assert len(aal) == 1259
    # 2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL: 16:00 New York (EST) is 21:00 UTC
    assert format_timestamp_ns(int(aal.ts_event[0])) == "2013-02-08T21:00:00.000000000Z"
    assert [int(aal.open[0]), int(aal.high[0]), int(aal.low[0]), int(aal.close[0])] == [150700, 151200, 146300, 147500]
    assert int(aal.volume[0]) == 8407500
    assert aal.interval_ns == DAY
    # summer (EDT) closes are 20:00 UTC
    tod = {int(t) % DAY for b in bars for t in b.ts_event[:300]}
    assert tod == {20 * 3_600 * 10**9, 21 * 3_600 * 10**9}


def test_sp500_raise_names_file_line_and_field(sp500: InstrumentProvider) -> None:
    with pytest.raises(BadRecordError) as exc:
        _load_sp500(sp500, BadRecordPolicy.RAISE)
    err = exc.value
    assert (err.source, err.record, err.field) == (str(SP500), 53004, "high")
    assert str(err).startswith(f"{SP500} line 53004 field 'high': ")


def test_euro_future_bars(others: InstrumentProvider) -> None:
    kw = {"instruments": others, "instrument_id": "6EH4.XCME", "timestamp_column": "timestamp_utc",
          "interval_ns": NANOS_PER_MINUTE}
    (bars,), bad = load_csv_bars(EURO, **kw)
    assert bad == [] and len(bars) == 29_996
    assert format_timestamp_ns(int(bars.ts_event[0])) == "2024-01-01T23:01:00.000000000Z"
    assert int(bars.open[0]) == 110760 and int(bars.high[0]) == 110785  # 1.1076, 1.10785 at precision 5
    assert int(bars.volume[0]) == 205
    (opened,), _ = load_csv_bars(EURO, timestamp_convention="open", **kw)
    assert np.array_equal(opened.ts_event, bars.ts_event + NANOS_PER_MINUTE)


def test_binance_quotes(others: InstrumentProvider) -> None:
    quotes, bad = load_parquet_quotes(QUOTES, instrument_id="BTCUSDT.BINANCE", instruments=others)
    assert bad == [] and len(quotes) == 451
    assert format_timestamp_ns(int(quotes.ts_event[0])) == "2021-01-08T00:00:01.076000000Z"
    assert int(quotes.bid[0]) == 3943299 and int(quotes.bid_size[0]) == 3100  # 39432.99, 0.0031
    assert np.all(quotes.bid <= quotes.ask)


def test_binance_trades_and_aggressor(others: InstrumentProvider) -> None:
    trades, bad = load_parquet_trades(TRADES, instrument_id="BTCUSDT.BINANCE", instruments=others)
    assert bad == [] and len(trades) == 2_001
    # first print: 39432.48 x 0.000263, buyer_maker "True" -> the seller aggressed
    assert (int(trades.price[0]), int(trades.size[0]), int(trades.aggressor[0])) == (3943248, 263, -1)
    assert int(trades.aggressor[1]) == 1 and int(trades.trade_id[0]) == 553287559
    maker = pq.read_table(TRADES).column("buyer_maker").to_pylist()
    assert trades.aggressor.tolist() == [-1 if m == "True" else 1 for m in maker]
    assert format_timestamp_ns(int(trades.ts_event[-1])) == "2021-01-08T00:00:46.355000000Z"


# ------------------------------------------------------------------------------------------
# Hand-made bad files
# ------------------------------------------------------------------------------------------

HEADER = "timestamp,open,high,low,close,volume"
GOOD_ROWS = [
    "2024-01-02 10:00:00,1.10000,1.10010,1.09990,1.10005,10",
    "2024-01-02 10:01:00,1.10005,1.10020,1.10000,1.10010,12",
    "2024-01-02 10:02:00,1.10010,1.10015,1.10005,1.10010,0",
]


def _write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _bars(path: Path, others: InstrumentProvider, **kw: Any) -> Bars:
    return load_csv_bars(path, instruments=others, instrument_id="6EH4.XCME", interval_ns=NANOS_PER_MINUTE, **kw)


def test_off_tick_price_names_field(tmp_path: Path, others: InstrumentProvider) -> None:
    rows = [*GOOD_ROWS[:2], "2024-01-02 10:02:00,1.10010,1.10013,1.10005,1.10010,0"]
    with pytest.raises(BadRecordError) as exc:
        _bars(_write(tmp_path, rows), others)
    assert (exc.value.record, exc.value.field) == (4, "high")
    assert "off the tick grid 0.00005" in exc.value.reason


def test_too_many_decimals_and_bad_numbers(tmp_path: Path, others: InstrumentProvider) -> None:
    rows = [
        "2024-01-02 10:00:00,1.100001,1.10010,1.09990,1.10005,10",
        "2024-01-02 10:01:00,1.10005,abc,1.10000,1.10010,12",
        "2024-01-02 10:02:00,1.10010,1.10015,1.10005,-1.10010,0",
        "2024-01-02 10:03:00,1.10010,1.10015,1.10005,1.10010,-3",
        "2024-01-02 10:04:00,1.10010,1.10015,1.10005,1.10010,2.5",
        "2024-01-02 10:05:00,1.10010,1.10015,1.10005,1.10010",
        "2024-13-02 10:06:00,1.10010,1.10015,1.10005,1.10010,1",
        "2024-01-02 10:07:00,1.10010,1.10015,1.10005,1.10010,1",
    ]
    (bars,), bad = _bars(_write(tmp_path, rows), others, policy=Q)
    assert len(bars) == 1
    assert [(b.record, b.field) for b in bad] == [
        (2, "open"), (3, "high"), (4, "close"), (5, "volume"), (6, "volume"), (7, "<row>"), (8, "timestamp"),
    ]
    assert "more than 5 decimal places" in bad[0].reason
    assert bad[1].reason == "not a number"
    assert "non-positive" in bad[2].reason and "negative" in bad[3].reason
    assert "more than 0 decimal places" in bad[4].reason
    assert bad[5].reason == "expected 6 fields, found 5"
    assert bad[6].raw_text == rows[6]


def test_decreasing_timestamps(tmp_path: Path, others: InstrumentProvider) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[1]]
    with pytest.raises(BadRecordError) as exc:
        _bars(_write(tmp_path, rows), others)
    assert (exc.value.record, exc.value.field) == (4, "timestamp")
    assert "is not after the previous record's" in exc.value.reason
    (bars,), bad = _bars(_write(tmp_path, [*GOOD_ROWS, GOOD_ROWS[2]]), others, policy=Q)
    assert len(bars) == 3 and [b.record for b in bad] == [5]  # duplicates are bad for bars


def test_unknown_instrument_is_a_clear_error(tmp_path: Path, sp500: InstrumentProvider) -> None:
    path = _write(tmp_path, ["2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL",
                             "2013-02-08,1.0,1.0,1.0,1.0,1,NOPE"], header="date,open,high,low,close,volume,Name")
    kw = {"instruments": sp500, "symbol_column": "Name", "venue": "XNYS", "timestamp_column": "date",
          "session_close": "16:00", "timezone": "America/New_York", "interval_ns": DAY}
    for policy in BadRecordPolicy:
        with pytest.raises(BadRecordError) as exc:
            load_csv_bars(path, policy=policy, **kw)
        assert (exc.value.record, exc.value.field) == (3, "Name")
        assert "unknown instrument 'NOPE.XNYS'" in str(exc.value) and str(path) in str(exc.value)
    with pytest.raises(InstrumentError, match=r"bars\.csv.*'ZZZ\.XNYS'"):
        load_csv_bars(path, instruments=sp500, instrument_id="ZZZ.XNYS", interval_ns=DAY, timestamp_column="date",
                      session_close="16:00")


def test_missing_column_and_date_without_session_close(tmp_path: Path, others: InstrumentProvider) -> None:
    with pytest.raises(BadRecordError) as exc:
        _bars(_write(tmp_path, GOOD_ROWS, header="time,open,high,low,close,volume"), others)
    assert (exc.value.record, exc.value.field) == (1, "timestamp")
    with pytest.raises(BadRecordError, match="session_close"):
        _bars(_write(tmp_path, ["2024-01-02,1.1,1.1,1.1,1.1,1"]), others)


def test_no_volume_column_and_local_timezone(tmp_path: Path, others: InstrumentProvider) -> None:
    rows = ["2024-07-01 09:30:00,1.1,1.1,1.1,1.1", "2024-12-02 09:30:00+00:00,1.1,1.1,1.1,1.1"]
    path = _write(tmp_path, rows, header="timestamp,open,high,low,close")
    (bars,), bad = _bars(path, others, timezone="America/New_York")
    assert bad == [] and bars.volume.tolist() == [-1, -1]
    assert [format_timestamp_ns(int(t)) for t in bars.ts_event] == [
        "2024-07-01T13:30:00.000000000Z", "2024-12-02T09:30:00.000000000Z",
    ]


def test_parquet_quote_bad_records(tmp_path: Path, others: InstrumentProvider) -> None:
    ts = pa.array([1_000, 2_000, 3_000, 500, 4_000, 5_000], pa.timestamp("ms", "UTC"))
    table = pa.table({
        "timestamp": ts,
        "bid": [100.0, 101.0, None, 100.0, 100.0, 100.001],
        "ask": [100.0, 100.5, 100.0, 100.5, 100.5, 100.5],
        "bid_size": [1.0, 1.0, 1.0, 1.0, -1.0, 1.0],
        "ask_size": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    })
    path = tmp_path / "q.parquet"
    pq.write_table(table, path)
    quotes, bad = load_parquet_quotes(path, instrument_id="BTCUSDT.BINANCE", instruments=others, policy=Q)
    assert len(quotes) == 1  # bid == ask (locked) is allowed
    assert [(b.record, b.field) for b in bad] == [(1, "bid"), (2, "bid"), (3, "timestamp"), (4, "bid_size"),
                                                  (5, "bid")]
    assert "crossed quote" in bad[0].reason and bad[0].unit == "row"
    with pytest.raises(BadRecordError, match=r"q\.parquet row 1 field 'bid': crossed quote"):
        load_parquet_quotes(path, instrument_id="BTCUSDT.BINANCE", instruments=others)


def test_csv_quotes(tmp_path: Path, others: InstrumentProvider) -> None:
    path = _write(tmp_path, ["2013-01-01 22:00:00.295000+00:00,86.655,86.728"], header="timestamp,bid,ask")
    quotes, bad = load_csv_quotes(path, instrument_id="USDJPY.FXCM", instruments=others)
    assert bad == [] and quotes.bid.tolist() == [86655] and quotes.bid_size.tolist() == [0]
    assert format_timestamp_ns(int(quotes.ts_event[0])) == "2013-01-01T22:00:00.295000000Z"


# ------------------------------------------------------------------------------------------
# Fuzzing: any input either loads or raises BadRecordError, and no row goes missing
# ------------------------------------------------------------------------------------------

MULTI_HEADER = "date,open,high,low,close,volume,Name"
MULTI_ROWS = [
    "2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL",
    "2013-02-08,67.7142,68.4014,66.8928,67.8542,158168416,AAPL",
    "2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL",
    "2013-02-11,68.0714,69.2771,67.6071,68.5614,129029425,AAPL",
]


def _data_rows(data: bytes) -> int:
    return sum(1 for line in data.splitlines()[1:] if line.strip(b" \t"))


@st.composite
def _mutated(draw: st.DrawFn, text: str) -> bytes:
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        chunk = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b",", b"\n", b"\r", b"-", b".", b"9", b" "]))
        if op == "replace":
            data[pos:pos + len(chunk)] = chunk
        elif op == "insert":
            data[pos:pos] = chunk
        else:
            del data[pos:pos + len(chunk)]
    return bytes(data)


def _check_fuzz(path: Path, data: bytes, load: Callable[[Path, BadRecordPolicy], tuple[int, list]]) -> None:
    path.write_bytes(data)
    for policy in BadRecordPolicy:
        try:
            loaded, bad = load(path, policy)
        except BadRecordError:
            continue
        assert loaded + len(bad) == _data_rows(data)
        if policy is BadRecordPolicy.RAISE:
            assert bad == []


_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(data=_mutated("\n".join([HEADER, *GOOD_ROWS]) + "\n") | st.binary(max_size=200))
def test_fuzz_single_instrument(tmp_path: Path, others: InstrumentProvider, data: bytes) -> None:
    def load(path: Path, policy: BadRecordPolicy) -> tuple[int, list]:
        (bars,), bad = _bars(path, others, policy=policy)
        return len(bars), bad

    _check_fuzz(tmp_path / "fuzz.csv", data, load)


@_FUZZ
@given(data=_mutated("\n".join([MULTI_HEADER, *MULTI_ROWS]) + "\n"))
def test_fuzz_many_instruments(tmp_path: Path, sp500: InstrumentProvider, data: bytes) -> None:
    def load(path: Path, policy: BadRecordPolicy) -> tuple[int, list]:
        bars, bad = load_csv_bars(path, instruments=sp500, symbol_column="Name", venue="XNYS",
                                  timestamp_column="date", timezone="America/New_York", session_close="16:00",
                                  interval_ns=DAY, policy=policy)
        return sum(len(b) for b in bars), bad

    _check_fuzz(tmp_path / "fuzz.csv", data, load)
