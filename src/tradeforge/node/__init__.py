"""The kernel every environment shares: bus, clock, portfolio, risk, execution, venues, strategies."""
