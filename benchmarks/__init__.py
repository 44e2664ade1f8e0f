"""Throughput benchmarks for tradeforge: ``python -m benchmarks NAME [--n N] [--seed S]``.

Each benchmark generates seeded synthetic data, times ``BacktestEngine.run()`` and, in the same
process, a lean bare-Python loop implementing the same trading rule, cross-checks the two (fills and
final equity must agree exactly) and prints one JSON line last. See ``docs/performance.md``.
"""
