"""Integrity checks on the repo's real data (CME minute bars, S&P daily bars, Binance) and synthetic cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tradeforge.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeforge.data.errors import BadRecordError, BadRecordPolicy
from tradeforge.data.integrity import (
    IntegrityConfig,
    IssueKind,
    Severity,
    cme_globex_calendar,
    nyse_calendar,
    nyse_holidays,
    validate,
)
from tradeforge.data.loaders import load_csv_bars, load_parquet_quotes, load_parquet_trades
from tradeforge.model.instruments import Instrument, InstrumentProvider
from tradeforge.model.timeutil import NANOS_PER_MINUTE, parse_timestamp_ns

DATA = Path(__file__).resolve().parents[2] / "data"
Q, R = BadRecordPolicy.QUARANTINE, BadRecordPolicy.RAISE
DAY = 86_400 * 10**9
CT = ZoneInfo("America/Chicago")


@pytest.fixture(scope="module")
def others() -> InstrumentProvider:
    return InstrumentProvider.from_toml(DATA / "instruments" / "futures_fx_crypto.toml")


@pytest.fixture(scope="module")
def btc(others: InstrumentProvider) -> Instrument:
    return others.get("BTCUSDT.BINANCE")


@pytest.fixture(scope="module")
def euro(others: InstrumentProvider) -> BarColumns:
    (bars,), bad = load_csv_bars(DATA / "intraday" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
                                 instruments=others, instrument_id="6EH4.XCME", timestamp_column="timestamp_utc",
                                 interval_ns=NANOS_PER_MINUTE)
    assert bad == []
    return bars


def _ct(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, CT)


# ------------------------------------------------------------------------------------------
# Real data
# ------------------------------------------------------------------------------------------


def test_cme_minute_bars_against_globex_calendar(euro: BarColumns, others: InstrumentProvider) -> None:
    cal = cme_globex_calendar(holidays={date(2024, 1, 1)})  # New Year: no session for trade date Jan 1
    report = validate(euro, others.get("6EH4.XCME"), "6EH4", Q, cal)
    assert report.ok and report.clean is euro and report.bad == []
    assert report.count(IssueKind.OFF_SESSION) == 0  # every bar lies inside a Globex session
    runs = report.gap_runs
    assert report.count(IssueKind.GAP) == len(runs) == 353 and report.missing_bars == 423
    # expected closes from Jan 1 17:01 CT to Jan 31 17:59 CT: 22 sessions x 1,380 minutes + 59, less the data
    assert report.missing_bars == 22 * 1_380 + 59 - len(euro)
    for first, last, n in runs:
        assert (last - first) // NANOS_PER_MINUTE == n - 1
        for t in range(first, last + 1, NANOS_PER_MINUTE):
            local = _ct(t)
            # the daily 16:00-17:00 CT break and the weekend are never gaps: a missing bar closes in (17:00, 16:00]
            assert not (16 * 60 < local.hour * 60 + local.minute <= 17 * 60), local
            assert local.weekday() != 5 and not (local.weekday() == 6 and local.hour < 17)
    # a few gaps, checked by hand against the file: minutes without trades in the quiet Asian hours
    assert runs[0] == (parse_timestamp_ns("2024-01-01T23:10:00"), parse_timestamp_ns("2024-01-01T23:10:00"), 1)
    assert runs[1][0] == parse_timestamp_ns("2024-01-01T23:59:00")
    assert max(n for _, _, n in runs) < 30  # no long hole inside a session
    gap = report.of_kind(IssueKind.GAP)[0]
    assert gap.severity is Severity.WARNING and gap.record == 9 and "23:10:00" in gap.reason
    # without the holiday the calendar expects the New Year session, but the data starts after it: no effect;
    # the daily break, however, must never appear as a gap, whatever the holidays
    assert validate(euro, others.get("6EH4.XCME"), "6EH4", Q, cme_globex_calendar()).missing_bars == 423
    # The file trades through to 16:00 CT on Martin Luther King day (2024-01-15); with a 12:00 CT early
    # close in the calendar the afternoon's bars are reported as off-session (warnings, kept).
    early = cme_globex_calendar({date(2024, 1, 1)}, {date(2024, 1, 15): time(12, 0)})
    r = validate(euro, others.get("6EH4.XCME"), "6EH4", Q, early)
    off = r.of_kind(IssueKind.OFF_SESSION)
    assert len(off) == 155 and r.clean is euro
    assert all(_ct(int(euro.ts_event[i.record])).date() == date(2024, 1, 15) for i in off)


def test_sp500_daily_bars_against_nyse_calendar() -> None:
    sp = InstrumentProvider.from_toml(DATA / "instruments" / "sp500.toml")
    (bars,), bad = load_csv_bars(_aapl_file(), instruments=sp, instrument_id="AAPL.XNYS", timestamp_column="date",
                                 timezone="America/New_York", session_close="16:00", interval_ns=DAY)
    assert bad == [] and len(bars) == 1_259
    inst = sp.get("AAPL.XNYS")
    report = validate(bars, inst, "AAPL", Q, nyse_calendar())
    assert report.count(IssueKind.GAP) == 0 and report.count(IssueKind.OFF_SESSION) == 0
    assert report.ok
    # the holidays in the calendar are what makes it clean: without them every one is a "gap"
    hols = sorted(d for d in nyse_holidays(2013, 2018) if date(2013, 2, 8) <= d <= date(2018, 2, 7) and d.weekday() < 5)
    bare = validate(bars, inst, "AAPL", Q, nyse_calendar(holidays=set()))
    assert bare.missing_bars == len(hols) == 45
    assert [first for first, _, _ in bare.gap_runs] == hols
    assert date(2015, 4, 3) in hols and date(2016, 12, 26) in hols  # Good Friday; Christmas observed
    # a day removed from the data is reported with its date
    drop = np.flatnonzero(np.array([datetime.fromtimestamp(t / 1e9, UTC).date() == date(2016, 3, 15)
                                    for t in bars.ts_event.tolist()]))
    keep = np.setdiff1d(np.arange(len(bars)), drop)
    cut = BarColumns(bars.instrument_id, *(getattr(bars, f)[keep] for f in
                                           ("ts_event", "ts_init", "open", "high", "low", "close", "volume")), DAY)
    r = validate(cut, inst, "AAPL", Q, nyse_calendar())
    assert r.gap_runs == [(date(2016, 3, 15), date(2016, 3, 15), 1)]


def _aapl_file() -> Path:
    """AAPL's rows of the S&P file (a one-instrument CSV, written once per session)."""
    import gzip
    import tempfile

    out = Path(tempfile.gettempdir()) / "tradeforge_test_integrity_aapl.csv"
    if not out.exists():
        with gzip.open(DATA / "daily" / "all_stocks_5yr.csv.gz", "rt") as fh:
            lines = [ln for i, ln in enumerate(fh) if i == 0 or ln.rstrip().endswith(",AAPL")]
        out.write_text("".join(lines))
    return out


