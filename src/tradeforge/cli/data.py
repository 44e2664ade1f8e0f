"""``tradeforge data ...``: import market data into the catalog, list it and query it with SQL.

- ``tradeforge data import SOURCE --catalog DIR [--format csv|parquet|itch|lobster|dbn] ...`` loads one
  file and writes it to the catalog. CSV and Parquet take ``--kind bars|quotes|trades`` and the same
  options as a run config's ``[[data]]`` entry; the order-level formats (LOBSTER message files,
  Databento MBO ``.dbn[.zst]``, NASDAQ ITCH 5.0) give ``trades`` and ``book`` deltas (LOBSTER also
  ``quotes`` from its orderbook file). The format is inferred from the file name unless given.
- ``tradeforge data import-shared --catalog DIR [--shared PATH]`` imports every market-data file of the
  repository's ``data/`` folder (or of PATH, e.g. the shared data collection) and lists every other
  file with the reason it was skipped.
- ``tradeforge data ls --catalog DIR`` lists the series; ``tradeforge data query --catalog DIR "SQL"``
  runs DuckDB SQL over views ``bars``, ``quotes``, ``trades``, ``book`` and ``instruments``.

Errors (a bad record in raise mode, an unknown instrument, a bad option) print ``error: ...`` naming
the file, line and field where there is one, and exit with code 2.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

data_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The historical data catalog: import, list, query.")
console = Console()

CatalogOpt = Annotated[Path, typer.Option("--catalog", help="catalog folder (created on import)")]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def repo_data_dir() -> Path | None:
    """The repository's ``data/`` folder (a source checkout), or ``./data``; ``None`` if neither."""
    import tradeforge

    for cand in (Path(tradeforge.__file__).resolve().parents[2] / "data", Path.cwd() / "data"):
        if (cand / "instruments").is_dir():
            return cand
    return None


def _instrument_files(given: list[Path] | None, data_dir: Path | None) -> list[Path]:
    if given:
        return list(given)
    for d in (data_dir, repo_data_dir()):
        if d is not None and (d / "instruments").is_dir():
            files = sorted((d / "instruments").glob("*.toml"))
            if files:
                return files
    raise ValueError("no instrument file: give --instruments FILE (the instruments fix each price's precision)")


def load_instruments(files: list[Path], extra: list[dict[str, Any]] | None = None) -> Any:
    """One provider from several instrument files (plus ``extra`` specs for ids none of them has)."""
    from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict

    provider = InstrumentProvider()
    for f in files:
        for inst in InstrumentProvider.from_toml(f):
            if inst.id in provider and provider.get(inst.id) == inst:
                continue  # the same definition in two files is harmless; a different one is an error
            provider.add(inst)
    for spec in extra or []:
        if spec["id"] not in provider:
            provider.add(instrument_from_dict(spec, f"built-in instrument {spec['id']}"))
    return provider


