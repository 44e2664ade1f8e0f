"""``tradeforge risk``: the manual kill switch for a running node, and the audit trail read back.

A running node polls a command file (``RiskEngine.watch_commands``); ``kill``/``resume``/``reduce``/
``unwind`` append one JSON line to it, naming who and why. The engine applies it at its next poll,
on its own clock, and logs it in the audit trail. ``audit`` replays an audit log (``risk_audit.jsonl``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from tradeforge.risk.audit import read_audit, replay

risk_app = typer.Typer(no_args_is_help=True, help="Kill switch and audit trail of the risk engine.")
console = Console()

Scope = Annotated[str, typer.Option("--scope", help="system, strategy, instrument, venue or account")]
Key = Annotated[str, typer.Option("--key", help="the strategy / instrument / venue / account id (not for system)")]
Who = Annotated[str, typer.Option("--who", help="who gives the command (logged)")]
Why = Annotated[str, typer.Option("--why", help="why (logged)")]
Commands = Annotated[Path, typer.Option("--commands", help="the node's risk command file (JSON lines)")]
_SCOPES = ("system", "strategy", "instrument", "venue", "account")


def _append(path: Path, action: str, scope: str, key: str, who: str, why: str) -> None:
    if scope not in _SCOPES:
        console.print(f"[red]error:[/red] --scope must be one of {', '.join(_SCOPES)}")
        raise typer.Exit(2)
    if scope != "system" and not key:
        console.print(f"[red]error:[/red] --key is required for scope {scope}")
        raise typer.Exit(2)
    if not who.strip() or not why.strip():
        console.print("[red]error:[/red] --who and --why are required")
        raise typer.Exit(2)
    cmd = {"action": action, "scope": scope, "key": key, "who": who, "why": why}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        f.write(msgspec.json.encode(cmd) + b"\n")
    console.print(f"{action} {scope} {key}".rstrip() + f" queued in {path} (by {who}: {why})")


@risk_app.command()
def kill(commands: Commands, who: Who, why: Why, scope: Scope = "system", key: Key = "") -> None:
    """HALT a scope (everything by default): its open orders are canceled, nothing new passes."""
    _append(commands, "kill", scope, key, who, why)


@risk_app.command()
def resume(commands: Commands, who: Who, why: Why, scope: Scope = "system", key: Key = "") -> None:
    """Set a scope ACTIVE again."""
    _append(commands, "resume", scope, key, who, why)


@risk_app.command()
def reduce(commands: Commands, who: Who, why: Why, scope: Scope = "system", key: Key = "") -> None:
    """Set a scope REDUCING: only orders that reduce positions pass."""
    _append(commands, "reduce", scope, key, who, why)


@risk_app.command()
def unwind(commands: Commands, who: Who, why: Why, scope: Scope = "system", key: Key = "") -> None:
    """REDUCING plus an orderly unwind of the scope's positions."""
    _append(commands, "unwind", scope, key, who, why)


@risk_app.command()
def audit(path: Annotated[Path, typer.Argument(help="risk_audit.jsonl")]) -> None:
    """Replay an audit log: decisions, denials by check, breaches, actions and the final trading states."""
    try:
        records = read_audit(path)
        rep = replay(records)
    except (OSError, msgspec.DecodeError, ValueError) as exc:
        console.print(f"[red]error:[/red] {path}: {exc}")
        raise typer.Exit(2) from None
    console.print(f"{len(records):,} records: {rep.accepted:,} accepted, {sum(rep.denied.values()):,} denied")
    table = Table(title="denials by check")
    table.add_column("check")
    table.add_column("denied", justify="right")
    for name, n in sorted(rep.denied.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(name, f"{n:,}")
    console.print(table)
    for r in rep.breaches + rep.actions:
        console.print(f"{r.ts} {r.kind} {r.scope} {r.key}: {r.detail} ({r.who}: {r.why})", soft_wrap=True)
    states = ", ".join(f"{k}={v}" for k, v in rep.states.snapshot().items())
    console.print(f"trading states: {states}")