def test_binance_quotes_and_trades(others: InstrumentProvider, btc: Instrument) -> None:
    quotes, _ = load_parquet_quotes(DATA / "ticks" / "binance_btcusdt-quotes-20210108.parquet",
                                    instrument_id="BTCUSDT.BINANCE", instruments=others)
    report = validate(quotes, btc, "quotes", R)
    assert report.count(IssueKind.CROSSED) == 0 and report.count(IssueKind.LOCKED) == 0 and report.ok
    assert report.n_records == 451
    trades, _ = load_parquet_trades(DATA / "ticks" / "binance_btcusdt-trades-20210108.parquet",
                                    instrument_id="BTCUSDT.BINANCE", instruments=others)
    tr = validate(trades, btc, "trades", R)
    assert tr.ok and set(tr.counts) <= {IssueKind.OUTLIER}
    assert tr.count(IssueKind.OUTLIER) < len(trades) * 0.02  # flagged, rare, and never dropped
    assert len(tr.clean) == len(trades)


def test_mbo_sequence_gaps() -> None:
    from tradeforge.data.databento import load_dbn_mbo

    es = InstrumentProvider.from_toml(DATA / "instruments" / "cme_mbo.toml").get("ESH4.GLBX")
    mbo, _ = load_dbn_mbo(DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", instrument=es)
    report = validate(mbo, es, "esh4", R)
    # sequence numbers are per channel packet: a one-instrument extract skips the other instruments' packets
    assert report.ok and set(report.counts) == {IssueKind.SEQUENCE_GAP}
    assert report.count(IssueKind.SEQUENCE_GAP) == 3_666
    assert "sequence jumped from 4960 to 4981" in report.issues[0].reason


# ------------------------------------------------------------------------------------------
# Synthetic cases, one per check
# ------------------------------------------------------------------------------------------


def _quotes(bid: list[int], ask: list[int], ts: list[int] | None = None) -> QuoteColumns:
    t = np.array(ts if ts is not None else range(len(bid)), dtype=np.int64)
    n = len(bid)
    return QuoteColumns("BTCUSDT.BINANCE", t, t.copy(), np.array(bid, dtype=np.int64), np.array(ask, dtype=np.int64),
                        np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64))


