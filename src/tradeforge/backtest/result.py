"""Backtest results: tables (orders, fills, positions, equity) as Parquet and ``summary.json``.

Output is byte-identical for identical inputs: rows come in engine order (deterministic), money and
prices are exact decimals, and nothing time- or host-dependent is written.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import MutableSequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradeforge.backtest.metrics import compute_summary
from tradeforge.data.errors import BadRecord
from tradeforge.model.enums import OrderStatus
from tradeforge.model.fixed import MONEY_PRECISION, MONEY_SCALE
from tradeforge.node.kernel import Node

_DEC = pa.decimal128(38, 9)


class EquityCurve:
    """Equity and gross exposure (money raw) after the last event of each timestamp.

    Held in compact ``array('q')`` (8 bytes a sample instead of ~36 for a list of ints); a value
    beyond int64 (equity above ~9.2e9 currency units) switches the curve to Python ints for good.
    """

    __slots__ = ("equity", "gross", "ts")

    def __init__(self) -> None:
        self.ts: MutableSequence[int] = array("q")
        self.equity: MutableSequence[int] = array("q")
        self.gross: MutableSequence[int] = array("q")

    def record(self, ts: int, equity: int, gross: int) -> None:
        try:
            self.ts.append(ts)
            self.equity.append(equity)
            self.gross.append(gross)
        except OverflowError:
            self.widen()
            self.record(ts, equity, gross)

    def widen(self) -> None:
        """Switch to unbounded Python ints, dropping a sample that was only partly appended."""
        n = min(len(self.ts), len(self.equity), len(self.gross))
        self.ts, self.equity, self.gross = list(self.ts[:n]), list(self.equity[:n]), list(self.gross[:n])

    def __len__(self) -> int:
        return len(self.ts)


def _dec(raw: int | None, precision: int) -> Decimal | None:
    return None if raw is None else Decimal(raw).scaleb(-precision)


class BacktestResult:
    """Everything a finished run produced, with the summary statistics."""

    def __init__(
        self, node: Node, curve: EquityCurve, quarantined: list[BadRecord] | None = None,
        data_warnings: dict[str, int] | None = None,
    ) -> None:
        self.engine = node
        self.curve = curve
        self.portfolio = node.portfolio
        self.orders = list(node.execution.orders.values())
        self.fills = node.execution.fills
        self.closed_trades = node.portfolio.closed_trades
        self.errors = node.execution.errors
        self.quarantined = quarantined or []
        self.data_warnings = data_warnings or {}

    @property
    def final_equity_raw(self) -> int:
        return self.portfolio.equity()

    def summary(self) -> dict[str, Any]:
        pf = self.portfolio
        eq = np.asarray([v / MONEY_SCALE for v in self.curve.equity], dtype=np.float64)
        gross = np.asarray([v / MONEY_SCALE for v in self.curve.gross], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(eq > 0, gross / np.where(eq > 0, eq, 1.0), 0.0)
        stats = compute_summary(
            np.asarray(self.curve.ts, dtype=np.int64),
            eq,
            starting_equity=pf.starting_cash / MONEY_SCALE,
            trade_pnls=np.asarray([t.realized_pnl for t in self.closed_trades], dtype=np.float64) / MONEY_SCALE,
            fees_paid=pf.fees_paid / MONEY_SCALE,
            traded_notional=pf.traded_notional / MONEY_SCALE,
            exposure=exposure,
        )
        denied = sum(1 for o in self.orders if o.status is OrderStatus.DENIED)
        stats.update(
            currency=pf.currency,
            final_equity_exact=str(_dec(pf.equity(), MONEY_PRECISION)),
            realized_pnl=str(_dec(pf.realized_pnl, MONEY_PRECISION)),
            orders=len(self.orders),
            orders_denied=denied,
            fills=len(self.fills),
            open_positions=len(pf.open_positions()),
            risk_denials=dict(sorted(self.engine.risk.denials.items())),
            errors=len(self.errors),
            bad_records_quarantined=len(self.quarantined),
            data_warnings=self.data_warnings,
        )
        return stats

    # -- tables --
    def orders_table(self) -> pa.Table:
        inst = self.engine.instruments.get
        rows: dict[str, list[Any]] = {k: [] for k in (
            "client_order_id", "strategy_id", "instrument_id", "side", "type", "time_in_force", "quantity",
            "price", "trigger_price", "status", "filled_qty", "avg_px", "ts_init", "ts_last", "reduce_only",
            "post_only", "order_list_id", "reason",
        )}
        for o in self.orders:
            i = inst(o.instrument_id)
            rows["client_order_id"].append(o.client_order_id)
            rows["strategy_id"].append(o.strategy_id)
            rows["instrument_id"].append(o.instrument_id)
            rows["side"].append(o.side.name)
            rows["type"].append(o.order_type.value)
            rows["time_in_force"].append(o.time_in_force.value)
            rows["quantity"].append(_dec(o.quantity, i.size_precision))
            rows["price"].append(_dec(o.price, i.price_precision))
            rows["trigger_price"].append(_dec(o.trigger_price, i.price_precision))
            rows["status"].append(o.status.value)
            rows["filled_qty"].append(_dec(o.filled_qty, i.size_precision))
            avg = None
            if o.filled_qty:
                avg = (Decimal(o.fill_cost_raw) / Decimal(o.filled_qty)).scaleb(-i.price_precision).quantize(
                    Decimal(1).scaleb(-9)
                )
            rows["avg_px"].append(avg)
            rows["ts_init"].append(o.ts_init)
            rows["ts_last"].append(o.ts_last)
            rows["reduce_only"].append(o.reduce_only)
            rows["post_only"].append(o.post_only)
            rows["order_list_id"].append(o.order_list_id)
            last = o.events[-1] if o.events else None
            rows["reason"].append(getattr(last, "reason", "") or "")
        return _table(rows, decimals=("quantity", "price", "trigger_price", "filled_qty", "avg_px"),
                      timestamps=("ts_init", "ts_last"))

    def fills_table(self) -> pa.Table:
        inst = self.engine.instruments.get
        rows: dict[str, list[Any]] = {k: [] for k in (
            "ts_event", "client_order_id", "strategy_id", "instrument_id", "execution_id", "side", "last_qty",
            "last_px", "commission", "liquidity_side", "position_id",
        )}
        for f in self.fills:
            i = inst(f.instrument_id)
            rows["ts_event"].append(f.ts_event)
            rows["client_order_id"].append(f.client_order_id)
            rows["strategy_id"].append(f.strategy_id)
            rows["instrument_id"].append(f.instrument_id)
            rows["execution_id"].append(f.execution_id)
            rows["side"].append(f.side.name)
            rows["last_qty"].append(_dec(f.last_qty, i.size_precision))
            rows["last_px"].append(_dec(f.last_px, i.price_precision))
            rows["commission"].append(_dec(f.commission, MONEY_PRECISION))
            rows["liquidity_side"].append(f.liquidity_side.value)
            rows["position_id"].append(f.position_id)
        return _table(rows, decimals=("last_qty", "last_px", "commission"), timestamps=("ts_event",))

    def positions_table(self) -> pa.Table:
        """Closed round trips, then positions still open at the end (``closed`` false)."""
        inst = self.engine.instruments.get
        rows: dict[str, list[Any]] = {k: [] for k in (
            "position_id", "strategy_id", "instrument_id", "opened", "closed_at", "closed", "peak_qty",
            "net_qty", "realized_pnl", "unrealized_pnl",
        )}
        for t in self.closed_trades:
            i = inst(t.instrument_id)
            for k, v in (("position_id", t.position_id), ("strategy_id", t.strategy_id),
                         ("instrument_id", t.instrument_id), ("opened", t.opened_ns), ("closed_at", t.closed_ns),
                         ("closed", True), ("peak_qty", _dec(t.peak_qty, i.size_precision)),
                         ("net_qty", _dec(0, i.size_precision)),
                         ("realized_pnl", _dec(t.realized_pnl, MONEY_PRECISION)),
                         ("unrealized_pnl", _dec(0, MONEY_PRECISION))):
                rows[k].append(v)
        for p in self.portfolio.open_positions():
            i = inst(p.instrument_id)
            mark = self.portfolio.last_price(p.instrument_id) or 0
            for k, v in (("position_id", p.position_id), ("strategy_id", p.strategy_id),
                         ("instrument_id", p.instrument_id), ("opened", p.opened_ts_ns), ("closed_at", None),
                         ("closed", False), ("peak_qty", _dec(p.peak_qty, i.size_precision)),
                         ("net_qty", _dec(p.net_qty, i.size_precision)),
                         ("realized_pnl", _dec(p.realized_pnl, MONEY_PRECISION)),
                         ("unrealized_pnl", _dec(p.unrealized_pnl(mark), MONEY_PRECISION))):
                rows[k].append(v)
        return _table(rows, decimals=("peak_qty", "net_qty", "realized_pnl", "unrealized_pnl"),
                      timestamps=("opened", "closed_at"))

    def equity_table(self) -> pa.Table:
        c = self.curve
        scale = Decimal(1).scaleb(-MONEY_PRECISION)
        return pa.table({
            "ts": pa.array(c.ts, pa.timestamp("ns", tz="UTC")),
            "equity": pa.array([Decimal(v) * scale for v in c.equity], _DEC),
            "gross_exposure": pa.array([Decimal(v) * scale for v in c.gross], _DEC),
        })

    def write(self, out_dir: str | Path) -> Path:
        """Write ``orders/fills/positions/equity.parquet``, ``summary.json`` (+ ``quarantine.csv``)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in (("orders", self.orders_table()), ("fills", self.fills_table()),
                            ("positions", self.positions_table()), ("equity", self.equity_table())):
            pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, sort_keys=True) + "\n")
        if self.quarantined:
            lines = ["source,record,field,reason"]
            for b in self.quarantined:
                lines.append(f"{b.source},{b.record},{b.field},\"{b.reason}\"")
            (out / "quarantine.csv").write_text("\n".join(lines) + "\n")
        return out


def _table(rows: dict[str, list[Any]], decimals: tuple[str, ...], timestamps: tuple[str, ...]) -> pa.Table:
    cols = {}
    for k, v in rows.items():
        if k in decimals:
            cols[k] = pa.array(v, _DEC)
        elif k in timestamps:
            cols[k] = pa.array(v, pa.timestamp("ns", tz="UTC"))
        else:
            cols[k] = pa.array(v)
    return pa.table(cols)


__all__ = ["BacktestResult", "EquityCurve"]