def _parse_columns(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--columns: {item!r} is not FIELD=COLUMN (e.g. open=Open,close=Close)")
        out[key.strip()] = value.strip()
    return out


@contextmanager
def _errors_exit_2() -> Iterator[None]:
    """Print known errors as one ``error:`` line and exit with code 2."""
    from tradeforge.backtest.config import ConfigError
    from tradeforge.data.catalog import CatalogError
    from tradeforge.data.errors import BadRecordError
    from tradeforge.model.instruments import InstrumentError

    try:
        yield
    except (BadRecordError, InstrumentError, CatalogError, ConfigError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    except Exception as exc:  # SQL errors: one line, not a traceback
        import duckdb

        if not isinstance(exc, duckdb.Error):
            raise
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None


def write_quarantine(path: Path, records: list[Any]) -> None:
    """The quarantined records as CSV: source, unit, record, field, reason, raw_text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "unit", "record", "field", "reason", "raw_text"])
        for b in records:
            w.writerow([b.source, b.unit, b.record, b.field, b.reason, b.raw_text])


def _default_quarantine(catalog: Path, source: Path, kind: str) -> Path:
    return catalog / "_quarantine" / f"{source.name}.{kind}.csv"


def _report_quarantine(records: list[Any], path: Path, source: str) -> None:
    console.print(f"[yellow]{len(records)} bad records quarantined[/yellow] from {source} "
                  f"(listed in {path})", soft_wrap=True, highlight=False)
    for b in records[:5]:
        console.print(f"  {b}", soft_wrap=True, highlight=False)
    if len(records) > 5:
        console.print(f"  ... and {len(records) - 5} more", highlight=False)


@dataclass(frozen=True)
class ImportResult:
    source: str
    kind: str  # "bars", ... or several joined with "+" ("trades+book")
    instruments: list[str]
    rows: int
    partitions: int
    quarantined: list[Any]
    notes: list[str] = field(default_factory=list)
    rows_by_kind: dict[str, int] = field(default_factory=dict)


def import_file(catalog_dir: Path, spec: Any, base: Path, instruments: Any, partition: str | None = None
                ) -> ImportResult:
    """Load one file as a ``[[data]]`` entry (``spec``: a :class:`DataConfig`) and write it to the catalog."""
    from tradeforge.backtest.run import load_data
    from tradeforge.data.catalog import Catalog

    columns, bad = load_data(spec, base, instruments)
    summary = Catalog(catalog_dir).write(columns, instruments, partition=partition)
    return ImportResult(spec.path, spec.kind, sorted({c.instrument_id for c in columns}), summary.rows,
                        len(summary.partitions), bad, [], {spec.kind: summary.rows})


#: ``--format`` values; csv and parquet go through the ``[[data]]`` loaders, the others through
#: :mod:`tradeforge.data.book_import`.
FORMATS = ("csv", "parquet", "itch", "lobster", "dbn")
BOOK_FORMATS = ("itch", "lobster", "dbn")


def infer_format(path: Path) -> str:
    """The ``--format`` of a file from its name (``ValueError`` when the name does not tell)."""
    import re

    name = path.name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return "dbn"
    if "itch" in name:
        return "itch"
    if re.search(r"_message_\d+\.csv", name):
        return "lobster"
    if ".parquet" in name:
        return "parquet"
    if ".csv" in name:
        return "csv"
    raise ValueError(f"{path}: cannot tell the format from the file name: give --format ({'|'.join(FORMATS)})")


def import_book_file(
    catalog_dir: Path, fmt: str, path: Path, instruments: Any, *, instrument_id: str | None = None,
    venue: str | None = None, symbols: list[str] | None = None, date: str | None = None,
    orderbook: Path | None = None, kinds: tuple[str, ...] | None = None, bad_records: str = "raise",
    partition: str | None = None,
) -> list[ImportResult]:
    """Load an order-level file (``fmt`` itch, lobster or dbn) and write its trades, book deltas (and,
    for LOBSTER, the orderbook file's quotes) to the catalog; one result per source file."""
    from tradeforge.data import book_import
    from tradeforge.data.catalog import Catalog
    from tradeforge.data.errors import BadRecordPolicy

    policy = BadRecordPolicy(bad_records)
    if fmt == "lobster":
        loaded = book_import.load_lobster(path, instruments, instrument_id=instrument_id, venue=venue or "XNAS",
                                          orderbook=orderbook, date=date, kinds=kinds or ("trades", "book", "quotes"),
                                          policy=policy)
    elif fmt == "dbn":
        if instrument_id is None:
            raise ValueError(f"{path}: a Databento file needs --instrument-id (e.g. ESH4.GLBX)")
        loaded = book_import.load_dbn(path, instruments, instrument_id=instrument_id,
                                      kinds=kinds or ("trades", "book"), policy=policy)
    elif fmt == "itch":
        loaded = book_import.load_itch(path, instruments, venue=venue or "XNAS", symbols=symbols, date=date,
                                       kinds=kinds or ("trades", "book"))
    else:
        raise ValueError(f"--format {fmt}: not an order-level format ({', '.join(BOOK_FORMATS)})")
    summary = Catalog(catalog_dir).write(loaded.columns, instruments, partition=partition)
    plural = {"bar": "bars", "quote": "quotes", "trade": "trades", "book": "book"}
    results = []
    for source in dict.fromkeys(src for src, _ in loaded.parts):
        cols = [c for src, c in loaded.parts if src == source and len(c)]
        by_kind: dict[str, int] = {}
        for c in cols:
            by_kind[plural[c.kind]] = by_kind.get(plural[c.kind], 0) + len(c)
        keys = {(plural[c.kind], c.instrument_id) for c in cols}
        parts = sum(1 for p in summary.partitions if (p.parent.parent.parent.name, p.parent.parent.name) in keys)
        first = not results  # quarantined records and notes are reported once, with the main file
        results.append(ImportResult(
            source, "+".join(by_kind) or "-", sorted({c.instrument_id for c in cols}), sum(by_kind.values()), parts,
            loaded.bad if first else [], loaded.notes if first else [], by_kind,
        ))
    return results


def _data_config(**fields: Any) -> Any:
    """A validated :class:`DataConfig` (errors name the option)."""
    import msgspec

    from tradeforge.backtest.config import DataConfig, parse_interval_ns

    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        d = msgspec.convert(fields, DataConfig, strict=True)
    except msgspec.ValidationError as exc:
        raise ValueError(f"invalid option: {exc}") from None
    if d.kind == "bars" and d.interval is None:
        raise ValueError("--interval is required for bars (e.g. 1m, 1d)")
    if d.interval is not None:
        parse_interval_ns(d.interval)
    if d.kind == "bars" and (d.instrument_id is None) == (d.symbol_column is None):
        raise ValueError("give --instrument-id (one-instrument file) or --symbol-column with --venue")
    if d.kind != "bars" and d.instrument_id is None:
        raise ValueError(f"{d.kind} need --instrument-id")
    if d.symbol_column is not None and d.venue is None:
        raise ValueError("--symbol-column needs --venue (instrument ids are TICKER.VENUE)")
    return d


# --------------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------------


@data_app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="CSV, Parquet, LOBSTER message, Databento MBO or ITCH 5.0 file")],
    catalog: CatalogOpt,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet, itch, lobster or dbn "
                                                             "(default: from the file name)")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="csv/parquet: bars, quotes or trades (required); "
                                                            "itch/lobster/dbn: only trades, book or quotes")] = None,
    instrument_id: Annotated[str | None, typer.Option("--instrument-id", help="one-instrument file")] = None,
    symbol_column: Annotated[str | None, typer.Option("--symbol-column", help="ticker column (many instruments)")
                             ] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="venue of --symbol-column / ITCH / LOBSTER ids "
                                                              "(TICKER.VENUE; ITCH, LOBSTER: XNAS)")] = None,
    symbols: Annotated[str | None, typer.Option("--symbols", help="keep only these tickers: A,B,C")] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="field=column mapping: open=Open,close=Close")
                       ] = None,
    timestamp_column: Annotated[str, typer.Option("--timestamp-column")] = "timestamp",
    timezone: Annotated[str, typer.Option("--timezone", help="zone of naive times")] = "UTC",
    convention: Annotated[str, typer.Option("--convention", help="bars stamped at their open or close")
                          ] = "close",
    interval: Annotated[str | None, typer.Option("--interval", help="bar interval: 30s, 1m, 1h, 1d")] = None,
    session_close: Annotated[str | None, typer.Option("--session-close", help="date-only bars: local close, 16:00")
                             ] = None,
    date: Annotated[str | None, typer.Option("--date", help="itch/lobster: session date YYYY-MM-DD "
                                                            "(default: from the file name)")] = None,
    orderbook: Annotated[Path | None, typer.Option("--orderbook", help="lobster: the orderbook file "
                                                                       "(default: the one beside SOURCE)")] = None,
    instruments: Annotated[list[Path] | None, typer.Option("--instruments", help="instrument TOML (repeatable)")
                           ] = None,
    bad_records: Annotated[str, typer.Option("--bad-records", help="raise or quarantine")] = "raise",
    quarantine_file: Annotated[Path | None, typer.Option("--quarantine-file", help="default: DIR/_quarantine/...")
                               ] = None,
    partition: Annotated[str | None, typer.Option("--partition", help="day, month or year (default: automatic)")
                         ] = None,
) -> None:
    """Load SOURCE (checked record by record) and write it into the catalog; re-import replaces."""
    with _errors_exit_2():
        fmt = fmt.lower() if fmt else infer_format(source)
        if fmt not in FORMATS:
            raise ValueError(f"--format {fmt!r}: not one of {', '.join(FORMATS)}")
        if bad_records not in ("raise", "quarantine"):
            raise ValueError(f"--bad-records {bad_records!r}: raise or quarantine")
        if fmt in BOOK_FORMATS:
            results = _import_book(source, catalog, fmt, kind, instrument_id, venue, symbols, date, orderbook,
                                   instruments, bad_records, partition)
        else:
            if kind is None:
                raise ValueError(f"--kind is required for {fmt} files (bars, quotes or trades)")
            _check_tabular(fmt, kind, source)
            spec = _data_config(
                kind=kind, path=str(source), instrument_id=instrument_id, symbol_column=symbol_column, venue=venue,
                symbols=[s.strip() for s in symbols.split(",")] if symbols else None,
                columns=_parse_columns(columns), timestamp_column=timestamp_column, timezone=timezone,
                timestamp_convention=convention, interval=interval, session_close=session_close,
                bad_records=bad_records,
            )
            if not source.exists():
                raise ValueError(f"{source}: no such file")
            provider = load_instruments(_instrument_files(instruments, None))
            results = [import_file(catalog, spec, Path.cwd(), provider, partition)]
    for result in results:
        what = ", ".join(f"{n:,} {_KIND_LABEL.get(k, k)}" for k, n in result.rows_by_kind.items()) \
            or f"0 {result.kind}"
        console.print(f"imported {what} of {len(result.instruments)} instrument(s) from {result.source} "
                      f"into {catalog} ({result.partitions} partitions)", soft_wrap=True, highlight=False)
        for note in result.notes:
            console.print(f"  {note}", soft_wrap=True, highlight=False)
    bad = [b for r in results for b in r.quarantined]
    if bad:
        path = quarantine_file or _default_quarantine(catalog, source, fmt if fmt in BOOK_FORMATS else str(kind))
        write_quarantine(path, bad)
        _report_quarantine(bad, path, str(source))


