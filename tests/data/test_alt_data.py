"""Alternative data: the lexicon scorer, the custom-data store round trip, as-of alignment."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from tradeforge.data.alt import (
    CustomDataStore,
    LexiconSentiment,
    NewsHeadline,
    known_before,
    load_headlines_csv,
    to_custom_data,
)
from tradeforge.data.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data/news/headlines_sample.csv"


def test_scorer_polarity_negation_and_intensity() -> None:
    s = LexiconSentiment()
    assert s.score("Apple beats estimates, shares surge") > 0.5
    assert s.score("Apple misses estimates") < 0
    assert s.score("Apple does not miss estimates") > 0  # negation flips
    assert s.score("Apple doesn't miss estimates") == s.score("Apple does not miss estimates")
    assert s.score("No growth in the cloud business") < 0
    assert s.score("JPMorgan results in line with forecasts") == 0.0
    assert s.score("Profit better than expected") > s.score("Profit rises")  # phrase outweighs a word
    assert s.score("Shares rise sharply") > s.score("Shares rise") > s.score("Shares rise slightly") > 0
    assert s.score("Shares sharply lower") < s.score("Shares lower") < 0
    assert -1 < s.score("plunge plunge fraud fraud scandal crash") < -0.9  # bounded
    assert [w for w, _ in s.scores("Amazon profit beats estimates; shares tumble")] == ["profit", "beats", "tumble"]


def test_sample_headlines_load_and_score() -> None:
    heads = load_headlines_csv(SAMPLE)
    assert 55 <= len(heads) <= 70
    assert all(h.ts_init >= h.ts_event for h in heads)
    assert [h.ts_init for h in heads] == sorted(h.ts_init for h in heads)
    assert {t for h in heads for t in h.tickers} == {"AAPL", "MSFT", "AMZN", "JPM", "XOM"}
    pos = sum(h.sentiment > 0 for h in heads)
    neg = sum(h.sentiment < 0 for h in heads)
    assert pos > 15 and neg > 15


def test_store_round_trip_and_query(tmp_path) -> None:
    heads = load_headlines_csv(SAMPLE)
    store = CustomDataStore(tmp_path)
    assert store.write("news_headline", heads) == len(heads)
    assert store.data_types() == ["news_headline"]
    assert [f.parent.name for f in store.files("news_headline")] == ["date=2016", "date=2017", "date=2018"]
    back = store.read("news_headline", NewsHeadline)
    assert back == heads and isinstance(back[0].tickers, tuple)
    lo, hi = heads[10].ts_init, heads[40].ts_init
    assert store.read("news_headline", NewsHeadline, lo, hi) == heads[10:40]
    t = store.query("SELECT count(*) AS n, avg(sentiment) AS s FROM news_headline WHERE list_contains(tickers, 'AAPL')")
    aapl = [h.sentiment for h in heads if "AAPL" in h.tickers]
    assert t.column("n")[0].as_py() == len(aapl) and t.column("s")[0].as_py() == pytest.approx(np.mean(aapl))
    # the market-data catalog on the same root ignores the custom folder
    assert Catalog(tmp_path).list() == []

    class Other(msgspec.Struct, frozen=True):
        ts_event: int
        ts_init: int
        value: float

    with pytest.raises(ValueError, match="fields"):
        store.read("news_headline", Other)
    store.write("my_signal", [Other(2, 3, 1.5), Other(1, 1, -0.5)])
    assert store.read("my_signal", Other) == [Other(1, 1, -0.5), Other(2, 3, 1.5)]


def test_alignment_uses_only_headlines_received_before() -> None:
    ev = np.array([10, 20, 20, 35])
    assert known_before(ev, np.array([5, 10, 11, 20, 21, 40])).tolist() == [0, 0, 1, 1, 3, 4]
    data = to_custom_data([NewsHeadline(5, 9, "b", ("X",)), NewsHeadline(1, 2, "a", ("X",))], "news_headline")
    assert [d.ts_init for d in data] == [2, 9] and data[0].payload.headline == "a"
