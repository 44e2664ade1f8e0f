"""Pairs discovery: Engle-Granger (and Johansen) cointegration over all pairs of a price matrix,
vectorized, with correlation/sector pre-filters, half-life, Hurst and false-discovery control."""

from tradeforge.research.pairs.engle_granger import EngleGranger, engle_granger
from tradeforge.research.pairs.mackinnon import mackinnon_crit, mackinnon_p
from tradeforge.research.pairs.scan import PairScan, ScanConfig, scan_pairs
from tradeforge.research.pairs.stats import benjamini_hochberg, half_life, hurst_exponent

__all__ = [
    "EngleGranger", "PairScan", "ScanConfig", "benjamini_hochberg", "engle_granger", "half_life",
    "hurst_exponent", "mackinnon_crit", "mackinnon_p", "scan_pairs",
]
