"""A book of cointegrated pairs traded on the z-score of their spread, re-selected walk-forward.

Once a day, after every bar of the day has been seen (a timer at 04:00 UTC), the strategy appends
the day's closes to its own history. Every ``trading`` days, once ``formation`` days exist, it
re-selects pairs from the last ``formation`` days with :func:`~tradeforge.research.pairs.walkforward.select_pairs`
(so a selection only ever sees the past); pairs that drop out are closed. Per pair:

- ``spread = log(y) - alpha - beta log(x)``, ``z = spread / sd`` (formation-window estimates);
- enter when ``|z| >= entry_z`` (short the spread when z is high: sell y, buy x), exit when ``|z| <=
  exit_z``, stop out when ``|z| >= stop_z`` (the pair is then blocked until the next selection);
- hedge-ratio sizing: of the pair's gross ``pair_weight * equity``, ``1/(1+beta)`` goes to y and
  ``beta/(1+beta)`` to x; long and short legs in dollars differ by ``|1 - beta|`` of that;
- limits, checked before each entry: book gross ``<= max_gross * equity``, book net
  ``|long - short| <= max_net * equity`` (dollar neutrality), per instrument ``|net| <=
  max_instrument * equity``; the run's risk engine checks every order on top.

Orders are market orders (next day's open on daily bars). Each pair keeps its own ledger from its
fills (shares per leg, cash, fees), so results exist per pair as well as for the book.

Params: ``instruments`` (list), ``formation`` (252), ``trading`` (63), ``entry_z`` (2.0), ``exit_z``
(0.5), ``stop_z`` (4.0), ``pair_weight`` (0.005), ``max_gross`` (2.0), ``max_net`` (0.1),
``max_instrument`` (0.05), ``scan`` (dict of :class:`ScanConfig` fields), ``sectors`` (dict id -> sector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradeforge.core.clock import TimeEvent
from tradeforge.model.data import Bar
from tradeforge.model.enums import OrderSide
from tradeforge.model.events import OrderEvent, OrderFilled
from tradeforge.research.pairs.scan import ScanConfig
from tradeforge.research.pairs.walkforward import PairSpec, Selection, select_pairs
from tradeforge.strategy.base import Strategy

DAY_NS = 86_400 * 10**9
TIMER_OFFSET_NS = 4 * 3_600 * 10**9  # 04:00 UTC: after the US close, before the next open


@dataclass(slots=True)
class PairBook:
    """One pair's ledger across every window it was selected in."""

    y: str
    x: str
    cols: tuple[int, int]
    spec: PairSpec
    shares: list[int] = field(default_factory=lambda: [0, 0])  # filled, signed raw quantity per leg
    target: list[int] = field(default_factory=lambda: [0, 0])  # ordered, signed
    cash: float = 0.0  # money from this pair's fills (sells +, buys -), net of fees
    fees: float = 0.0
    pending: int = 0  # orders still working
    state: int = 0  # +1 long spread, -1 short spread, 0 flat
    blocked: bool = False  # stopped out in this window
    broken: bool = False  # a leg was denied/rejected: flatten at the next decision
    active: bool = True  # selected in the current window
    entries: int = 0
    stops: int = 0
    windows: int = 1


