"""Alternative data: custom typed events (news headlines, any user time series) as msgspec structs,
stored as Parquet datasets under a catalog root, replayed by their own ``ts_init`` through
``BacktestEngine.add_custom_data`` (topic ``data.custom.{data_type}``), and a lexicon sentiment scorer."""

from tradeforge.data.alt.events import NEWS_HEADLINE, NewsHeadline, load_headlines_csv, to_custom_data
from tradeforge.data.alt.sentiment import LexiconSentiment
from tradeforge.data.alt.store import CustomDataStore, known_before

__all__ = [
    "NEWS_HEADLINE",
    "CustomDataStore",
    "LexiconSentiment",
    "NewsHeadline",
    "known_before",
    "load_headlines_csv",
    "to_custom_data",
]
