"""``tradeforge sim ...``: the book-replay simulator's tools.

- ``tradeforge sim calibrate --mbo FILE --instruments TOML --instrument ID --out venue.toml`` fits the
  latency legs (from the MBO's receive vs exchange times) and the L2 queue model (the one whose
  fill-probability curve is closest to the L3 truth on the same data), prints the fitted numbers and
  the curve comparison, and writes a run-config ``[[venue]]`` table. ``--lobster MSG --orderbook OB``
  adds the same comparison on a LOBSTER day (printed only: LOBSTER has no receive times, and the
  venue written is the MBO's). See docs/calibration.md.
- ``tradeforge sim compare (--mbo FILE | --lobster MSG --orderbook OB) --instruments TOML --instrument ID
  --strategy FILE.py:Class [--param k=v]`` runs the strategy on the same flow at L3, L2 (each queue
  model) and L1 and prints how fills, fill rate, P&L and markouts differ (docs/simulated_exchange.md).

Errors (unknown instrument, unreadable file, bad option) print ``error: ...`` and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from tradeforge.model.instruments import Instrument, InstrumentError, InstrumentProvider

sim_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Book-replay simulator tools: calibrate, compare.")
console = Console()


def _instrument(files: list[Path], instrument_id: str) -> Instrument:
    for f in files:
        provider = InstrumentProvider.from_toml(f)
        if instrument_id in provider:
            return provider.get(instrument_id)
    raise InstrumentError(f"unknown instrument {instrument_id!r}: not in {', '.join(f.name for f in files)}")


def _horizons(text: str) -> tuple[int, ...]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--horizons: comma-separated seconds, got {text!r}") from None
    if not values or min(values) <= 0:
        raise ValueError("--horizons: give at least one positive number of seconds")
    return tuple(sorted({round(v * 1e9) for v in values}))


@sim_app.command()
def calibrate(
    mbo: Annotated[Path, typer.Option("--mbo", help="Databento MBO file (.dbn or .dbn.zst)")],
    instruments: Annotated[list[Path], typer.Option("--instruments", help="instrument file(s) (TOML)")],
    instrument: Annotated[str, typer.Option("--instrument", help="the MBO's instrument id, e.g. ESH4.GLBX")],
    out: Annotated[Path, typer.Option("--out", help="venue config to write (TOML)")],
    lobster: Annotated[Path | None, typer.Option("--lobster", help="LOBSTER message file (also compared)")] = None,
    orderbook: Annotated[Path | None, typer.Option("--orderbook", help="LOBSTER orderbook file")] = None,
    lobster_instrument: Annotated[str | None, typer.Option(
        "--lobster-instrument", help="LOBSTER instrument id (default: TICKER.XNAS from the file name)")] = None,
    probe_every: Annotated[int, typer.Option("--probe-every", help="a probe every N flow rows", min=1)] = 100,
    horizons: Annotated[str, typer.Option("--horizons", help="horizons in seconds, comma-separated")] = "1,10,60,300",
    side: Annotated[str, typer.Option("--side", help="probe side: buy, sell or both")] = "both",
    lanes: Annotated[int, typer.Option("--lanes", help="probes that may run at once", min=1)] = 8,
    fidelity: Annotated[str, typer.Option("--fidelity", help="fidelity written to the venue: l2 or l1")] = "l2",
    name: Annotated[str | None, typer.Option("--name", help="venue name (default: the instrument's venue)")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="use only the first N flow rows", min=1)] = None,
) -> None:
    """Fit latency and queue parameters from recorded data and write them into a venue config."""
    from tradeforge.backtest.calibrate import calibrate_latency, calibrate_queue, curve_table, write_venue_toml
    from tradeforge.data.databento import load_dbn_mbo
    from tradeforge.venues.replay.flow import flow_from_lobster, flow_from_mbo

    try:
        if fidelity not in ("l2", "l1"):
            raise ValueError(f"--fidelity: l2 or l1 (the queue model is for those), not {fidelity!r}")
        if (lobster is None) != (orderbook is None):
            raise ValueError("--lobster and --orderbook go together")
        hs = _horizons(horizons)
        inst = _instrument(instruments, instrument)
        cols, _ = load_dbn_mbo(mbo, instrument=inst)
        flow = flow_from_mbo(cols)
        latency = calibrate_latency(cols.ts_event, cols.ts_init, cols.flags)
        if limit is not None:
            flow = flow.take(np.arange(min(limit, len(flow))))
        console.print(f"[bold]{inst.id}[/bold]: {len(flow):,} flow rows from {mbo.name}")
        cal = calibrate_queue(flow, inst, horizons_ns=hs, probe_every=probe_every, side=side, lanes=lanes)
        other = None
        if lobster is not None and orderbook is not None:
            from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook

            lid = lobster_instrument or f"{lobster.name.split('_')[0]}.XNAS"
            linst = _instrument(instruments, lid)
            msgs, _ = read_lobster_messages(lobster)
            ob, _ = read_lobster_orderbook(orderbook)
            lflow = flow_from_lobster(msgs, ob, linst.id)
            if limit is not None:
                lflow = lflow.take(np.arange(min(limit, len(lflow))))
            other = (linst.id, lobster.name, len(lflow),
                     calibrate_queue(lflow, linst, horizons_ns=hs, probe_every=probe_every, side=side, lanes=lanes))
    except (InstrumentError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None

    feed = latency["feed"]
    q = feed["quantiles_ns"]
    console.print(
        f"feed latency (ts_recv - ts_event, {feed['n']:,} records): lognormal median {feed['median_ns'] / 1e3:,.1f} µs, "
        f"sigma {feed['sigma']:.3f}; observed p50 {q['p50'] / 1e3:,.1f} µs, p99 {q['p99'] / 1e3:,.1f} µs, "
        f"max {feed['max_ns'] / 1e3:,.1f} µs; entry and response legs = the feed fit (not observable in market data)",
        soft_wrap=True,
    )
    from tradeforge.backtest.calibrate import queue_label

    console.print(f"\nfill probability of 1-lot probes joining the touch, {inst.id}:", soft_wrap=True)
    console.print(curve_table(cal), markup=False, highlight=False, soft_wrap=True)
    console.print(f"best L2 queue model: [bold]{queue_label(cal.best)}[/bold]")
    if other is not None:
        lid, fname, rows, lcal = other
        console.print(f"\n{lid}: {rows:,} flow rows from {fname}", soft_wrap=True)
        console.print(curve_table(lcal), markup=False, highlight=False, soft_wrap=True)
        console.print(f"best L2 queue model on {lid}: [bold]{queue_label(lcal.best)}[/bold] (not written)")
    venue_name = name or inst.id.rsplit(".", 1)[-1]
    errors = ", ".join(f"{queue_label(c)} {e:.5f}" for c, _, e in cal.candidates)
    comments = [
        f"written by `tradeforge sim calibrate` from {mbo.name} ({inst.id}, {len(flow):,} flow rows)",
        f"queue: least squared error of the L2 fill-probability curve vs L3 over {cal.truth.probes} probes "
        f"(horizons {horizons} s): {errors}",
        "latency: feed leg fitted to ts_recv - ts_event; entry and response assumed equal to it",
    ]
    try:
        write_venue_toml(out, venue_name, fidelity, cal.best, latency, comments)
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"venue config written to [bold]{out}[/bold]")


@sim_app.command()
def compare(
    instruments: Annotated[list[Path], typer.Option("--instruments", help="instrument file(s) (TOML)")],
    instrument: Annotated[str, typer.Option("--instrument", help="instrument id, e.g. AMZN.XNAS")],
    strategy: Annotated[str, typer.Option("--strategy", help="strategy class, 'file.py:Class' or 'module:Class'")],
    mbo: Annotated[Path | None, typer.Option("--mbo", help="Databento MBO file")] = None,
    lobster: Annotated[Path | None, typer.Option("--lobster", help="LOBSTER message file")] = None,
    orderbook: Annotated[Path | None, typer.Option("--orderbook", help="LOBSTER orderbook file")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="strategy parameter key=value (repeatable)")] = None,
    latency_us: Annotated[float, typer.Option("--latency-us", help="each latency leg, microseconds", min=0)] = 50.0,
    markout_s: Annotated[float, typer.Option("--markout-s", help="markout horizon, seconds", min=0)] = 1.0,
    out: Annotated[Path | None, typer.Option("--out", help="also write the table (Markdown) and runs (JSON)")] = None,
) -> None:
    """Run one strategy on the same order flow at L3, L2 (each queue model) and L1 and compare the fills."""
    import json

    from tradeforge.backtest.engine import load_strategy_class
    from tradeforge.backtest.fidelity import markdown_table, run_fidelities
    from tradeforge.data.databento import load_dbn_mbo
    from tradeforge.venues.latency import ConstantLatency
    from tradeforge.venues.queue import PowerShape, ProbabilisticQueue, RiskAverseQueue
    from tradeforge.venues.replay.flow import flow_from_lobster, flow_from_mbo
    from tradeforge.venues.replay.venue import ReplayVenueConfig

    try:
        if (mbo is None) == (lobster is None) or (lobster is None) != (orderbook is None):
            raise ValueError("give --mbo FILE, or --lobster MSG with --orderbook OB")
        inst = _instrument(instruments, instrument)
        provider = InstrumentProvider([inst])
        if mbo is not None:
            flow = flow_from_mbo(load_dbn_mbo(mbo, instrument=inst)[0])
        else:
            from tradeforge.data.lobster import read_lobster_messages, read_lobster_orderbook

            assert lobster is not None and orderbook is not None
            flow = flow_from_lobster(read_lobster_messages(lobster)[0], read_lobster_orderbook(orderbook)[0], inst.id)
        cls = load_strategy_class(strategy, Path.cwd())
        params: dict[str, object] = {"instrument": inst.id}
        for item in param or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--param {item!r}: expected key=value")
            params[key] = int(value) if value.lstrip("-").isdigit() else value
    except (InstrumentError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    ns = round(latency_us * 1000)
    lat = ConstantLatency(ns, ns, ns)
    venue = inst.venue
    setups = [
        ("L3 (real queue)", ReplayVenueConfig(venue, "l3", latency=lat)),
        ("L2 risk-averse", ReplayVenueConfig(venue, "l2", RiskAverseQueue(), latency=lat)),
        ("L2 probabilistic n=1", ReplayVenueConfig(venue, "l2", ProbabilisticQueue(PowerShape(1)), latency=lat)),
        ("L2 probabilistic n=3", ReplayVenueConfig(venue, "l2", ProbabilisticQueue(PowerShape(3)), latency=lat)),
        ("L1 risk-averse", ReplayVenueConfig(venue, "l1", RiskAverseQueue(), latency=lat)),
    ]
    runs = run_fidelities(provider, flow, setups, lambda: cls("strategy", dict(params)), feed_latency=lat,
                          markout_ns=round(markout_s * 1e9))
    table = markdown_table(runs)
    console.print(table, markup=False, highlight=False, soft_wrap=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fidelity.md").write_text(table + "\n")
        (out / "fidelity.json").write_text(json.dumps([r.as_dict() for r in runs], indent=2) + "\n")
        console.print(f"written to [bold]{out}[/bold]")
