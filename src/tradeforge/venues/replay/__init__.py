"""Book-replay venue: our orders against replayed L3 / L2 / L1 order flow (see :mod:`.venue`)."""
