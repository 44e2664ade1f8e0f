"""The ``tradeforge`` command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tradeforge.backtest.config import ConfigError
from tradeforge.cli.data import data_app
from tradeforge.cli.pairs import pairs_app
from tradeforge.cli.risk import risk_app
from tradeforge.cli.sim import sim_app
from tradeforge.cli.summary import print_summary
from tradeforge.data.errors import BadRecordError
from tradeforge.model.instruments import InstrumentError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="tradeforge: research to live, one code path.")
app.add_typer(data_app, name="data")
app.add_typer(pairs_app, name="pairs")
app.add_typer(risk_app, name="risk")
app.add_typer(sim_app, name="sim")
console = Console()

@app.command()
def backtest(
    config: Annotated[Path, typer.Argument(help="run configuration (TOML)")],
    out: Annotated[Path | None, typer.Option("--out", help="folder for Parquet results and summary.json")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run a backtest described by CONFIG and write its results to --out."""
    from tradeforge.backtest.run import run_backtest

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=console, disable=quiet, transient=False,
    ) as progress:
        task = progress.add_task("loading", total=None)
        try:
            result = run_backtest(
                config, out,
                progress=lambda n: progress.advance(task, n),
                on_load=lambda p: progress.update(task, description=f"loading {p}"),
                on_start=lambda total: progress.update(task, description="replaying events", total=total, completed=0),
            )
        except (ConfigError, BadRecordError, InstrumentError, ValueError) as exc:
            progress.stop()
            console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
    summary = result.summary()
    print_summary(summary, f"{config.stem}")
    if result.quarantined:
        console.print(f"[yellow]{len(result.quarantined)} bad records were quarantined[/yellow]"
                      + (f" (listed in {out / 'quarantine.csv'})" if out else ""))
        for b in result.quarantined[:5]:
            console.print(f"  {b.source} {b.unit} {b.record} field '{b.field}': {b.reason}", soft_wrap=True)
    if result.data_warnings:
        listed = ", ".join(f"{k} {v:,}" for k, v in result.data_warnings.items())
        console.print(f"[yellow]data integrity warnings (data kept): {listed}[/yellow]", soft_wrap=True)
    if result.errors:
        console.print(f"[yellow]{len(result.errors)} order errors were reported[/yellow]")
    if out is not None:
        console.print(f"results written to [bold]{out}[/bold]")


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as _v

    console.print(_v("tradeforge"))


if __name__ == "__main__":  # pragma: no cover
    app()
