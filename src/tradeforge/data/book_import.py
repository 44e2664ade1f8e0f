"""Order-level files as catalog columns: LOBSTER, Databento MBO and NASDAQ ITCH 5.0.

Each loader turns one source into the columns the catalog stores (``trades`` and ``book`` deltas,
plus ``quotes`` for LOBSTER's level-1 orderbook file), with prices and sizes rescaled exactly to the
instrument's precision, and says what it did not use (quarantined records, notes):

- :func:`load_lobster`: the message file gives trade prints (types 4, 5, 6) and market-by-price
  (L2) deltas of the rebuilt book; with the orderbook file beside it (``..._orderbook_N``), the
  levels a message reveals at the touch (not in a level-N message file) come from that file and are
  emitted as UPDATE deltas, and its level-1 rows become top-of-book quotes (where the touch changed).
  L2 rather than L3 because orders resting since before the start are unknown: order deltas would
  leave out their size, level deltas carry each level's full size.
- :func:`load_dbn`: Databento ``mbo`` (``.dbn``/``.dbn.zst``): ``T`` records as trades,
  ``A``/``C``/``M``/``R`` as market-by-order (L3) deltas with the venue's order ids and sequence.
- :func:`load_itch`: per stock, trades and L2 depth deltas of the rebuilt full-depth book; messages
  on order references the stream never added (a sampled or mid-day file) are skipped
  (``UnknownOrderPolicy.IGNORE``) and counted in the notes.

``ts_init`` is ``ts_event`` for LOBSTER and ITCH (file time), DBN's ``ts_recv`` for Databento.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tradeforge.data.book.events import level_delta_rows
from tradeforge.data.book.l3 import BookUpdates
from tradeforge.data.columns import BookDeltaColumns, Columns, QuoteColumns, TradeColumns
from tradeforge.data.errors import BadRecord, BadRecordPolicy
from tradeforge.model.instruments import Instrument, InstrumentProvider

__all__ = [
    "BookImport",
    "file_date",
    "level_delta_columns",
    "load_dbn",
    "load_itch",
    "load_lobster",
    "lobster_orderbook_path",
    "lobster_ticker",
]

FILE_PRICE_PRECISION = 4  # LOBSTER and ITCH prices: dollars x 10000
_DATE8 = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


@dataclass
class BookImport:
    """What a loader produced: per source file the columns it gave, the quarantined records and notes."""

    parts: list[tuple[str, Columns]] = field(default_factory=list)  # (source file, columns)
    bad: list[BadRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[Columns]:
        return [c for _, c in self.parts if len(c)]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _rescale(arr: np.ndarray, have: int, want: int, what: str) -> np.ndarray:
    """Raw integers at precision ``have`` -> at ``want`` (exactly; refuses to drop digits)."""
    arr = np.asarray(arr, np.int64)
    if want == have:
        return arr
    if want > have:
        return arr * 10 ** (want - have)
    f = 10 ** (have - want)
    if np.any(arr % f):
        raise ValueError(f"{what}: values with {have} decimals do not fit the instrument's precision {want}")
    return arr // f


def level_delta_columns(
    instrument_id: str,
    updates: BookUpdates,
    ts_event: np.ndarray,
    ts_init: np.ndarray,
    sequence: np.ndarray,
    *,
    touch: bool = False,
) -> BookDeltaColumns:
    """Market-by-price (L2) deltas of a book replay as columns, without an event object per delta:
    :func:`~tradeforge.data.book.events.level_delta_rows` (``touch``: with the level-one re-sync
    deltas), with ``sequence[i]`` for message ``i``."""
    msg, side, price, size, action = level_delta_rows(updates, touch=touch)
    return BookDeltaColumns(
        instrument_id, np.asarray(ts_event, np.int64)[msg], np.asarray(ts_init, np.int64)[msg],
        action.astype(np.int8), side.astype(np.int8), price, size, np.zeros(len(msg), np.int64),
        np.asarray(sequence, np.int64)[msg],
    )


def _book_scaled(cols: BookDeltaColumns, inst: Instrument, source: str) -> BookDeltaColumns:
    return BookDeltaColumns(
        cols.instrument_id, cols.ts_event, cols.ts_init, cols.action, cols.side,
        _rescale(cols.price, FILE_PRICE_PRECISION, inst.price_precision, f"{source} prices"),
        _rescale(cols.size, 0, inst.size_precision, f"{source} sizes"), cols.order_id, cols.sequence,
    )


def _trades_scaled(t: TradeColumns, inst: Instrument, source: str) -> TradeColumns:
    return TradeColumns(
        t.instrument_id, t.ts_event, t.ts_init,
        _rescale(t.price, FILE_PRICE_PRECISION, inst.price_precision, f"{source} prices"),
        _rescale(t.size, 0, inst.size_precision, f"{source} sizes"), t.aggressor, t.trade_id,
    )


def file_date(path: str | Path) -> str | None:
    """``YYYY-MM-DD`` from the first ``YYYYMMDD`` or ``YYYY-MM-DD`` in a file name, else ``None``."""
    name = Path(path).name
    m = re.search(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", name) or _DATE8.search(name)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


# --------------------------------------------------------------------------------------------
# LOBSTER
# --------------------------------------------------------------------------------------------


def lobster_orderbook_path(message_path: str | Path) -> Path | None:
    """The orderbook file next to a LOBSTER message file (``_message_N`` -> ``_orderbook_N``), if any."""
    p = Path(message_path)
    if "_message_" not in p.name:
        return None
    cand = p.with_name(p.name.replace("_message_", "_orderbook_"))
    return cand if cand.exists() else None


def lobster_ticker(path: str | Path) -> str | None:
    m = re.match(r"([^_]+)_\d{4}-\d{2}-\d{2}_", Path(path).name)
    return m.group(1) if m else None


def load_lobster(
    path: str | Path,
    instruments: InstrumentProvider,
    *,
    instrument_id: str | None = None,
    venue: str = "XNAS",
    orderbook: str | Path | None = None,
    date: str | None = None,
    kinds: tuple[str, ...] = ("trades", "book", "quotes"),
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> BookImport:
    """A LOBSTER message file (and its orderbook file, found beside it unless given) as columns.

    ``instrument_id`` defaults to the file name's ticker at ``venue`` (``AMZN.XNAS``).
    """
    from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook, rebuild_book, trade_columns

    source = str(path)
    if instrument_id is None:
        ticker = lobster_ticker(path)
        if ticker is None:
            raise ValueError(f"{source}: no TICKER_YYYY-MM-DD_ file name: give --instrument-id")
        instrument_id = f"{ticker}.{venue}"
    inst = instruments.get(instrument_id)
    iid = str(inst.id)
    out = BookImport()
    msgs, bad = read_lobster_messages(path, date=date, policy=policy)
    out.bad += bad
    ob_path = Path(orderbook) if orderbook is not None else lobster_orderbook_path(path)
    ob = None
    if ob_path is not None:
        ob, bad_ob = read_lobster_orderbook(ob_path, policy=policy)
        out.bad += bad_ob
        if not np.array_equal(msgs.line, ob.line):
            if not (bad or bad_ob):
                raise ValueError(f"{ob_path}: {len(ob):,} rows for {len(msgs):,} messages in {source}: "
                                 "not the orderbook file of these messages")
            both = np.intersect1d(msgs.line, ob.line)  # the rows both files still have
            msgs = _take_lines(msgs, both)
            ob = _take_lines(ob, both)
    ts = msgs.ts_event
    if "trades" in kinds:
        out.parts.append((source, _trades_scaled(trade_columns(msgs, iid), inst, source)))
    if "book" in kinds:
        replay = rebuild_book(msgs, ob, instrument_id=iid)
        deltas = level_delta_columns(iid, replay.updates, ts, ts, msgs.line, touch=ob is not None)
        out.parts.append((source, _book_scaled(deltas, inst, source)))
        if ob is not None:
            out.notes.append(f"{len(replay.reveals):,} touch levels taken from the orderbook file, "
                             f"{len(replay.mismatches):,} mismatches")
        else:
            out.notes.append("no orderbook file: levels revealed at the touch are unknown")
    if ob is not None and ob_path is not None and "quotes" in kinds:
        out.parts.append((str(ob_path), _lobster_quotes(ob, ts, iid, inst, str(ob_path))))
    return out


def _take_lines(cols, lines: np.ndarray):  # LobsterMessages | LobsterOrderbook
    keep = np.isin(cols.line, lines)
    arrays = {k: v[keep] for k, v in vars(cols).items() if isinstance(v, np.ndarray)}
    return type(cols)(cols.source, **arrays)


def _lobster_quotes(ob, ts: np.ndarray, iid: str, inst: Instrument, source: str) -> QuoteColumns:
    """Level one of the orderbook file as quotes where it changed (an empty side: price 0, size 0)."""
    ap, asz, bp, bsz = ob.ask_price[:, 0], ob.ask_size[:, 0], ob.bid_price[:, 0], ob.bid_size[:, 0]
    ap = np.where(asz > 0, ap, 0)
    bp = np.where(bsz > 0, bp, 0)
    top = np.stack([bp, bsz, ap, asz])
    keep = np.ones(len(ts), dtype=bool)
    keep[1:] = np.any(top[:, 1:] != top[:, :-1], axis=0)
    px = [_rescale(a[keep], FILE_PRICE_PRECISION, inst.price_precision, f"{source} prices") for a in (bp, ap)]
    sz = [_rescale(a[keep], 0, inst.size_precision, f"{source} sizes") for a in (bsz, asz)]
    return QuoteColumns(iid, ts[keep], ts[keep].copy(), px[0], px[1], sz[0], sz[1])


# --------------------------------------------------------------------------------------------
# Databento MBO
# --------------------------------------------------------------------------------------------


def load_dbn(
    path: str | Path,
    instruments: InstrumentProvider,
    *,
    instrument_id: str,
    kinds: tuple[str, ...] = ("trades", "book"),
    policy: BadRecordPolicy = BadRecordPolicy.RAISE,
) -> BookImport:
    """A Databento MBO file of one instrument: ``T`` trades and L3 book deltas."""
    from tradeforge.data.databento import load_dbn_mbo, mbo_deltas, mbo_trades

    inst = instruments.get(instrument_id)
    cols, bad = load_dbn_mbo(path, instrument=inst, policy=policy)
    out = BookImport(bad=list(bad))
    source = str(path)
    if "trades" in kinds:
        out.parts.append((source, mbo_trades(cols)))
    if "book" in kinds:
        deltas = mbo_deltas(cols)
        out.parts.append((source, BookDeltaColumns.from_events(deltas.events, str(inst.id))))  # type: ignore[arg-type]
        fills = int(np.count_nonzero(cols.action == ord("F")))
        if fills:
            out.notes.append(f"{fills:,} F (fill) records give no event (the book changes by C/M)")
    return out


# --------------------------------------------------------------------------------------------
# ITCH 5.0
# --------------------------------------------------------------------------------------------


def load_itch(
    path: str | Path,
    instruments: InstrumentProvider,
    *,
    venue: str = "XNAS",
    symbols: list[str] | None = None,
    date: str | None = None,
    timezone: str = "America/New_York",
    kinds: tuple[str, ...] = ("trades", "book"),
) -> BookImport:
    """An ITCH 5.0 file (BinaryFILE or MoldUDP64, ``.gz`` or not): per stock trades and L2 deltas.

    ``date`` (the session day, for UNIX timestamps) defaults to the ``YYYYMMDD`` in the file name.
    Every stock traded in the file (or in ``symbols``) needs an instrument ``STOCK.{venue}``.
    """
    from tradeforge.data.book.l3 import UnknownOrderPolicy
    from tradeforge.data.itch import ZeroLengthPrefixWarning, decode_file
    from tradeforge.data.itch.book import rebuild_books

    source = str(path)
    day = date or file_date(path)
    if day is None:
        raise ValueError(f"{source}: no YYYYMMDD in the file name: give --date")
    out = BookImport()
    log = logging.getLogger("tradeforge.data.itch.decode")
    level = log.level
    with warnings.catch_warnings():  # the decoder's notices are returned in the notes instead
        warnings.simplefilter("ignore", ZeroLengthPrefixWarning)
        log.setLevel(logging.ERROR)
        try:
            msgs = decode_file(path)
        finally:
            log.setLevel(level)
    out.notes += [n.split(": ", 1)[-1] for n in msgs.notices]
    replay = rebuild_books(msgs, date=day, timezone=timezone, venue=venue,
                           stocks=set(symbols) if symbols else None, unknown=UnknownOrderPolicy.IGNORE)
    stocks = sorted(set(replay.columns) | set(replay.trades))
    missing = [f"{s}.{venue}" for s in stocks if f"{s}.{venue}" not in instruments]
    if missing:
        raise ValueError(f"{source}: no instrument for {', '.join(missing)}: add them to an instrument file "
                         "(or import only some stocks with --symbols)")
    skipped = 0
    for stock in stocks:
        inst = instruments.get(f"{stock}.{venue}")
        iid = str(inst.id)
        if "trades" in kinds and stock in replay.trades:
            out.parts.append((source, _trades_scaled(replay.trades[stock], inst, source)))
        if "book" in kinds and stock in replay.columns:
            c, u = replay.columns[stock], replay.updates[stock]
            skipped += int(np.count_nonzero(u.order_size < 0))
            te = c.timestamp.astype(np.int64) + replay.midnight_ns
            deltas = level_delta_columns(iid, u, te, te, c.position)
            out.parts.append((source, _book_scaled(deltas, inst, source)))
    out.notes.insert(0, f"{len(stocks)} stocks ({', '.join(stocks)}), session date {day}")
    if "book" in kinds:
        out.notes.append(f"{skipped:,} messages on unknown order references skipped")
    return out