def _bars(close: list[int], ts: list[int], interval: int = NANOS_PER_MINUTE, **over: list[int]) -> BarColumns:
    c = np.array(close, dtype=np.int64)
    cols = {"open": c.copy(), "high": c.copy(), "low": c.copy(), "close": c, "volume": np.ones(len(c), np.int64)}
    cols |= {k: np.array(v, dtype=np.int64) for k, v in over.items()}
    t = np.array(ts, dtype=np.int64)
    return BarColumns("BTCUSDT.BINANCE", t, t.copy(), cols["open"], cols["high"], cols["low"], cols["close"],
                      cols["volume"], interval)


def test_crossed_and_locked_quotes(btc: Instrument) -> None:
    q = _quotes([100, 101, 102, 103], [101, 101, 101, 104])
    with pytest.raises(BadRecordError) as exc:
        validate(q, btc, "syn", R)
    assert (exc.value.record, exc.value.field) == (2, "bid") and "crossed" in str(exc.value)
    r = validate(q, btc, "syn", Q)
    assert r.count(IssueKind.CROSSED) == 1 and r.count(IssueKind.LOCKED) == 1
    assert len(r.clean) == 3 and [b.record for b in r.bad] == [2]  # the locked quote is kept
    assert r.clean.bid.tolist() == [100, 101, 103]
    strict = IntegrityConfig(severity={IssueKind.LOCKED: Severity.ERROR, IssueKind.CROSSED: Severity.WARNING})
    r2 = validate(q, btc, "syn", Q, config=strict)
    assert [b.record for b in r2.bad] == [1] and r2.count(IssueKind.CROSSED) == 1


def test_monotonic_and_duplicates(btc: Instrument) -> None:
    q = _quotes([100, 100, 100, 101, 99], [102] * 5, ts=[1, 2, 2, 3, 2])
    r = validate(q, btc, "syn", Q)
    assert [(i.kind, i.record) for i in r.errors] == [(IssueKind.DUPLICATE, 2), (IssueKind.NON_MONOTONIC, 4)]
    assert "row 1" in r.of_kind(IssueKind.DUPLICATE)[0].reason
    assert len(r.clean) == 3
    # same timestamp with different values is fine for quotes, not for bars
    assert validate(_quotes([100, 101], [102, 102], ts=[5, 5]), btc, "syn", R).ok
    b = _bars([100, 101], [60, 60])
    with pytest.raises(BadRecordError, match="second bar"):
        validate(b, btc, "syn", R)
    assert validate(_bars([100, 100], [60, 60]), btc, "syn", Q).count(IssueKind.DUPLICATE) == 1


def test_non_positive_off_tick_and_ohlc(btc: Instrument) -> None:
    b = _bars([100, 0, 100, 100, 100], [60, 120, 180, 240, 300], low=[100, 0, 100, 101, 100],
              volume=[1, 1, 1, 1, -5])
    r = validate(b, btc, "syn", Q)
    kinds = {(i.kind, i.record) for i in r.errors}
    assert (IssueKind.NON_POSITIVE, 1) in kinds and (IssueKind.OHLC, 3) in kinds and (IssueKind.NON_POSITIVE, 4) in kinds
    t = np.arange(3, dtype=np.int64)
    trades = TradeColumns("BTCUSDT.BINANCE", t, t.copy(), np.array([125, 150, 110]), np.array([1, 1, 0]),
                          np.ones(3, np.int64), np.arange(3))
    eth = Instrument(btc.id, btc.kind, btc.currency, 2, 6, 50, 1, 1)  # tick 0.50
    r = validate(trades, eth, "syn", Q)
    assert [(i.kind, i.record, i.field) for i in r.errors] == [(IssueKind.OFF_TICK, 0, "price"),
                                                               (IssueKind.NON_POSITIVE, 2, "size"),
                                                               (IssueKind.OFF_TICK, 2, "price")]
    assert [b.record for b in r.bad] == [0, 2] and len(r.clean) == 1


