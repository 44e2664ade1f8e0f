"""Research tools that work on whole histories at once (vectorized): pair discovery, walk-forward
schedules. Pure numpy/numba over arrays; loading from files lives in ``research.pairs.data``."""