_KIND_LABEL = {"book": "book deltas"}


def _check_tabular(fmt: str, kind: str, source: Path) -> None:
    """The [[data]] loaders read bars from CSV, quotes from CSV or Parquet, trades from Parquet,
    choosing by the file name."""
    readable = {"bars": ("csv",), "quotes": ("csv", "parquet"), "trades": ("parquet",)}
    if kind not in readable:
        raise ValueError(f"--kind {kind!r}: {fmt} files hold bars, quotes or trades")
    if fmt not in readable[kind]:
        raise ValueError(f"{kind} are imported from {' or '.join(readable[kind])} files, not {fmt}")
    named = "parquet" if ".parquet" in source.name.lower() else "csv"
    if named != fmt:
        raise ValueError(f"--format {fmt}: {source.name} is named as a {named} file (the loaders go by the name)")


def _import_book(source: Path, catalog: Path, fmt: str, kind: str | None, instrument_id: str | None,
                 venue: str | None, symbols: str | None, date: str | None, orderbook: Path | None,
                 instruments: list[Path] | None, bad_records: str, partition: str | None) -> list[ImportResult]:
    allowed = ("trades", "book", "quotes") if fmt == "lobster" else ("trades", "book")
    kinds = None
    if kind is not None:
        k = {"trade": "trades", "quote": "quotes"}.get(kind, kind)
        if k not in allowed:
            raise ValueError(f"--kind {kind!r}: {fmt} files give {', '.join(allowed)}")
        kinds = (k,)
    if not source.exists():
        raise ValueError(f"{source}: no such file")
    provider = load_instruments(_instrument_files(instruments, None))
    return import_book_file(
        catalog, fmt, source, provider, instrument_id=instrument_id, venue=venue,
        symbols=[s.strip() for s in symbols.split(",")] if symbols else None, date=date, orderbook=orderbook,
        kinds=kinds, bad_records=bad_records, partition=partition,
    )