class PairsTrading(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.ids: tuple[str, ...] = tuple(p["instruments"])
        if not self.ids:
            raise ValueError(f"{self.id}: 'instruments' must be a non-empty list")
        self.col = {iid: k for k, iid in enumerate(self.ids)}
        self.formation = int(p.get("formation", 252))
        self.trading = int(p.get("trading", 63))
        self.entry_z, self.exit_z, self.stop_z = (float(p.get(k, d)) for k, d in
                                                  (("entry_z", 2.0), ("exit_z", 0.5), ("stop_z", 4.0)))
        if not 0 <= self.exit_z < self.entry_z < self.stop_z:
            raise ValueError(f"{self.id}: need 0 <= exit_z < entry_z < stop_z")
        self.pair_weight = float(p.get("pair_weight", 0.005))
        self.max_gross = float(p.get("max_gross", 2.0))
        self.max_net = float(p.get("max_net", 0.1))
        self.max_instrument = float(p.get("max_instrument", 0.05))
        self.scan_config = ScanConfig(**dict(p.get("scan", {})))
        self.sectors: dict[str, str] | None = p.get("sectors")
        insts = [self.instrument(iid) for iid in self.ids]
        self.price_div = [10.0**i.price_precision for i in insts]  # raw / 10**p, as research.pairs.data does
        self.qty_scale = [10 ** i.size_precision for i in insts]
        self.lot = [i.lot_size_raw for i in insts]
        self.money_factor = [i.notional_factor for i in insts]
        self.last = np.full(len(self.ids), np.nan)  # last close per instrument (float)
        self.rows: list[np.ndarray] = []
        self.fresh = False
        self.target = np.zeros(len(self.ids))  # signed shares the strategy has ordered per instrument
        self.books: dict[tuple[str, str], PairBook] = {}
        self.active: list[PairBook] = []
        self.selections: list[Selection] = []
        self.selection_ts: list[int] = []
        self.selected_day = -1
        self.orders_of: dict[str, tuple[PairBook, int]] = {}
        self.skipped_by_limit = 0  # entries refused by the book limits
        self.incomplete = 0  # orders that closed without filling completely
        self.open_counts: list[int] = []  # pairs holding a position, per trading day
        for iid in self.ids:
            self.subscribe_bars(iid)
        now = self.clock.timestamp_ns()
        first = now // DAY_NS * DAY_NS + TIMER_OFFSET_NS
        first = first if first > now else first + DAY_NS
        self.set_timer("daily", DAY_NS, first - DAY_NS)  # fires at start + interval, i.e. at ``first``

    # -- data --
    def on_bar(self, bar: Bar) -> None:
        k = self.col[bar.instrument_id]
        self.last[k] = bar.close / self.price_div[k]
        self.fresh = True

    def on_timer(self, event: TimeEvent) -> None:
        if not self.fresh:
            return  # weekend / holiday: no new closes
        self.fresh = False
        self.rows.append(self.last.copy())
        day = len(self.rows)
        if day >= self.formation and (self.selected_day < 0 or day - self.selected_day >= self.trading):
            self._reselect(day, event.ts_event)
        self._decide()

    # -- selection --
    def _reselect(self, day: int, ts: int) -> None:
        closes = np.array(self.rows[day - self.formation: day])
        sel = select_pairs(closes, self.ids, 0, self.formation, self.scan_config, self.sectors)
        self.selections.append(Selection(day - self.formation, day, sel.pairs, sel.counts))
        self.selection_ts.append(ts)
        self.selected_day = day
        chosen = {(s.y, s.x): s for s in sel.pairs}
        for book in self.active:
            if (book.y, book.x) not in chosen:
                book.active = False
                self._flatten(book)
        self.active = []
        for key, spec in chosen.items():
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = PairBook(key[0], key[1], (self.col[key[0]], self.col[key[1]]), spec)
            else:
                book.spec, book.active, book.blocked = spec, True, False
                book.windows += 1
            self.active.append(book)

    # -- trading --
    def _decide(self) -> None:
        flattening = [b for b in self.books.values() if not b.active and b.pending == 0 and any(b.shares)]
        for book in flattening:  # dropped pairs whose exit did not complete
            self._flatten(book)
        self.open_counts.append(sum(1 for b in self.books.values() if b.state or any(b.shares)))
        if not self.active:
            return
        logp = np.log(self.last)
        equity = self.portfolio.equity() / 1e9
        for book in self.active:
            if book.pending:
                continue
            if book.broken:
                book.broken = False
                self._flatten(book)
                continue
            s = book.spec
            z = (logp[book.cols[0]] - s.alpha - s.beta * logp[book.cols[1]]) / s.sd
            if math.isnan(z):
                continue
            if book.state != 0:
                if abs(z) >= self.stop_z:
                    book.stops += 1
                    book.blocked = True
                    self._flatten(book)
                elif (book.state > 0 and z >= -self.exit_z) or (book.state < 0 and z <= self.exit_z):
                    self._flatten(book)
            elif not book.blocked and self.entry_z <= abs(z) < self.stop_z:
                self._enter(book, -1 if z > 0 else 1, equity)

    def _enter(self, book: PairBook, direction: int, equity: float) -> None:
        iy, ix = book.cols
        py, px = self.last[iy], self.last[ix]
        beta = book.spec.beta
        gross = self.pair_weight * equity
        qy = self._shares(iy, gross / (1 + beta) / py)
        qx = self._shares(ix, gross * beta / (1 + beta) / px)
        if qy == 0 or qx == 0:
            return
        delta = np.zeros(len(self.ids))
        delta[iy] += direction * qy / self.qty_scale[iy]
        delta[ix] -= direction * qx / self.qty_scale[ix]
        after = (self.target + delta) * self.last
        after = np.where(np.isnan(after), 0.0, after)
        if (np.abs(after).sum() > self.max_gross * equity or abs(after.sum()) > self.max_net * equity
                or abs(after[iy]) > self.max_instrument * equity or abs(after[ix]) > self.max_instrument * equity):
            self.skipped_by_limit += 1
            return
        book.state = direction
        book.entries += 1
        self._order(book, 0, direction * qy)
        self._order(book, 1, -direction * qx)

    def _shares(self, col: int, units: float) -> int:
        """Whole lots (raw quantity) for ``units`` of the instrument."""
        raw = int(units * self.qty_scale[col]) // self.lot[col] * self.lot[col]
        return max(raw, 0)

    def _flatten(self, book: PairBook) -> None:
        book.state = 0
        for leg in (0, 1):
            if book.target[leg]:
                self._order(book, leg, -book.target[leg])

    def _order(self, book: PairBook, leg: int, signed_raw: int) -> None:
        iid = book.y if leg == 0 else book.x
        col = book.cols[leg]
        side = OrderSide.BUY if signed_raw > 0 else OrderSide.SELL
        order = self.order_factory.market(iid, side, self.instrument(iid).make_quantity(abs(signed_raw)))
        book.target[leg] += signed_raw
        self.target[col] += signed_raw / self.qty_scale[col]
        book.pending += 1
        self.orders_of[order.client_order_id] = (book, leg)
        self.submit_order(order)

    def on_order_event(self, event: OrderEvent) -> None:
        entry = self.orders_of.get(event.client_order_id)
        if entry is None:
            return
        book, leg = entry
        if isinstance(event, OrderFilled):
            sign = 1 if event.side is OrderSide.BUY else -1
            book.shares[leg] += sign * event.last_qty
            col = book.cols[leg]
            book.cash -= sign * event.last_qty * event.last_px * self.money_factor[col] / 1e9
            book.cash -= event.commission / 1e9
            book.fees += event.commission / 1e9
        order = self.ctx.trading.order(event.client_order_id)
        if order is not None and order.is_closed:
            del self.orders_of[event.client_order_id]
            book.pending -= 1
            unfilled = book.target[leg] - book.shares[leg]
            if unfilled:  # denied, rejected, canceled or expired: the ledger follows what filled
                book.target[leg] = book.shares[leg]
                self.target[book.cols[leg]] -= unfilled / self.qty_scale[book.cols[leg]]
                self.incomplete += 1
                if any(book.shares):
                    book.broken = True  # one-legged or partly filled: flatten at the next decision
                else:
                    book.state = 0

    # -- results --
    def pair_results(self) -> list[dict[str, Any]]:
        """Per pair: P&L (cash from fills + open legs at the last close), fees, entries, stops."""
        rows = []
        for book in sorted(self.books.values(), key=lambda b: (b.y, b.x)):
            open_value = sum(
                book.shares[leg] / self.qty_scale[book.cols[leg]] * float(self.last[book.cols[leg]])
                for leg in (0, 1) if book.shares[leg]
            )
            rows.append({
                "y": book.y, "x": book.x, "windows": book.windows, "entries": book.entries, "stops": book.stops,
                "pnl": round(book.cash + open_value, 2), "fees": round(book.fees, 2),
                "open": bool(any(book.shares)), "beta_last": book.spec.beta, "half_life_last": book.spec.half_life,
            })
        return rows


__all__ = ["PairBook", "PairsTrading"]
