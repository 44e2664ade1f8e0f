"""Typed alternative-data events and their conversion to the engine's ``CustomData``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import msgspec

from tradeforge.data.alt.sentiment import LexiconSentiment
from tradeforge.model.data import CustomData
from tradeforge.model.timeutil import parse_timestamp_ns

NEWS_HEADLINE = "news_headline"


class NewsHeadline(msgspec.Struct, frozen=True):
    """A headline about ``tickers`` (plain symbols, e.g. ``"AAPL"``): ``ts_event`` when it was
    published, ``ts_init`` when the system received it (what replay orders by), ``sentiment`` in
    [-1, 1]."""

    ts_event: int
    ts_init: int
    headline: str
    tickers: tuple[str, ...]
    source: str = ""
    sentiment: float = 0.0


def to_custom_data(events: Iterable[msgspec.Struct], data_type: str, instrument_id: str = "") -> list[CustomData]:
    """Wrap typed events (with ``ts_event`` / ``ts_init``) as ``CustomData``, sorted by ``ts_init``
    (stable, so events received together keep their order)."""
    out = [CustomData(data_type, e, e.ts_event, e.ts_init, instrument_id) for e in events]  # type: ignore[attr-defined]
    out.sort(key=lambda d: d.ts_init)
    return out


def load_headlines_csv(path: str | Path, scorer: LexiconSentiment | None = None) -> list[NewsHeadline]:
    """Headlines from a CSV with ``ts_event, ts_init`` (ISO 8601 with offset), ``tickers`` (``;``
    separated), ``headline`` and ``source``; each scored by ``scorer`` (default lexicon)."""
    scorer = scorer or LexiconSentiment()
    out = []
    with open(path, newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                ts_event, ts_init = parse_timestamp_ns(row["ts_event"]), parse_timestamp_ns(row["ts_init"])
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path} line {line}: bad timestamp: {exc}") from exc
            if ts_init < ts_event:
                raise ValueError(f"{path} line {line}: ts_init is before ts_event")
            tickers = tuple(t.strip() for t in row["tickers"].split(";") if t.strip())
            text = row["headline"].strip()
            out.append(NewsHeadline(ts_event, ts_init, text, tickers, row.get("source", ""), scorer.score(text)))
    out.sort(key=lambda h: h.ts_init)
    return out
