"""``tradeforge data ...`` run as a user runs it (in a subprocess): import, import-shared, ls, query."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tradeforge.data.catalog import Catalog
from tradeforge.model.instruments import InstrumentProvider

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
EURO = DATA / "intraday" / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
INSTRUMENTS = DATA / "instruments" / "futures_fx_crypto.toml"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # wide enough that rich never truncates an instrument id
    return subprocess.run([sys.executable, "-m", "tradeforge.cli.main", "data", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def _bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "euro_bad.csv"
    path.write_text(
        "timestamp_utc,open,high,low,close,volume\n"
        "2024-01-02 10:00:00,1.1000,1.1001,1.0999,1.1000,5\n"
        "2024-01-02 10:01:00,1.1000,1.1001,,1.1000,5\n"
        "2024-01-02 10:02:00,1.1000,1.1002,1.0999,1.1001,7\n"
        "2024-01-03 10:00:00,1.1001,1.1000,1.0999,1.1001,7\n"
        "2024-01-03 10:01:00,1.1001,1.1003,1.1000,1.1002,9\n"
    )
    return path


def _import_args(src: Path, catalog: Path, *extra: str) -> list[str]:
    return ["import", str(src), "--catalog", str(catalog), "--kind", "bars", "--instrument-id", "6EH4.XCME",
            "--timestamp-column", "timestamp_utc", "--interval", "1m", "--instruments", str(INSTRUMENTS), *extra]


def test_import_quarantines_bad_records_with_a_report(tmp_path: Path) -> None:
    src, cat = _bad_csv(tmp_path), tmp_path / "cat"
    proc = _run(*_import_args(src, cat, "--bad-records", "quarantine"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported 3 bars" in proc.stdout
    assert "2 bad records quarantined" in proc.stdout
    assert "line 3 field 'low': missing value" in proc.stdout
    assert "line 5 field 'high'" in proc.stdout
    qfile = cat / "_quarantine" / "euro_bad.csv.bars.csv"
    assert f"listed in {qfile}" in proc.stdout.replace("\n", "")
    rows = list(csv.DictReader(qfile.open()))
    assert [(r["record"], r["field"]) for r in rows] == [("3", "low"), ("5", "high")]
    assert rows[0]["reason"] == "missing value" and rows[0]["raw_text"].startswith("2024-01-02 10:01:00")
    assert rows[1]["reason"] == "high is below max(open, close)"
    back = Catalog(cat).read_all("bars", "6EH4.XCME")
    assert back.close.tolist() == [110000, 110010, 110020]
    assert sorted(p.name for p in (cat / "bars" / "6EH4.XCME").iterdir()) == ["date=2024-01-02", "date=2024-01-03"]
    # a named quarantine file
    other = tmp_path / "q" / "bad.csv"
    proc = _run(*_import_args(src, cat, "--bad-records", "quarantine", "--quarantine-file", str(other)))
    assert proc.returncode == 0 and len(other.read_text().splitlines()) == 3


def test_import_raise_mode_exits_2_naming_file_line_field(tmp_path: Path) -> None:
    src, cat = _bad_csv(tmp_path), tmp_path / "cat"
    proc = _run(*_import_args(src, cat))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout.replace("\n", "")
    assert "error:" in out and "euro_bad.csv" in out and "line 3" in out and "'low'" in out
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (cat / "bars").exists()  # nothing written


def test_import_errors_exit_2(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    proc = _run("import", str(EURO), "--catalog", str(cat), "--kind", "bars", "--instrument-id", "6EH4.XCME",
                "--instruments", str(INSTRUMENTS))
    assert proc.returncode == 2 and "--interval" in proc.stdout
    proc = _run("import", str(EURO), "--catalog", str(cat), "--kind", "bars", "--instrument-id", "NOPE.XCME",
                "--interval", "1m", "--timestamp-column", "timestamp_utc", "--instruments", str(INSTRUMENTS))
    assert proc.returncode == 2 and "NOPE.XCME" in proc.stdout
    proc = _run("import", str(EURO), "--catalog", str(cat), "--kind", "books", "--instrument-id", "6EH4.XCME")
    assert proc.returncode == 2 and "kind" in proc.stdout


def test_import_is_idempotent_and_ls_and_query_show_it(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    args = _import_args(EURO, cat)
    assert _run(*args).returncode == 0
    files = {p: p.read_bytes() for p in cat.rglob("*.parquet")}
    proc = _run(*args)  # re-import: same files, same bytes, no duplicates
    assert proc.returncode == 0 and "imported 29,996 bars" in proc.stdout
    assert {p: p.read_bytes() for p in cat.rglob("*.parquet")} == files and len(files) == 27

    proc = _run("ls", "--catalog", str(cat))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if "6EH4.XCME" in ln)
    assert "29,996" in line and "2024-01-01T23:01:00" in line and "2024-01-31T23:59:00" in line and "27" in line

    proc = _run("query", "--catalog", str(cat),
                "SELECT instrument_id, count(*) AS n, min(low) AS lo, max(high) AS hi FROM bars GROUP BY 1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "29996" in proc.stdout and "108100" in proc.stdout and "110785" in proc.stdout

    proc = _run("query", "--catalog", str(cat), "SELECT * FROM bars ORDER BY ts_init", "--limit", "3")
    assert proc.returncode == 0 and "3 rows shown (more than 3" in proc.stdout

    out = tmp_path / "q" / "bars.parquet"
    proc = _run("query", "--catalog", str(cat), "SELECT * FROM bars WHERE volume > 100", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n = Catalog(cat).query("SELECT count(*) AS n FROM bars WHERE volume > 100").to_pylist()[0]["n"]
    assert pq.read_metadata(out).num_rows == n > 0 and f"{n:,} rows written" in proc.stdout

    proc = _run("query", "--catalog", str(cat), "SELECT * FROM no_such_view")
    assert proc.returncode == 2 and "no_such_view" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def _table_rows(stdout: str) -> dict[str, list[str]]:
    """The rows of a rich table by their first cell (continuation lines of folded cells dropped)."""
    rows = {}
    for ln in stdout.splitlines():
        cells = [c.strip() for c in ln.split("│")]
        if len(cells) > 3 and cells[1]:
            rows[cells[1]] = cells[1:-1]
    return rows


#: Files of the repository's data/ that are not market data (or duplicate one), with a reason.
NOT_IMPORTED = {"daily/sp500_gics_sectors_2020.csv", "itch/itch50_message_types.csv",
                "l3/LOBSTER_SampleFiles_ReadMe.txt", "l3/esh4-glbx-mdp3-20231225.mbo.csv.gz",
                "fix/FIX44.xml", "fix/quickfix-1.16.0_fill_acceptor_session.messages.log",
                "news/headlines_sample.csv"}
L3_IDS = {"AMZN.XNAS", "ESH4.GLBX", "ALC.XNAS", "BOB.XNAS", "CHAR.XNAS"}


def test_import_shared_then_ls_shows_every_instrument(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    proc = _run("import-shared", "--catalog", str(cat))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "23 bad records quarantined" in proc.stdout  # the S&P file's known bad rows
    assert (cat / "_quarantine" / "all_stocks_5yr.csv.gz.bars.csv").exists()
    # every file of data/ is in the report: market data imported with rows, the rest skipped with a reason
    rows = _table_rows(proc.stdout)
    files = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file()
             and p.parts[len(DATA.parts)] != "instruments" and not p.name.lower().startswith(("readme", "license"))}
    assert set(rows) == files
    skipped = {f for f, cells in rows.items() if cells[-1].startswith("skipped:")}
    assert skipped == NOT_IMPORTED
    for f in files - skipped:
        assert int(rows[f][3].replace(",", "")) > 0, f
    assert rows["l3/AMZN_2012-06-21_34200000_57600000_message_1.csv.gz"][1] == "trades 11,419, book deltas 66,042"
    assert rows["l3/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz"][1] == "quotes"
    assert rows["l3/esh4-glbx-mdp3-20231225.mbo.dbn.zst"][1] == "trades 2,973, book deltas 59,448"
    assert rows["itch/ex20101224.TEST_ITCH_50.gz"][2] == "3"
    assert "117 messages on unknown order references skipped" in proc.stdout  # the sampled ITCH file
    assert "8,168 touch levels taken from the orderbook file, 0 mismatches" in proc.stdout

    proc = _run("ls", "--catalog", str(cat))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = {str(i.id) for i in InstrumentProvider.from_toml(DATA / "instruments" / "sp500.toml")}
    expected |= {"6EH4.XCME", "BTCUSDT.BINANCE"} | L3_IDS
    listed = {cells[2].strip() for ln in proc.stdout.splitlines() if (cells := ln.split("│")) and len(cells) > 3}
    assert expected <= listed
    # BTC: quotes + trades; AMZN: trades, book, quotes; ESH4 and the 3 ITCH stocks: trades + book
    assert f"{len(expected) + 1 + 2 + 4:,} series, {len(expected):,} instruments" in proc.stdout
    book = {ln.split("│")[2].strip() for ln in proc.stdout.splitlines() if ln.startswith("│ book ")}
    assert book == L3_IDS
    kinds = {(e.kind, e.instrument_id) for e in Catalog(cat).list()}
    assert {("quotes", "BTCUSDT.BINANCE"), ("trades", "BTCUSDT.BINANCE"), ("bars", "6EH4.XCME"),
            ("book", "ESH4.GLBX"), ("quotes", "AMZN.XNAS")} <= kinds

    proc = _run("query", "--catalog", str(cat),
                "SELECT instrument_id, count(*) AS n, count(DISTINCT order_id) AS orders, min(action) AS a0, "
                "max(action) AS a1 FROM book GROUP BY 1 ORDER BY 1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    qrows = _table_rows(proc.stdout)
    assert qrows["ESH4.GLBX"][1:] == ["59448", "29216", "1", "3"]  # L3: one id per added order
    assert qrows["AMZN.XNAS"][1:3] == ["66042", "1"]  # L2: order_id 0


def test_import_shared_skips_fix_files_with_the_reason(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "ticks").mkdir(parents=True)
    (shared / "fix").mkdir()
    shutil.copy(DATA / "ticks" / "binance_btcusdt-quotes-20210108.parquet", shared / "ticks")
    (shared / "fix" / "session.messages.log").write_text("20261123-10:00:00.000000000 : 8=FIX.4.4\x019=5\x01")
    (shared / "fix" / "FIX44.xml").write_text("<fix/>")
    (shared / "fix" / "LICENSE.quickfix.txt").write_text("licence")
    proc = _run("import-shared", "--catalog", str(tmp_path / "cat"), "--shared", str(shared))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _table_rows(proc.stdout)
    assert set(rows) == {"ticks/binance_btcusdt-quotes-20210108.parquet", "fix/FIX44.xml", "fix/session.messages.log"}
    assert rows["ticks/binance_btcusdt-quotes-20210108.parquet"][3] == "451"
    for f in ("fix/FIX44.xml", "fix/session.messages.log"):
        assert rows[f][-1].startswith("skipped: FIX order-entry material")
    assert "1 files imported, 451 rows" in proc.stdout and "2 files skipped" in proc.stdout


def test_import_formats_from_the_command_line(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    itch = DATA / "itch" / "ex20101224.TEST_ITCH_50.gz"
    proc = _run("import", str(itch), "--catalog", str(cat))  # format inferred from the name
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported 5,180 trades, 6,893 book deltas of 3 instrument(s)" in proc.stdout
    assert "117 messages on unknown order references skipped" in proc.stdout
    proc = _run("import", str(itch), "--catalog", str(cat), "--format", "itch", "--symbols", "BOB", "--kind", "book")
    assert proc.returncode == 0 and "imported 3,473 book deltas of 1 instrument(s)" in proc.stdout
    mbo = DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    proc = _run("import", str(mbo), "--catalog", str(cat), "--format", "dbn", "--instrument-id", "ESH4.GLBX",
                "--kind", "trades")
    assert proc.returncode == 0 and "imported 2,973 trades of 1 instrument(s)" in proc.stdout
    assert {(e.kind, e.instrument_id) for e in Catalog(cat).list()} == {
        (k, f"{s}.XNAS") for k in ("trades", "book") for s in ("ALC", "BOB", "CHAR")} | {("trades", "ESH4.GLBX")}
    for args, message in (
        (["--format", "xls"], "not one of csv, parquet, itch, lobster, dbn"),
        (["--format", "dbn"], "needs --instrument-id"),
        (["--format", "lobster", "--kind", "bars"], "lobster files give trades, book, quotes"),
        (["--format", "parquet", "--kind", "trades", "--instrument-id", "ESH4.GLBX"], "named as a csv file"),
    ):
        proc = _run("import", str(DATA / "l3" / "esh4-glbx-mdp3-20231225.mbo.csv.gz"), "--catalog", str(cat), *args)
        assert proc.returncode == 2 and message in proc.stdout.replace("\n", ""), (args, proc.stdout)
    (tmp_path / "feed.bin").write_bytes(b"\0")
    proc = _run("import", str(tmp_path / "feed.bin"), "--catalog", str(cat))
    assert proc.returncode == 2 and "give --format" in proc.stdout.replace("\n", "")
