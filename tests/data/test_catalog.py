"""The historical data catalog on the repository's real data: exact round trips, partitioning,
idempotent re-import, bounded streaming, SQL, and a backtest replayed from the catalog that gives
exactly the in-memory run's fills and equity."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
from tradeforge.data.book_import import load_dbn, load_lobster
from tradeforge.data.catalog import Catalog, CatalogError
from tradeforge.data.catalog_stream import CatalogStream
from tradeforge.data.columns import BarColumns, BookDeltaColumns, QuoteColumns, TradeColumns
from tradeforge.data.databento import load_dbn_mbo, mbo_deltas
from tradeforge.data.errors import BadRecordPolicy
from tradeforge.data.loaders import load_csv_bars, load_parquet_quotes, load_parquet_trades
from tradeforge.model.data import OrderBookDelta
from tradeforge.model.enums import BookAction
from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict
from tradeforge.model.timeutil import NANOS_PER_DAY, parse_timestamp_ns
from tradeforge.strategy.base import Strategy
from tradeforge.strategy.library.sma_cross import SmaCrossover
from tradeforge.venues.fees import BpsFee, PerUnitFee
from tradeforge.venues.simulated import SimulatedVenueConfig

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
EURO = DATA / "intraday" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
SP500 = DATA / "daily" / "all_stocks_5yr.csv.gz"
QUOTES = DATA / "ticks" / "binance_btcusdt-quotes-20210108.parquet"
TRADES = DATA / "ticks" / "binance_btcusdt-trades-20210108.parquet"
MBO = DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
LOBSTER = DATA / "l3" / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"
EURO_ID, BTC_ID, ES_ID = "6EH4.XCME", "BTCUSDT.BINANCE", "ESH4.GLBX"
MIN = 60 * 10**9


@pytest.fixture(scope="module")
def others() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "futures_fx_crypto.toml")


@pytest.fixture(scope="module")
def sp500() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "sp500.toml")


@pytest.fixture(scope="module")
def euro(others: InstrumentProvider) -> BarColumns:
    bars, bad = load_csv_bars(EURO, instruments=others, instrument_id=EURO_ID, timestamp_column="timestamp_utc",
                              interval_ns=MIN)
    assert not bad
    return bars[0]


@pytest.fixture(scope="module")
def quotes(others: InstrumentProvider) -> QuoteColumns:
    return load_parquet_quotes(QUOTES, instrument_id=BTC_ID, instruments=others)[0]


@pytest.fixture(scope="module")
def trades(others: InstrumentProvider) -> TradeColumns:
    return load_parquet_trades(TRADES, instrument_id=BTC_ID, instruments=others)[0]


@pytest.fixture(scope="module")
def sp500_bars(sp500: InstrumentProvider) -> list[BarColumns]:
    bars, bad = load_csv_bars(
        SP500, instruments=sp500, symbol_column="Name", venue="XNYS", timestamp_column="date",
        timezone="America/New_York", session_close="16:00", interval_ns=NANOS_PER_DAY,
        policy=BadRecordPolicy.QUARANTINE,
    )
    assert len(bad) == 23
    return bars


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory, others: InstrumentProvider, euro: BarColumns,
            quotes: QuoteColumns, trades: TradeColumns) -> Catalog:
    cat = Catalog(tmp_path_factory.mktemp("catalog"))
    cat.write([euro, quotes, trades], others)
    return cat


def _fields(cols) -> dict[str, np.ndarray]:
    return cols._arrays()


def _assert_same(a, b) -> None:
    assert type(a) is type(b) and a.instrument_id == b.instrument_id
    fa, fb = _fields(a), _fields(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        assert fa[name].dtype == fb[name].dtype, name
        assert np.array_equal(fa[name], fb[name]), name
    if isinstance(a, BarColumns):
        assert a.interval_ns == b.interval_ns


# ------------------------------------------------------------------------------------------
# Round trips and layout
# ------------------------------------------------------------------------------------------


def test_round_trip_is_exact_for_bars_quotes_trades(catalog: Catalog, euro, quotes, trades) -> None:
    _assert_same(catalog.read_all("bars", EURO_ID), euro)
    _assert_same(catalog.read_all("quote", BTC_ID), quotes)
    _assert_same(catalog.read_all("trades", BTC_ID), trades)


@pytest.fixture(scope="module")
def sp500_catalog(tmp_path_factory: pytest.TempPathFactory, sp500, sp500_bars) -> Catalog:
    cat = Catalog(tmp_path_factory.mktemp("sp500"))
    summary = cat.write(sp500_bars, sp500)
    assert summary.rows == sum(len(b) for b in sp500_bars) == 619_040 - 23
    assert len(summary.partitions) == len(cat.files("bars"))
    return cat


def test_round_trip_of_sp500_many_instruments(sp500_catalog: Catalog, sp500_bars) -> None:
    cat, tmp_path = sp500_catalog, sp500_catalog.root
    for b in (sp500_bars[0], sp500_bars[250], sp500_bars[-1]):
        _assert_same(cat.read_all("bars", b.instrument_id), b)
    entries = cat.list()
    assert len(entries) == 505 and {e.granularity for e in entries} == {"year"}  # daily bars: a file per year
    aapl = next(e for e in entries if e.instrument_id == "AAPL.XNYS")
    assert (aapl.rows, aapl.files) == (1259, 6)
    assert sorted(p.name for p in (tmp_path / "bars" / "AAPL.XNYS").iterdir()) == [
        f"date={y}" for y in range(2013, 2019)]


def test_partitioned_by_utc_date_with_metadata(catalog: Catalog, euro: BarColumns, others) -> None:
    base = catalog.root / "bars" / EURO_ID
    days = sorted(p.name for p in base.iterdir())
    expected = sorted({f"date={np.datetime64(int(d), 'D')}" for d in np.unique(euro.ts_init // NANOS_PER_DAY)})
    assert days == expected and days[0] == "date=2024-01-01" and len(days) == 27
    for d in days:
        assert [f.name for f in (base / d).iterdir()] == ["part-0.parquet"]
        ts = pq.read_table(base / d / "part-0.parquet", columns=["ts_init"]).column(0).to_numpy()
        assert np.all(ts // NANOS_PER_DAY == np.datetime64(d[5:], "D").astype(np.int64))
    schema = pq.read_schema(base / days[3] / "part-0.parquet")
    assert schema.metadata[b"price_precision"] == b"5" and schema.metadata[b"size_precision"] == b"0"
    meta = json.loads(schema.metadata[b"tradeforge"])
    assert meta["kind"] == "bars" and meta["interval_ns"] == MIN and meta["instrument"]["multiplier"] == 125_000
    assert [schema.field(n).type for n in ("ts_event", "ts_init", "open", "volume")] == ["int64"] * 4
    (inst,) = [ci for ci in catalog.instruments() if ci.instrument_id == EURO_ID]
    assert inst.instrument == others.get(EURO_ID) and inst.kinds == ("bars",)
    assert (inst.price_precision, inst.size_precision) == (5, 0)


def test_list_gives_first_last_rows_files(catalog: Catalog, euro, quotes, trades) -> None:
    got = {(e.kind, e.instrument_id): e for e in catalog.list()}
    assert set(got) == {("bars", EURO_ID), ("quotes", BTC_ID), ("trades", BTC_ID)}
    for key, cols in ((("bars", EURO_ID), euro), (("quotes", BTC_ID), quotes), (("trades", BTC_ID), trades)):
        e = got[key]
        assert (e.rows, e.first_ts, e.last_ts) == (len(cols), int(cols.ts_init[0]), int(cols.ts_init[-1]))
    assert got[("bars", EURO_ID)].files == 27 and got[("quotes", BTC_ID)].files == 1


def test_reimport_replaces_never_duplicates(tmp_path: Path, others, euro: BarColumns) -> None:
    cat = Catalog(tmp_path)
    cat.write(euro, others)
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    before = {p: (tmp_path / p).read_bytes() for p in files}
    cat.write(euro, others)  # the same import again
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == files
    assert all((tmp_path / p).read_bytes() == b for p, b in before.items())  # byte-identical
    assert cat.list()[0].rows == len(euro)
    # re-import of one day with changed data replaces only that day's partition
    day = euro.ts_init // NANOS_PER_DAY
    sel = day == day[5000]
    one = BarColumns(EURO_ID, euro.ts_event[sel], euro.ts_init[sel], euro.open[sel], euro.high[sel],
                     euro.low[sel], euro.close[sel], euro.volume[sel] + 1, MIN)
    cat.write(one, others)
    back = cat.read_all("bars", EURO_ID)
    assert len(back) == len(euro)
    assert np.array_equal(back.volume, np.where(sel, euro.volume + 1, euro.volume))
    # precision and granularity are fixed per series
    coarse = instrument_from_dict({"id": EURO_ID, "kind": "future", "currency": "USD", "tick_size": "0.0001",
                                   "lot_size": "1", "expiry": "2024-03-18"}, "t")
    with pytest.raises(CatalogError, match="precision"):
        cat.write(one, coarse)
    with pytest.raises(CatalogError, match="partitioned by day"):
        cat.write(one, others, partition="month")


def test_time_window_and_count(catalog: Catalog, euro: BarColumns) -> None:
    start, end = parse_timestamp_ns("2024-01-10T13:30"), parse_timestamp_ns("2024-01-17")
    want = (euro.ts_init >= start) & (euro.ts_init < end)
    got = catalog.read_all("bars", EURO_ID, start, end)
    assert np.array_equal(got.ts_init, euro.ts_init[want]) and np.array_equal(got.close, euro.close[want])
    n, first, last = catalog.count("bars", EURO_ID, start, end)
    assert (n, first, last) == (int(want.sum()), int(euro.ts_init[want][0]), int(euro.ts_init[want][-1]))
    assert catalog.count("bars", EURO_ID, end_ns=0) == (0, None, None)
    assert len(catalog.read_all("bars", EURO_ID, end_ns=0)) == 0


def test_read_streams_in_bounded_chunks(catalog: Catalog, euro: BarColumns) -> None:
    for batch in (5, 777, 4096):
        chunks = list(catalog.read("bars", EURO_ID, batch_size=batch))
        assert all(0 < len(c) <= batch for c in chunks)
        assert sum(len(c) for c in chunks) == len(euro)
        assert np.array_equal(np.concatenate([c.open for c in chunks]), euro.open)
    assert len(list(catalog.read("bars", EURO_ID, batch_size=100))) >= len(euro) // 100
    # one row group per batch in the files, so reading never needs more than a batch
    f = catalog.files("bars", EURO_ID)[0]
    assert pq.ParquetFile(f).metadata.row_group(0).num_rows <= 65_536


def test_read_is_lazy(catalog: Catalog) -> None:
    it = catalog.read("bars", EURO_ID, batch_size=10)
    first = next(it)
    assert len(first) == 10  # nothing else was read
    it.close()


def test_catalog_stream_chunks_never_split_a_timestamp(tmp_path: Path, others) -> None:
    inst = others.get(BTC_ID)
    ts = np.repeat(np.arange(1, 41, dtype=np.int64) * 10**9, 7)  # 7 quotes per timestamp
    px = np.full(len(ts), 100_000, dtype=np.int64)
    q = QuoteColumns(BTC_ID, ts, ts, px, px + 1, px, px)
    cat = Catalog(tmp_path)
    cat.write(q, inst, batch_size=5)
    stream = CatalogStream(cat, "quotes", BTC_ID, "t", chunk_size=5)
    chunks = list(stream.chunks())
    assert len(stream) == len(ts) and int(stream.columns.ts_init[0]) == 10**9
    assert sum(len(c.events) for c in chunks) == len(ts)
    assert np.array_equal(np.concatenate([c.ts for c in chunks]), ts)
    for a, b in itertools.pairwise(chunks):
        assert a.ts[-1] < b.ts[0]
    for c in chunks:
        assert [e.ts_init for e in c.events] == c.ts.tolist()


def test_unsupported_input_is_refused(tmp_path: Path, others) -> None:
    from tradeforge.data.columns import EventList

    with pytest.raises(CatalogError, match="EventList"):
        Catalog(tmp_path).write(EventList.of([]), others)
    with pytest.raises(CatalogError, match="unknown data kind"):
        list(Catalog(tmp_path).read("books", EURO_ID))


# ------------------------------------------------------------------------------------------
# SQL
# ------------------------------------------------------------------------------------------


def test_duckdb_query_counts_and_min_max(catalog: Catalog, euro, quotes, trades) -> None:
    t = catalog.query("SELECT instrument_id, count(*) AS n FROM bars GROUP BY 1").to_pylist()
    assert t == [{"instrument_id": EURO_ID, "n": len(euro)}]
    t = catalog.query(f"SELECT min(low) AS lo, max(high) AS hi, min(ts_init) AS t0 FROM bars "
                      f"WHERE instrument_id = '{EURO_ID}'").to_pylist()[0]
    assert t == {"lo": int(euro.low.min()), "hi": int(euro.high.max()), "t0": int(euro.ts_init[0])}
    n = catalog.query("SELECT (SELECT count(*) FROM quotes) AS q, (SELECT count(*) FROM trades) AS t").to_pylist()
    assert n == [{"q": len(quotes), "t": len(trades)}]
    vw = catalog.query("SELECT sum(price * size) AS s FROM trades WHERE aggressor = 1").column(0)[0].as_py()
    assert vw == int((trades.price * trades.size)[trades.aggressor == 1].sum())
    px = catalog.query("SELECT max(b.high) / 10 ^ i.price_precision AS hi FROM bars b JOIN instruments i "
                       "USING (instrument_id) GROUP BY i.price_precision").column(0)[0].as_py()
    assert px == pytest.approx(euro.high.max() / 1e5)
    assert catalog.query("SELECT count(*) AS n FROM bars WHERE instrument_id = ?", [BTC_ID]).to_pylist() == [{"n": 0}]


def test_duckdb_counts_per_instrument_over_sp500(sp500_catalog: Catalog, sp500_bars) -> None:
    cat = sp500_catalog
    got = {r["instrument_id"]: r["n"] for r in
           cat.query("SELECT instrument_id, count(*) AS n FROM bars GROUP BY 1").to_pylist()}
    assert got == {b.instrument_id: len(b) for b in sp500_bars} and len(got) == 505
    row = cat.query("SELECT min(close) AS lo, max(close) AS hi FROM bars WHERE instrument_id = 'AAPL.XNYS'")
    aapl = next(b for b in sp500_bars if b.instrument_id == "AAPL.XNYS")
    assert row.to_pylist() == [{"lo": int(aapl.close.min()), "hi": int(aapl.close.max())}]


# ------------------------------------------------------------------------------------------
# Replay from the catalog
# ------------------------------------------------------------------------------------------


def _euro_engine(others: InstrumentProvider, chunk_size: int = 65_536) -> BacktestEngine:
    engine = BacktestEngine(others, "USD", 100_000 * 10**9, chunk_size=chunk_size, check_invariant=False)
    engine.add_venue(SimulatedVenueConfig("XCME", 0.25), PerUnitFee(1_250_000_000))
    engine.add_strategy(SmaCrossover("sma", {"instruments": [EURO_ID], "fast": 10, "slow": 30, "quantity": 2}))
    return engine


def _outcome(result) -> tuple:
    fills = [(f.ts_event, f.side.name, f.last_px, f.last_qty, f.commission) for f in result.fills]
    return fills, list(result.curve.ts), list(result.curve.equity), result.portfolio.equity()


def test_replay_from_catalog_matches_in_memory(catalog: Catalog, others, euro: BarColumns) -> None:
    mem = _euro_engine(others)
    mem.add_data(euro)
    expected = _outcome(mem.run())
    assert len(expected[0]) > 100
    for chunk in (65_536, 1000, 37):  # several batches per partition, and batches that cut partitions
        engine = _euro_engine(others, chunk)
        stream = engine.add_catalog(catalog, "bars", EURO_ID)
        assert len(stream) == len(euro) and stream.topic == f"data.bars.{EURO_ID}"
        assert _outcome(engine.run()) == expected


def test_replay_window_matches_in_memory_window(catalog: Catalog, others, euro: BarColumns) -> None:
    start, end = "2024-01-08", "2024-01-20T12:00"
    lo, hi = parse_timestamp_ns(start), parse_timestamp_ns(end)
    sel = (euro.ts_init >= lo) & (euro.ts_init < hi)
    mem = _euro_engine(others)
    mem.add_data(BarColumns(EURO_ID, *(getattr(euro, n)[sel] for n in
                                       ("ts_event", "ts_init", "open", "high", "low", "close", "volume")), MIN))
    engine = _euro_engine(others, 500)
    engine.add_catalog(catalog.root, "bars", EURO_ID, start, end)
    assert _outcome(engine.run()) == _outcome(mem.run())


def test_replay_of_merged_quotes_and_trades(catalog: Catalog, others, quotes, trades) -> None:
    cls = load_strategy_class("strategies/quote_mean_reversion.py:QuoteMeanReversion", ROOT / "examples")
    params = {"instrument": BTC_ID, "ema": 20, "entry_bps": 2, "take_profit_bps": 4, "stop_bps": 6,
              "quantity": "0.05"}

    def engine(chunk: int) -> BacktestEngine:
        e = BacktestEngine(others, "USDT", 100_000 * 10**9, chunk_size=chunk)
        e.add_venue(SimulatedVenueConfig("BINANCE"), BpsFee(1.0, 1.0))
        e.add_strategy(cls("mr", dict(params)))
        return e

    mem = engine(65_536)
    mem.add_data(quotes)
    mem.add_data(trades)
    expected = _outcome(mem.run())
    for chunk in (65_536, 50, 7):
        e = engine(chunk)
        e.add_catalog(catalog, "quotes", BTC_ID)
        e.add_catalog(catalog, "trades", BTC_ID)
        assert _outcome(e.run()) == expected


def test_replay_refuses_a_precision_mismatch(catalog: Catalog) -> None:
    coarse = instrument_from_dict({"id": EURO_ID, "kind": "future", "currency": "USD", "tick_size": "0.0001",
                                   "lot_size": "1", "expiry": "2024-03-18"}, "t")
    engine = BacktestEngine(InstrumentProvider([coarse]), "USD", 10**14)
    engine.add_venue(SimulatedVenueConfig("XCME"))
    with pytest.raises(CatalogError, match="precision"):
        engine.add_catalog(catalog, "bars", EURO_ID)


def test_catalog_instruments_are_enough_to_replay(catalog: Catalog, others, euro: BarColumns) -> None:
    provider = catalog.instrument_provider()
    assert provider.get(EURO_ID) == others.get(EURO_ID) and provider.get(BTC_ID) == others.get(BTC_ID)


# ------------------------------------------------------------------------------------------
# Book deltas (kind "book")
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cme() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "cme_mbo.toml")


@pytest.fixture(scope="module")
def es_deltas(cme: InstrumentProvider) -> list[OrderBookDelta]:
    cols, bad = load_dbn_mbo(MBO, instrument=cme.get(ES_ID))
    assert not bad
    return mbo_deltas(cols).events  # type: ignore[return-value]


@pytest.fixture(scope="module")
def book_catalog(tmp_path_factory: pytest.TempPathFactory, cme: InstrumentProvider, es_deltas) -> Catalog:
    cat = Catalog(tmp_path_factory.mktemp("book"))
    cat.write(BookDeltaColumns.from_events(es_deltas), cme)
    return cat


def test_book_round_trip_is_exact(book_catalog: Catalog, es_deltas: list[OrderBookDelta]) -> None:
    cols = BookDeltaColumns.from_events(es_deltas)
    assert len(cols) == len(es_deltas) == 59_448
    assert cols.action.dtype == np.int8 and cols.side.dtype == np.int8
    _assert_same(book_catalog.read_all("book", ES_ID), cols)
    # chunked reads hand out the same events, in order (L3: order ids and the venue's sequence kept)
    back = [e for c in book_catalog.read("book", ES_ID, batch_size=10_000) for e in c.to_events(0, len(c))]
    assert back == es_deltas
    assert {d.action for d in back} == {BookAction.ADD, BookAction.UPDATE, BookAction.DELETE}
    schema = pq.read_schema(book_catalog.files("book", ES_ID)[0])
    assert str(schema.field("action").type) == "int8" and str(schema.field("order_id").type) == "int64"
    (entry,) = book_catalog.list()
    assert (entry.kind, entry.instrument_id, entry.rows, entry.granularity) == ("book", ES_ID, 59_448, "day")
    q = book_catalog.query("SELECT action, count(*) AS n, min(price) AS lo FROM book GROUP BY 1 ORDER BY 1")
    counts = {r["action"]: r["n"] for r in q.to_pylist()}
    assert counts == {a: sum(1 for d in es_deltas if d.action == a) for a in (1, 2, 3)}


def test_book_write_refuses_bad_action_codes(tmp_path: Path, cme: InstrumentProvider) -> None:
    z = np.zeros(2, np.int64)
    bad = BookDeltaColumns(ES_ID, z, z, np.array([1, 9], np.int8), np.array([1, -1], np.int8), z, z, z, z)
    with pytest.raises(CatalogError, match="action"):
        Catalog(tmp_path).write(bad, cme)


class BookRecorder(Strategy):
    def on_start(self) -> None:
        self.seen: list[OrderBookDelta] = []
        self.subscribe_book(ES_ID)

    def on_book(self, book) -> None:
        assert book.ts_init == self.clock.timestamp_ns()
        self.seen.append(book)


def test_replay_of_book_deltas_reaches_on_book_in_order(book_catalog: Catalog, cme, es_deltas) -> None:
    engine = BacktestEngine(cme, "USD", 10**15, chunk_size=4_096)  # no venue: book data is for strategies
    stream = engine.add_catalog(book_catalog, "book", ES_ID)
    assert stream.topic == f"data.book.{ES_ID}" and len(stream) == len(es_deltas)
    strat = BookRecorder("book")
    engine.add_strategy(strat)
    engine.run()
    assert strat.seen == es_deltas


def test_lobster_level_deltas_rebuild_the_orderbook_file(tmp_path: Path) -> None:
    """The L2 deltas imported from LOBSTER (the book's changes plus the touch levels taken from the
    orderbook file) give the file's level one after every message, read back from the catalog."""
    from tradeforge.data.lobster import read_lobster_orderbook

    provider = InstrumentProvider.from_toml(DATA / "instruments" / "l3.toml")
    loaded = load_lobster(LOBSTER, provider)
    assert [(c.kind, len(c)) for c in loaded.columns] == [("trade", 8_974 + 2_445), ("book", 66_042), ("quote", 55_071)]
    cat = Catalog(tmp_path)
    cat.write(loaded.columns, provider)
    book = cat.read_all("book", "AMZN.XNAS")
    ob, _ = read_lobster_orderbook(str(LOBSTER).replace("_message_", "_orderbook_"))
    levels: dict[int, dict[int, int]] = {1: {}, -1: {}}
    seq, act, side, px, sz = (a.tolist() for a in (book.sequence, book.action, book.side, book.price, book.size))
    j, bad = 0, 0
    for i in range(len(ob)):
        while j < len(seq) and seq[j] == i + 1:  # sequence = the message's line
            if act[j] == BookAction.DELETE:
                levels[side[j]].pop(px[j])
            else:
                levels[side[j]][px[j]] = sz[j]
            j += 1
        bid = max(levels[1], default=None)
        ask = min(levels[-1], default=None)
        got = (bid or 0, levels[1].get(bid, 0), ask or 0, levels[-1].get(ask, 0))
        want = (ob.bid_price[i, 0] if ob.bid_size[i, 0] else 0, ob.bid_size[i, 0],
                ob.ask_price[i, 0] if ob.ask_size[i, 0] else 0, ob.ask_size[i, 0])
        bad += got != want
    assert j == len(seq) and bad == 0
    quotes = cat.read_all("quotes", "AMZN.XNAS")
    assert len(quotes) > 50_000 and np.all(quotes.bid < quotes.ask)


def test_dbn_import_gives_trades_and_l3_deltas(cme: InstrumentProvider) -> None:
    loaded = load_dbn(MBO, cme, instrument_id=ES_ID)
    trades, book = loaded.columns
    assert isinstance(trades, TradeColumns) and len(trades) == 2_973 and int(trades.size.sum()) == 9_892
    assert isinstance(book, BookDeltaColumns) and len(book) == 59_448 and int((book.order_id > 0).sum()) == len(book)


# ------------------------------------------------------------------------------------------
# Benchmarks (smoke: they run, print JSON last, and cross-check)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["catalog_write", "catalog_read"])
def test_catalog_benchmarks_run(name: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", name, "--n", "200000", "--repeats", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rec["name"] == name and rec["n_events"] == 200_000 and rec["cross_check"] == "ok"
    assert {"seconds", "events_per_s", "peak_rss_mb", "baseline_seconds", "ratio_to_baseline"} <= set(rec)