def test_outliers_are_flagged_not_dropped(btc: Instrument) -> None:
    rng = np.random.default_rng(7)
    price = (1_000_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, 300)))).astype(np.int64)
    price[150] = int(price[149] * 1.05)  # a 5% spike
    q = _quotes(price.tolist(), (price + 2).tolist())
    r = validate(q, btc, "syn", R)
    assert r.ok and len(r.clean) == 300
    assert {i.record for i in r.of_kind(IssueKind.OUTLIER)} == {150, 151}  # the spike and its reversal
    loose = validate(q, btc, "syn", R, config=IntegrityConfig(outlier_k=100))
    assert loose.count(IssueKind.OUTLIER) == 0
    off = validate(q, btc, "syn", R, config=IntegrityConfig(severity={IssueKind.OUTLIER: Severity.IGNORE}))
    assert off.count(IssueKind.OUTLIER) == 0


def test_gaps_on_a_small_calendar(btc: Instrument) -> None:
    # NYSE 2024-07-03 (Wednesday): minute bars 09:31..09:40 ET with 09:34 and 09:35 missing, one after the close
    base = parse_timestamp_ns("2024-07-03T13:30:00")  # 09:30 EDT
    ts = [base + k * NANOS_PER_MINUTE for k in (1, 2, 3, 6, 7, 8, 9, 10)]
    ts.append(parse_timestamp_ns("2024-07-03T20:05:00"))  # 16:05 EDT: off session
    r = validate(_bars([100] * len(ts), ts), btc, "syn", Q, nyse_calendar())
    assert r.count(IssueKind.OFF_SESSION) == 1 and r.of_kind(IssueKind.OFF_SESSION)[0].record == 8
    gaps = r.gap_runs
    assert gaps[0] == (base + 4 * NANOS_PER_MINUTE, base + 5 * NANOS_PER_MINUTE, 2)
    assert r.of_kind(IssueKind.GAP)[0].record == 3 and r.ok and len(r.clean) == len(ts)
    # daily bars across the July 4th holiday: no gap
    closes = [parse_timestamp_ns(f"2024-07-0{d}T20:00:00") for d in (2, 3, 5)]
    assert validate(_bars([1, 1, 1], closes, DAY), btc, "syn", Q, nyse_calendar()).missing_bars == 0
    assert validate(_bars([1, 1], closes[::2], DAY), btc, "syn", Q, nyse_calendar()).gap_runs == [
        (date(2024, 7, 3), date(2024, 7, 3), 1)]
    with pytest.raises(ValueError, match="cannot drop"):
        validate(_bars([1], closes[:1], DAY), btc, "syn", Q, nyse_calendar(),
                 config=IntegrityConfig(severity={IssueKind.GAP: Severity.ERROR}))


def test_sequence_gaps(btc: Instrument) -> None:
    q = _quotes([100] * 6, [101] * 6)
    r = validate(q, btc, "syn", R, sequence=np.array([1, 2, 3, 7, 8, 5]))
    assert [(i.record, i.reason) for i in r.of_kind(IssueKind.SEQUENCE_GAP)] == [
        (3, "sequence jumped from 3 to 7 (3 missing)"), (5, "sequence went back from 8 to 5")]
    assert r.ok and len(r.clean) == 6


def test_nyse_holiday_rules() -> None:
    h = nyse_holidays(2021, 2024)
    assert date(2021, 12, 31) not in h  # Saturday New Year 2022 is not observed on Friday
    assert date(2022, 6, 20) in h and date(2021, 6, 18) not in h  # Juneteenth from 2022
    assert date(2023, 4, 7) in h and date(2024, 3, 29) in h  # Good Friday
    assert date(2022, 12, 26) in h and date(2023, 1, 2) in h  # Sunday holidays move to Monday
    assert len(nyse_holidays(2023, 2023)) == 10