# --------------------------------------------------------------------------------------------
# import-shared
# --------------------------------------------------------------------------------------------

#: Market-data files of the shared data collection (and of the repository's ``data/``, which holds a
#: subset of it). CSV and Parquet entries are ``[[data]]`` entries; ``format`` itch/lobster/dbn ones go
#: through :func:`import_book_file` (a LOBSTER entry also imports its orderbook file, as quotes).
SHARED_FILES: tuple[dict[str, Any], ...] = (
    {"path": "daily/all_stocks_5yr.csv.gz", "kind": "bars", "symbol_column": "Name", "venue": "XNYS",
     "timestamp_column": "date", "timezone": "America/New_York", "session_close": "16:00", "interval": "1d"},
    {"path": "intraday/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", "kind": "bars", "instrument_id": "6EH4.XCME",
     "timestamp_column": "timestamp_utc", "interval": "1m"},
    {"path": "intraday/fxcm_usdjpy-m1-bid-2013.csv.gz", "kind": "bars", "instrument_id": "USDJPY.FXCM",
     "interval": "1m"},
    # the ask side as its own bar series: lossless (both sides' OHLC kept), one file -> one series
    {"path": "intraday/fxcm_usdjpy-m1-ask-2013.csv.gz", "kind": "bars", "instrument_id": "USDJPY-ASK.FXCM",
     "interval": "1m"},
    {"path": "intraday/ftx_btc-perp-20211231-20220201_1m.csv.gz", "kind": "bars", "instrument_id": "BTC-PERP.FTX",
     "interval": "1m"},
    {"path": "ticks/binance_btcusdt-quotes-20210108.parquet", "kind": "quotes", "instrument_id": "BTCUSDT.BINANCE"},
    {"path": "ticks/binance_btcusdt-trades-20210108.parquet", "kind": "trades", "instrument_id": "BTCUSDT.BINANCE"},
    {"path": "ticks/truefx_usdjpy-ticks-20130101.csv", "kind": "quotes", "instrument_id": "USDJPY.TRUEFX"},
    {"path": "l3/AMZN_2012-06-21_34200000_57600000_message_1.csv.gz", "format": "lobster",
     "instrument_id": "AMZN.XNAS"},
    {"path": "l3/esh4-glbx-mdp3-20231225.mbo.dbn.zst", "format": "dbn", "instrument_id": "ESH4.GLBX"},
    {"path": "itch/ex20101224.TEST_ITCH_50.gz", "format": "itch", "venue": "XNAS"},
)

