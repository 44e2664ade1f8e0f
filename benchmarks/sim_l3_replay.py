"""``sim_l3_replay``: L3 order flow replayed through the book-replay venue, with and without a strategy.

Data: the LOBSTER AMZN day in ``data/l3`` (65,684 flow messages incl. 8,169 reveals) and a seeded
synthetic L3 flow of ``n`` messages (never crossed, FIFO executions; ``synthetic.py``), both built
once (not timed). Timed, per dataset (best of ``repeats``):

- ``venue``: a :class:`BacktestEngine` replaying the flow through the L3 venue, nothing else
  subscribed (no strategy, no market data): the simulator's own speed -- the compiled replay (the
  kernel book fed in runs, the default) and, once, the reference Python venue (``compiled=False``);
- ``with_mm``: the same plus the market view (top-of-book quotes and prints) and the passive market
  maker of ``examples/strategies`` quoting both sides through the OMS and the risk gate; events
  counted are flow messages + quotes + prints;
- the bare loop: the compiled (numba) :class:`L3Book` applying the same messages (no venue, no
  queue tracking): what a book alone costs.

``events_per_s`` is the synthetic stream with the market maker (the issue's headline figure); the
other figures are extra fields. Cross-check: the venue reproduces every LOBSTER execution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import base_record, peak_rss_mb, profiled, timed

NAME = "sim_l3_replay"
DEFAULT_N = 1_000_000
ROOT = Path(__file__).resolve().parents[1]
L3 = ROOT / "data" / "l3"


def _instruments():
    from tradeforge.model.instruments import InstrumentProvider, instrument_from_dict

    base = {"kind": "equity", "currency": "USD", "tick_size": "0.0001", "lot_size": "1"}
    return InstrumentProvider([instrument_from_dict({**base, "id": iid}, "bench") for iid in ("AMZN.XNAS", "SYN.XNAS")])


def _engine(flow, derived, strategy: bool, record: bool = False, compiled: bool = True):
    from tradeforge.backtest.engine import BacktestEngine, load_strategy_class
    from tradeforge.venues.replay.venue import ReplayVenueConfig

    engine = BacktestEngine(_instruments(), "USD", 10**15)
    venue = engine.add_replay_venue(ReplayVenueConfig("XNAS", fidelity="l3", compiled=compiled))
    venue.record_trades = record
    engine.add_order_flow(flow, derived=derived, market_data=strategy)
    if strategy:
        cls = load_strategy_class(str(ROOT / "examples/strategies/passive_market_maker.py") + ":PassiveMarketMaker")
        engine.add_strategy(cls("mm", {"instrument": flow.instrument_id, "quantity": 100}))
    return engine, venue


def _numba_book(flow) -> None:
    from tradeforge.data.book.l3 import L3Book, UnknownOrderPolicy
    from tradeforge.venues.replay.flow import FlowAction

    keep = np.isin(flow.action, (FlowAction.ADD, FlowAction.CANCEL, FlowAction.DELETE, FlowAction.EXECUTE))
    book = L3Book(flow.instrument_id, unknown=UnknownOrderPolicy.IGNORE, capacity=max(1024, len(flow) // 4))
    book.apply(flow.action[keep].astype(np.int64), flow.order_id[keep], flow.side[keep].astype(np.int64),
               flow.price[keep], flow.size[keep], record=False)


def _best(fn, repeats: int, profile_top: int) -> tuple[Any, float]:
    out, best = None, float("inf")
    for _ in range(1 if profile_top else repeats):
        out, s = profiled(fn, profile_top) if profile_top else timed(fn)
        best = min(best, s)
    return out, best


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record."""
    from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook
    from tradeforge.venues.replay.flow import flow_from_lobster
    from tradeforge.venues.replay.market_view import derive
    from tradeforge.venues.replay.synthetic import synthetic_flow

    def setup():
        msgs, _ = read_lobster_messages(L3 / "AMZN_2012-06-21_34200000_57600000_message_1.csv.gz")
        ob, _ = read_lobster_orderbook(L3 / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv.gz")
        amzn = flow_from_lobster(msgs, ob, "AMZN.XNAS")
        syn = synthetic_flow(n, seed, "SYN.XNAS", start_ns=1_340_000_000 * 10**9, mid=2_000_000)
        return msgs, amzn, derive(amzn), syn, derive(syn)

    (msgs, amzn, amzn_d, syn, syn_d), setup_s = timed(setup)
    _numba_book(syn)  # warm-up: compiles (or loads) the kernels
    _timed_run(amzn, amzn_d, True, 0)
    figures: dict[str, Any] = {}
    for label, flow, derived in (("amzn", amzn, amzn_d), ("synthetic", syn, syn_d)):
        s_venue = min(_timed_run(flow, derived, False, 0)[0] for _ in range(repeats))
        s_reference = _timed_run(flow, derived, False, 0, compiled=False)[0]
        s_mm, events = min(_timed_run(flow, derived, True, profile_top) for _ in range(1 if profile_top else repeats))
        _, s_book = _best(lambda f=flow: _numba_book(f), repeats, 0)
        figures[label] = {
            "flow_messages": len(flow),
            "venue_events_per_s": round(len(flow) / s_venue, 1),
            "reference_venue_events_per_s": round(len(flow) / s_reference, 1),
            "with_mm_events": events,
            "with_mm_events_per_s": round(events / s_mm, 1),
            "numba_book_events_per_s": round(len(flow) / s_book, 1),
            "venue_seconds": round(s_venue, 4),
            "with_mm_seconds": round(s_mm, 4),
        }
    rss = peak_rss_mb()
    engine, venue = _engine(amzn, amzn_d, False, record=True)
    engine.run()
    execs = np.isin(msgs.type, (4, 5))
    want = list(zip(msgs.ts_event[execs].tolist(), msgs.direction[execs].tolist(), msgs.price[execs].tolist(),
                    msgs.size[execs].tolist(), strict=True))
    check = "ok" if venue.trades == want else f"MISMATCH: {len(venue.trades)} executions, LOBSTER has {len(want)}"
    syn_fig = figures["synthetic"]
    rec = base_record(NAME, syn_fig["with_mm_events"], syn_fig["with_mm_seconds"],
                      len(syn) / syn_fig["numba_book_events_per_s"], setup_s, rss)
    rec.update({"amzn": figures["amzn"], "synthetic": syn_fig, "repeats": repeats, "seed": seed,
                "profiled": bool(profile_top), "cross_check": check})
    return rec


def _timed_run(flow, derived, strategy: bool, profile_top: int, compiled: bool = True) -> tuple[float, int]:
    """Seconds of one ``engine.run()`` (the engine is built untimed) and the events it replayed."""
    engine, _ = _engine(flow, derived, strategy, compiled=compiled)
    _, seconds = profiled(engine.run, profile_top) if profile_top else timed(engine.run)
    return seconds, sum(len(s) for s in engine.streams)


if __name__ == "__main__":  # python -m benchmarks.sim_l3_replay [n]
    import sys

    from benchmarks._common import finish

    sys.exit(finish(run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_N)))
