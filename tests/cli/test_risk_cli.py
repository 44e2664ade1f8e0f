"""``tradeforge risk``: the kill switch command file reaches a running engine; ``audit`` replays a log."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.execution._harness import EQUITY, Harness, Scripted
from tradeforge.cli.main import app
from tradeforge.model.enums import OrderSide, OrderStatus, TradingState
from tradeforge.risk.audit import AuditLog

runner = CliRunner()


def test_kill_switch_from_the_command_line_halts_a_running_engine(tmp_path: Path) -> None:
    cmds = tmp_path / "risk_commands.jsonl"
    h = Harness([EQUITY])
    h.engine.risk.audit = AuditLog(tmp_path / "audit.jsonl")
    h.engine.risk.watch_commands(cmds, interval_ns=30 * 10**9)

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["rest"] = s.submit_order(s.f.limit("AAA.SIM", OrderSide.BUY, 5, "90.00"))
            res = runner.invoke(app, ["risk", "kill", "--commands", str(cmds), "--who", "carol", "--why", "fat finger"])
            assert res.exit_code == 0, res.output
        if i == 2:
            s.saved["after"] = s.submit_order(s.f.market("AAA.SIM", OrderSide.BUY, 1))

    s = h.strategy(script)
    h.bars([(100, 101, 99, 100)] * 4)
    h.run()
    assert s.saved["rest"].status is OrderStatus.CANCELED
    assert s.saved["after"].status is OrderStatus.DENIED
    assert h.engine.risk.states.system is TradingState.HALTED
    h.engine.risk.audit.close()

    res = runner.invoke(app, ["risk", "audit", str(tmp_path / "audit.jsonl")])
    assert res.exit_code == 0, res.output
    assert "1 accepted, 1 denied" in res.output
    assert "kill system" in res.output and "carol: fat finger" in res.output
    assert "system=HALTED" in res.output


def test_kill_needs_who_why_and_a_key_for_scoped_kills(tmp_path: Path) -> None:
    cmds = tmp_path / "c.jsonl"
    res = runner.invoke(app, ["risk", "kill", "--commands", str(cmds), "--who", " ", "--why", "x"])
    assert res.exit_code == 2 and "--who and --why" in res.output
    res = runner.invoke(app, ["risk", "reduce", "--commands", str(cmds), "--who", "a", "--why", "b", "--scope", "strategy"])
    assert res.exit_code == 2 and "--key is required" in res.output
    assert not cmds.exists()