#: Files of the collection that are deliberately not imported, and why (by path, then by folder).
SHARED_SKIPPED: dict[str, str] = {
    "daily/sp500_gics_sectors_2020.csv": "reference data (ticker -> sector), not market data",
    "itch/itch50_message_types.csv": "ITCH 5.0 message lengths (spec facts the decoder has built in)",
    "l3/LOBSTER_SampleFiles_ReadMe.txt": "LOBSTER's format documentation",
    "l3/esh4-glbx-mdp3-20231225.mbo.csv.gz": "the same records as esh4-glbx-mdp3-20231225.mbo.dbn.zst "
                                            "(imported from there)",
}
SHARED_SKIPPED_FOLDERS: dict[str, str] = {
    "fix/": "FIX order-entry material (session log, data dictionary), not market data",
}


def _skip_reason(rel: str) -> str:
    if rel in SHARED_SKIPPED:
        return SHARED_SKIPPED[rel]
    for folder, reason in SHARED_SKIPPED_FOLDERS.items():
        if rel.startswith(folder):
            return reason
    return "not a file the importers can map"


def _relative(source: str, root: Path) -> str:
    """A result's source (relative to ``root`` or not) as a path under ``root``."""
    for p in (Path(source), root / source):
        if p.is_relative_to(root):
            return p.relative_to(root).as_posix()
    return source


