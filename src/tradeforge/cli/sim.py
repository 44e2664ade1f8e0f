"""``tradeforge sim ...``: the book-replay simulator's tools.

- ``tradeforge sim calibrate --mbo FILE --instruments TOML --instrument ID --out venue.toml`` fits the
  latency legs (from the MBO's receive vs exchange times) and the L2 queue model (the one whose
  fill-probability curve is closest to the L3 truth on the same data), prints the fitted numbers and
  the curve comparison, and writes a run-config ``[[venue]]`` table. ``--lobster MSG --orderbook OB``
  adds the same comparison on a LOBSTER day (printed only: LOBSTER has no receive times, and the
  venue written is the MBO's). See docs/calibration.md.

Errors (unknown instrument, unreadable file, bad option) print ``error: ...`` and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from tradeforge.model.instruments import Instrument, InstrumentError, InstrumentProvider

sim_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Book-replay simulator tools: calibrate.")
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
