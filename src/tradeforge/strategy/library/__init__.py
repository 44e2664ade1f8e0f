"""Ready-made strategies used by the examples and benchmarks."""