def _import_shared_entry(catalog: Path, root: Path, entry: dict[str, Any], provider: Any, bad_records: str
                         ) -> list[ImportResult]:
    entry = dict(entry)
    path = root / entry["path"]
    fmt = entry.pop("format", None)
    if fmt is None:
        spec = _data_config(**entry, bad_records=bad_records)
        return [import_file(catalog, spec, root, provider)]
    return import_book_file(catalog, fmt, path, provider, instrument_id=entry.get("instrument_id"),
                            venue=entry.get("venue"), bad_records=bad_records)


@data_app.command("import-shared")
def import_shared(
    catalog: CatalogOpt,
    shared: Annotated[Path | None, typer.Option("--shared", help="data folder (default: the repository's data/)")
                      ] = None,
    instruments: Annotated[list[Path] | None, typer.Option("--instruments", help="instrument TOML (repeatable)")
                           ] = None,
    bad_records: Annotated[str, typer.Option("--bad-records", help="raise or quarantine")] = "quarantine",
) -> None:
    """Import every market-data file of the data folder with one command; list the others as skipped."""
    import time

    t0 = time.perf_counter()
    with _errors_exit_2():
        root = shared or repo_data_dir()
        if root is None or not root.is_dir():
            raise ValueError("no data folder found: give --shared PATH")
        provider = load_instruments(_instrument_files(instruments, root))
        table = Table(title=f"import-shared {root} -> {catalog}")
        for col, just in (("file", "left"), ("kind", "left"), ("instruments", "right"), ("rows", "right"),
                          ("quarantined", "right"), ("status", "left")):
            table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
        total_rows = total_bad = files = 0
        known: set[str] = set()
        notes: list[str] = []
        for entry in SHARED_FILES:
            path = root / entry["path"]
            if not path.exists():
                continue
            for result in _import_shared_entry(catalog, root, entry, provider, bad_records):
                rel = _relative(result.source, root)
                known.add(rel)
                status = "imported"
                notes += [f"{rel}: {n}" for n in result.notes]
                if result.quarantined:
                    qpath = _default_quarantine(catalog, path, entry.get("kind") or entry.get("format", "data"))
                    write_quarantine(qpath, result.quarantined)
                    status += f"; bad records listed in {qpath.relative_to(catalog).as_posix()}"
                total_rows += result.rows
                total_bad += len(result.quarantined)
                files += 1
                kinds = ", ".join(f"{_KIND_LABEL.get(k, k)} {n:,}" for k, n in result.rows_by_kind.items()) \
                    if len(result.rows_by_kind) > 1 else _KIND_LABEL.get(result.kind, result.kind)
                table.add_row(rel, kinds, f"{len(result.instruments):,}", f"{result.rows:,}",
                              f"{len(result.quarantined):,}", status)
        skipped = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if rel in known or rel.startswith("instruments/") or path.name.lower().startswith(("readme", "license")):
                continue
            table.add_row(rel, "-", "-", "-", "-", f"skipped: {_skip_reason(rel)}")
            skipped += 1
    console.print(table)
    for note in notes:
        console.print(f"  {note}", soft_wrap=True, highlight=False)
    console.print(f"{files:,} files imported, {total_rows:,} rows, {total_bad:,} bad records quarantined, "
                  f"{skipped:,} files skipped ({time.perf_counter() - t0:.1f} s)", highlight=False)


