"""Command line: ``python -m benchmarks NAME [--n N] [--seed S] [--repeats R] [--profile TOP]``; JSON line last."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from benchmarks import (
    _common,
    catalog_read,
    catalog_write,
    cep,
    engine_bars,
    engine_quotes,
    fix_codec,
    fix_roundtrip,
    indicators,
    itch_book,
    itch_decode,
    lobster_replay,
    pairs_scan,
    risk_check,
    sim_l3_replay,
    sim_matching,
)

BENCHMARKS: dict[str, tuple[Callable[..., dict[str, Any]], int]] = {
    engine_bars.NAME: (engine_bars.run, engine_bars.DEFAULT_N),
    engine_quotes.NAME: (engine_quotes.run, engine_quotes.DEFAULT_N),
    itch_decode.NAME: (itch_decode.run, itch_decode.DEFAULT_N),
    catalog_write.NAME: (catalog_write.run, catalog_write.DEFAULT_N),
    catalog_read.NAME: (catalog_read.run, catalog_read.DEFAULT_N),
    lobster_replay.NAME: (lobster_replay.run, lobster_replay.DEFAULT_N),
    itch_book.NAME: (itch_book.run, itch_book.DEFAULT_N),
    sim_matching.NAME: (sim_matching.run, sim_matching.DEFAULT_N),
    sim_l3_replay.NAME: (sim_l3_replay.run, sim_l3_replay.DEFAULT_N),
    fix_codec.NAME: (fix_codec.run, fix_codec.DEFAULT_N),
    fix_roundtrip.NAME: (fix_roundtrip.run, fix_roundtrip.DEFAULT_N),
    pairs_scan.NAME: (pairs_scan.run, pairs_scan.DEFAULT_N),
    risk_check.NAME: (risk_check.run, risk_check.DEFAULT_N),
    indicators.NAME: (indicators.run, indicators.DEFAULT_N),
    cep.NAME: (cep.run, cep.DEFAULT_N),
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one benchmark, print its JSON record last; exit 1 on a cross-check mismatch."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", choices=sorted(BENCHMARKS), help="benchmark to run")
    parser.add_argument("--n", type=int, default=None, help="number of events (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the numpy RNG that generates the data")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="TOP",
        help="run engine.run() under cProfile and print the TOP functions by tottime to stderr",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="best of this many runs, for the engine and the bare loop (default 3)"
    )
    args = parser.parse_args(argv)
    fn, default_n = BENCHMARKS[args.name]
    n = args.n if args.n is not None else default_n
    if n < 100:
        parser.error("--n must be at least 100")
    return _common.finish(fn(n=n, seed=args.seed, profile_top=args.profile, repeats=max(1, args.repeats)))


if __name__ == "__main__":
    sys.exit(main())