# --------------------------------------------------------------------------------------------
# ls, query
# --------------------------------------------------------------------------------------------


def _ts(ts: int | None) -> str:
    from tradeforge.model.timeutil import format_timestamp_ns

    return "-" if ts is None else format_timestamp_ns(ts)


@data_app.command("ls")
def ls(
    catalog: CatalogOpt,
    kind: Annotated[str | None, typer.Option("--kind", help="only bars, quotes or trades")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="only ids containing this text")] = None,
) -> None:
    """List the catalog's series: kind, instrument, first and last timestamp, rows, files."""
    from tradeforge.data.catalog import Catalog, normalize_kind

    with _errors_exit_2():
        if not catalog.is_dir():
            raise ValueError(f"{catalog}: no such catalog folder")
        want = normalize_kind(kind) if kind else None
        entries = [e for e in Catalog(catalog).list()
                   if (want is None or e.kind == want) and (instrument is None or instrument in e.instrument_id)]
    table = Table(title=f"catalog {catalog}")
    for col, just in (("kind", "left"), ("instrument", "left"), ("first (UTC)", "left"), ("last (UTC)", "left"),
                      ("rows", "right"), ("files", "right"), ("partition", "left")):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for e in entries:
        table.add_row(e.kind, e.instrument_id, _ts(e.first_ts), _ts(e.last_ts), f"{e.rows:,}", f"{e.files:,}",
                      e.granularity)
    console.print(table)
    console.print(f"{len(entries):,} series, {len({e.instrument_id for e in entries}):,} instruments, "
                  f"{sum(e.rows for e in entries):,} rows", highlight=False)


@data_app.command("query")
def query(
    sql: Annotated[str, typer.Argument(help="DuckDB SQL over views bars, quotes, trades, instruments")],
    catalog: CatalogOpt,
    limit: Annotated[int, typer.Option("--limit", help="rows to print")] = 50,
    out: Annotated[Path | None, typer.Option("--out", help="write all rows to FILE.parquet or FILE.csv")] = None,
) -> None:
    """Run SQL over the catalog; print the first --limit rows, or write every row to --out."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from tradeforge.data.catalog import Catalog, arrow_reader

    with _errors_exit_2():
        if not catalog.is_dir():
            raise ValueError(f"{catalog}: no such catalog folder")
        if out is not None and out.suffix not in (".parquet", ".csv"):
            raise ValueError(f"--out {out}: the file must end in .parquet or .csv")
        con = Catalog(catalog).connect()
        try:
            reader = arrow_reader(con.sql(sql))
            if out is not None:  # streamed: memory bounded by one batch
                out.parent.mkdir(parents=True, exist_ok=True)
                rows = 0
                writer: Any = (pq.ParquetWriter(out, reader.schema, compression="zstd") if out.suffix == ".parquet"
                               else pacsv.CSVWriter(out, reader.schema))
                with writer:
                    for batch in reader:
                        writer.write_batch(batch)
                        rows += batch.num_rows
                console.print(f"{rows:,} rows written to {out}", highlight=False)
                return
            batches, rows, more = [], 0, False
            for batch in reader:
                if rows >= limit:
                    more = True
                    break
                batches.append(batch.slice(0, limit - rows))
                rows += min(batch.num_rows, limit - rows)
                more = batch.num_rows > batches[-1].num_rows
            table = pa.Table.from_batches(batches, schema=reader.schema)
        finally:
            con.close()
    view = Table()
    for name in table.column_names:
        view.add_column(name, overflow="fold")
    for row in table.to_pylist():
        view.add_row(*("NULL" if v is None else str(v) for v in row.values()))
    console.print(view)
    console.print(f"{table.num_rows:,} rows" + (f" shown (more than {limit}; use --limit or --out)" if more else ""),
                  highlight=False)
