"""The risk gate: every order passes here before any venue sees it.

The execution engine calls :meth:`RiskEngine.check` for each new order and each modify; there is no
other way to a venue. Checks are plug-ins (see :mod:`tradeforge.risk.checks` and the ``checks_*``
modules); denials are counted per check and every decision goes to the audit trail.

``compiled=True`` decides on the compiled path (:mod:`tradeforge.risk.compiled_path`: array books and
one numba call per order, the same decisions and reasons; every configured check must be a standard
one); ``compiled="auto"`` takes it when every check is standard; ``False`` keeps the plug-in path. Not
given: ``COMPILED_DEFAULT`` (False: the kernels' first compilation on a machine takes ~30 s, then they
load from numba's cache, which only pays off for order-heavy runs and live trading).

Once attached to a kernel (:meth:`attach`) the engine keeps its books incrementally
(:class:`~tradeforge.risk.state.RiskState`) from the order events on the bus and, when a check or a
monitor needs prices, from market data. It holds the trading states per scope, the kill switch, the
post-trade monitors with their breach actions, and orderly unwinds. Risk events go out on
``events.risk.{kind}``. Time is the engine clock's only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradeforge.core.bus import MessageBus
from tradeforge.core.clock import Clock, TimeEvent
from tradeforge.model.data import Bar, QuoteTick, TradeTick
from tradeforge.model.enums import OrderSide, OrderStatus, TradingState
from tradeforge.model.events import OrderEvent, OrderFilled, OrderPendingCancel, OrderPendingUpdate, OrderSubmitted
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.portfolio.portfolio import Portfolio
from tradeforge.risk.audit import AuditLog
from tradeforge.risk.breach import Action, Monitor
from tradeforge.risk.checks import BuyingPower, ReduceOnlyCheck, RiskCheck, RiskContext, TradingStateCheck
from tradeforge.risk.checks_flow import Throttle
from tradeforge.risk.checks_order import DuplicateOrderCheck
from tradeforge.risk.compiled_path import CompiledPath
from tradeforge.risk.compiled_plan import compile_checks
from tradeforge.risk.events import RiskEvent, RiskReport
from tradeforge.risk.scope import (
    ACCOUNT,
    ALL,
    DEFAULT_ACCOUNT,
    INSTRUMENT,
    PORTFOLIO,
    SECTOR,
    STRATEGY,
    SYSTEM,
    VENUE,
    ScopeKeys,
    label,
)
from tradeforge.risk.state import MARK_LAST, MARK_MID, InstRisk, RiskState
from tradeforge.risk.trading_state import HALTED, REDUCING, TradingStates
from tradeforge.risk.unwind import UNWIND_TAG, Trading, Unwind
from tradeforge.risk.var_monitor import VarMonitor

MINUTE_NS = 60_000_000_000
#: the ``compiled`` option engines get when given none (``"auto"``: compiled when every check is supported)
COMPILED_DEFAULT: bool | Literal["auto"] = False
_BUY = OrderSide.BUY


class RiskEngine:
    """Runs the configured checks in order; the first denial wins."""

    def __init__(
        self,
        portfolio: Portfolio,
        instruments: Callable[[str], Instrument],
        checks: Iterable[RiskCheck] = (),
        trading_state: TradingState = TradingState.ACTIVE,
        *,
        sectors: dict[str, str] | None = None,
        accounts: dict[str, str] | None = None,
        monitors: Iterable[Monitor] = (),
        audit: AuditLog | None = None,
        unwind_horizon_ns: int = 60 * MINUTE_NS,
        unwind_interval_ns: int = 5 * MINUTE_NS,
        unwind_participation: float = 0.1,
        audit_accepted: bool = True,
        var_interval_ns: int | None = None,
        var_options: dict[str, Any] | None = None,
        compiled: bool | Literal["auto"] | None = None,
    ) -> None:
        self.portfolio = portfolio
        self._instruments = instruments
        self.state = RiskState(instruments, sectors, accounts)
        self.states = TradingStates(trading_state)
        self.audit = audit if audit is not None else AuditLog()
        self.audit_accepted = audit_accepted
        self.checks: list[RiskCheck] = [TradingStateCheck(), ReduceOnlyCheck()]
        #: the checks an order that adds nothing to the position (``increasing_qty == 0``) can fail: those
        #: without ``increasing_only`` (which pass such orders), in the same order; rebuilt if ``checks`` changes
        self._reducing_checks: list[RiskCheck] = list(self.checks)
        self._reducing_of: list[RiskCheck] = list(self.checks)
        self.monitors: list[Monitor] = list(monitors)
        self.unwind_horizon_ns = unwind_horizon_ns
        self.unwind_interval_ns = unwind_interval_ns
        self.unwind_participation = unwind_participation
        self.unwinds: dict[str, Unwind] = {}
        self.denials: Counter[str] = Counter()
        self.breaches: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.passed = 0
        self.events: list[RiskEvent] = []  # every risk event published (small: no per-decision events)
        self._bus: MessageBus | None = None
        self._clock: Clock | None = None
        self._trading: Trading | None = None
        self._throttles: list[Throttle] = []
        self._duplicates: list[DuplicateOrderCheck] = []
        self._last_ts = -1
        self._var_scheduled = False
        self._post_trade_due = False
        self._pending_timers: list[tuple[str, int, Callable[[TimeEvent], None]]] = []
        self.var_interval_ns = var_interval_ns
        self.var = VarMonitor(self.state, portfolio.equity, **(var_options or {}))
        self._keys = self._new_ctx()
        self._ctx = self._new_ctx()
        #: compiled decision path: ``None`` when every check is supported, ``True`` required, ``False`` off
        self.compiled: bool | Literal["auto"] = COMPILED_DEFAULT if compiled is None else compiled
        self._fast: CompiledPath | None = None
        self._fast_due = True  # (re)build the compiled path at the next decision
        for c in checks:
            self.add_check(c)

    def _new_ctx(self) -> RiskContext:
        return RiskContext(
            instrument=None, instruments=self._instruments, portfolio=self.portfolio,  # type: ignore[arg-type]
            open_orders=tuple, trading_state=self.states.system, now_ns=0, state=self.state,
        )

    # -- configuration --
    def add_check(self, check: RiskCheck) -> None:
        self.checks.append(check)
        self._fast_due = True
        if isinstance(check, Throttle):
            self._throttles.append(check)
        if isinstance(check, DuplicateOrderCheck):
            self._duplicates.append(check)
        if isinstance(check, BuyingPower):
            self.state.cost_of = check.cost
        rolling = getattr(check, "rolling", None)
        if rolling:
            self.state.rolling_kinds = self.state.rolling_kinds | {k for k, *_ in rolling.entries}
            self.state.rolling_window_ns = check.window_ns  # type: ignore[attr-defined]

    def add_monitor(self, monitor: Monitor) -> None:
        self.monitors.append(monitor)
        if monitor.metric == "rolling_loss":
            self.state.rolling_kinds = self.state.rolling_kinds | {monitor.kind}

    @property
    def needs_market_data(self) -> bool:
        """Whether prices must reach the engine (checks or monitors that read marks)."""
        return bool(self.monitors) or self.var_interval_ns is not None or bool(self._pending_timers) or any(
            getattr(c, "needs_marks", False) for c in self.checks
        )

    # -- wiring --
    def attach(self, bus: MessageBus, clock: Clock, trading: Trading) -> None:
        """Follow order events on ``bus`` (before strategies see them); cancel and unwind via ``trading``."""
        self._bus = bus
        self._clock = clock
        self._trading = trading
        bus.subscribe("events.order.*", self.on_order_event, priority=1_000)
        self._var_scheduled = False
        self.prepare()

    def prepare(self) -> None:
        """Build the compiled decision path now (numba kernels load from the cache: ~0.5 s), not at the
        first decision; done when attached. Checks added later rebuild it at the next decision."""
        if self._fast_due:
            self._build_compiled()

    def _on_var_timer(self, event: TimeEvent) -> None:
        self.var.on_timer(event, self._publish_report)

    def _publish_report(self, report: RiskReport) -> None:
        if self._bus is not None:
            self._bus.publish("events.risk.report", report)

    def risk_report(self) -> RiskReport:
        """P&L, exposure and VaR/ES now (on demand), published like the scheduled ones."""
        rep = self.var.report(self._now())
        self._publish_report(rep)
        return rep

    def on_order_event(self, event: OrderEvent) -> None:
        st = self.state
        if type(event) is OrderFilled:
            st.fill(event)
            if self.monitors and not self._post_trade_due and self._clock is not None:
                # post-trade check of this fill: as soon as the OMS is done with it (a clock alert,
                # never from inside the fill's handling), before the next event is processed
                self._post_trade_due = True
                self._clock.set_time_alert("risk:post-trade", self._clock.timestamp_ns(), self._post_trade)
            return
        t = st.tracked.get(event.client_order_id)
        if t is not None:
            st.sync(t)
            if self._throttles and type(event) in (OrderPendingCancel, OrderPendingUpdate):
                self._record_message(t.order, event.ts_event, False)
        elif type(event) is OrderSubmitted and self._trading is not None:
            order = self._trading.order(event.client_order_id)
            if order is not None:
                ir = st.instrument(order.instrument_id)
                st.release(order, ir.mark if ir.mark is not None else self.portfolio.last_price(order.instrument_id))
                self._record_message(order, event.ts_event, True)

    def _record_message(self, order: Order, now: int, is_new: bool) -> None:
        if self._fast is not None:
            self._fast.record(order, now, is_new)
            return
        if is_new:
            for d in self._duplicates:
                d.on_submitted(order, now)
        if self._throttles:
            st = self.state
            k = self._keys
            iid, sid = order.instrument_id, order.strategy_id
            ir = st.inst.get(iid)
            if ir is None:
                ir = st.instrument(iid)
            k.iid, k.sid, k.venue, k.sector = iid, sid, ir.venue, ir.sector
            k.account = account = st.accounts.get(sid, DEFAULT_ACCOUNT)
            sk = ir.scope_keys.get(sid)
            if sk is None or sk.account != account:
                sk = ir.scope_keys[sid] = ScopeKeys(iid, sid, account, ir.venue, ir.sector)
            k.keys = sk.keys
            for t in self._throttles:
                t.record(k, now, is_new)

    # -- market data (subscribed by the kernel when needed) --
    def _tick(self, iid: str, ts: int) -> InstRisk:
        if ts != self._last_ts:
            if not self._var_scheduled and self._clock is not None:
                self._var_scheduled = True  # timers run from the first price on, not from the clock's epoch
                if self.var_interval_ns is not None:
                    self._clock.set_timer("risk:var", self.var_interval_ns, self._on_var_timer)
                for name, interval, cb in self._pending_timers:
                    self._clock.set_timer(name, interval, cb)
            if self._last_ts >= 0 and self.monitors:
                self.evaluate()
            if ts >= self.state.next_day_ns:
                self.state.roll(ts)
            if self.state.rolling_kinds:
                self.state.sample(ts)
            self._last_ts = ts
        ir = self.state.inst.get(iid)
        return ir if ir is not None else self.state.instrument(iid)

    def on_bar(self, bar: Bar) -> None:
        ts = bar.ts_init
        ir = self._tick(bar.instrument_id, ts)
        self.state.mark(ir, bar.close, ts, MARK_LAST)
        if bar.volume >= 0:
            self.state.add_volume(ir, bar.volume, ts)

    def on_quote(self, quote: QuoteTick) -> None:
        ts = quote.ts_init
        ir = self._tick(quote.instrument_id, ts)
        self.state.mark(ir, (quote.bid + quote.ask) // 2, ts, MARK_MID)

    def on_trade(self, trade: TradeTick) -> None:
        ts = trade.ts_init
        ir = self._tick(trade.instrument_id, ts)
        self.state.mark(ir, trade.price, ts, MARK_LAST)

    # -- the gate (hot path) --
    @property
    def trading_state(self) -> TradingState:
        return self.states.system

    @trading_state.setter
    def trading_state(self, state: TradingState) -> None:
        self.states.system = state

    def increasing_quantity(self, order: Order) -> int:
        """How much of ``order`` would increase the absolute net position if it filled."""
        net = self.portfolio.net_quantity(order.instrument_id)
        signed = int(order.side) * order.leaves_qty
        if net == 0 or (net > 0) == (signed > 0):
            return abs(signed)
        return max(0, abs(signed) - abs(net))

    @property
    def compiled_active(self) -> bool:
        """Whether decisions take the compiled path (built at the first decision)."""
        return self._fast is not None and self._fast.n_checks == len(self.checks)

    def _build_compiled(self) -> CompiledPath | None:
        self._fast_due = False
        self._fast = None
        if self.compiled is False:
            return None
        plan = compile_checks(self.checks)
        if plan is not None and plan.uses_margin and self.state.cost_of is None:
            plan = None  # buying power without the books' reserved cost: only the plug-in scans open orders
        if plan is None:
            if self.compiled is True:
                raise ValueError("compiled=True, but a configured check is not one the compiled path supports")
            return None
        self._fast = CompiledPath(self, plan)
        return self._fast

    def check(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int) -> str | None:
        """``None`` if the order may go to its venue, else the denial reason ("check: why")."""
        fast = self._fast
        if fast is not None and fast.n_checks == len(self.checks):
            return fast.check(order, open_orders, now_ns)
        if self._fast_due or fast is not None:
            fast = self._build_compiled()
            if fast is not None:
                return fast.check(order, open_orders, now_ns)
        if now_ns >= self.state.next_day_ns:
            self._new_day(now_ns)
        ctx, inc = self._context(order, open_orders, now_ns)
        checks = self.checks
        if inc == 0:
            if checks != self._reducing_of:  # ``checks`` changed (``add_check`` or in place): rebuild
                self._reducing_of = list(checks)
                self._reducing_checks = [c for c in checks if not getattr(c, "increasing_only", False)]
            checks = self._reducing_checks
        for check in checks:
            reason = check.check(order, ctx)
            if reason is not None:
                return self._denied(order, check.name, reason, now_ns)
        self.passed += 1
        if self.audit_accepted:
            self.audit.accepted(now_ns, order.client_order_id)
        return None

    def _new_day(self, now_ns: int) -> None:
        """A new day before any price of it: judge the old day first, then roll the books."""
        if self.monitors and self._last_ts >= 0:
            self.evaluate()
        self.state.roll(now_ns)

    def _denied(self, order: Order, name: str, reason: str, now_ns: int) -> str:
        self.denials[name] += 1
        self.audit.decision(now_ns, order.client_order_id, name, reason)
        if self._bus is not None:
            self._publish("denied", STRATEGY, order.strategy_id, f"{order.client_order_id} {name}: {reason}", now_ns)
        return f"{name}: {reason}"

    def _context(self, order: Order, open_orders: Callable[[], Iterable[Order]], now_ns: int) -> tuple[RiskContext, int]:
        """The reused context filled for one decision, and the order's increasing quantity."""
        st = self.state
        iid = order.instrument_id
        ir = st.inst.get(iid)
        if ir is None:
            ir = st.instrument(iid)
        ctx = self._ctx
        ctx.instrument = ir.inst
        ctx.ir = ir
        ctx.open_orders = open_orders
        ctx.now_ns = now_ns
        sid = order.strategy_id
        ctx.iid = iid
        ctx.sid = sid
        venue = ctx.venue = ir.venue
        ctx.sector = ir.sector
        account = ctx.account = st.accounts.get(sid, DEFAULT_ACCOUNT)
        sk = ir.scope_keys.get(sid)
        if sk is None or sk.account != account:  # one scope-keys object per (instrument, strategy, account)
            sk = ir.scope_keys[sid] = ScopeKeys(iid, sid, account, venue, ir.sector)
        ctx.keys = sk.keys
        t = st.tracked.get(order.client_order_id)
        leaves = order.quantity - order.filled_qty
        qty = ctx.qty = leaves if t is None else leaves - t.leaves
        # increasing quantity (inlined :meth:`increasing_quantity`; the books follow fills once attached)
        net = ir.total.qty if self._bus is not None else self.portfolio.net_quantity(iid)
        signed = leaves if order.side is _BUY else -leaves
        if net == 0 or (net > 0) == (signed > 0):
            inc = ctx.increasing_qty = leaves
        else:
            inc = ctx.increasing_qty = max(0, leaves - abs(net))
        px = order.price
        if px is None:
            px = order.trigger_price
            if px is None:
                px = ir.mark if ir.mark is not None else self.portfolio.last_price(iid)
        ctx.px = px
        ctx.notional = 0 if px is None or qty <= 0 else qty * (px if px >= 0 else -px) * ir.factor
        states = self.states
        if not states._any or states.system is HALTED:  # no scoped state set: the system's (inlined effective)
            state, where = ctx.trading_state, ctx.state_scope = states.system, ""
        else:
            state, where = ctx.trading_state, ctx.state_scope = states.effective(sid, iid, venue, account)
        ctx.state_increasing_qty = inc
        if state is REDUCING and where.startswith((STRATEGY, ACCOUNT)):  # judged on that scope's position
            cell = st.strategy_cell(sid, iid) if where.startswith(STRATEGY) else st.account_cell(account, iid)
            pos = cell.qty if cell is not None else 0
            if pos == 0 or (pos > 0) == (signed > 0):
                ctx.state_increasing_qty = leaves
            else:
                ctx.state_increasing_qty = max(0, leaves - abs(pos))
        return ctx, inc

    # -- trading states and the kill switch --
    def _now(self) -> int:
        return self._clock.timestamp_ns() if self._clock is not None else 0

    def _publish(self, kind: str, scope: str, key: str, detail: str, ts: int, who: str = "", why: str = "") -> None:
        ev = RiskEvent(kind, scope, key, detail, ts, ts, who, why)
        if kind != "denied":
            self.events.append(ev)
        if self._bus is not None:
            self._bus.publish(f"events.risk.{kind}", ev)

    def set_trading_state(
        self, state: TradingState, scope: str = SYSTEM, key: str = "", who: str = "system", why: str = "",
    ) -> None:
        """Set one scope's trading state (logged). HALTED cancels that scope's open orders."""
        if scope == PORTFOLIO:
            scope = SYSTEM
        old = self.states.set(scope, key, state)
        now = self._now()
        if old is not state:
            detail = state.value
            self.audit.record(now, "state", scope, key, detail, who, why)
            self._publish("state", scope, key, f"{old.value} -> {state.value}", now, who, why)
        if state is HALTED:
            self.cancel_open_orders(scope, key, f"{label(scope, key)} halted", include_unwind=True)
            for name, u in list(self.unwinds.items()):
                if name.startswith(f"{scope}:{key}") or scope == SYSTEM:
                    u.stop(f"{label(scope, key)} halted")

    def kill(self, scope: str = SYSTEM, key: str = "", who: str = "", why: str = "") -> None:
        """The kill switch: HALT ``scope`` (everything by default) and cancel its open orders."""
        if not who or not why:
            raise ValueError("the kill switch needs who and why")
        self.audit.record(self._now(), "kill", scope, key, "HALTED", who, why)
        self._publish("kill", scope, key, "HALTED", self._now(), who, why)
        self.set_trading_state(HALTED, scope, key, who, why)

    def resume(self, scope: str = SYSTEM, key: str = "", who: str = "", why: str = "") -> None:
        if not who or not why:
            raise ValueError("resuming trading needs who and why")
        self.set_trading_state(TradingState.ACTIVE, scope, key, who, why)

    def _in_scope(self, order: Order, scope: str, key: str) -> bool:
        if scope in (SYSTEM, PORTFOLIO):
            return True
        if scope == STRATEGY:
            return order.strategy_id == key
        if scope == INSTRUMENT:
            return order.instrument_id == key
        ir = self.state.instrument(order.instrument_id)
        if scope == VENUE:
            return ir.venue == key
        if scope == SECTOR:
            return ir.sector == key
        if scope == ACCOUNT:
            return self.state.account_of(order.strategy_id) == key
        return False

    def cancel_open_orders(self, scope: str, key: str, why: str, include_unwind: bool = False) -> int:
        """Cancel every open order of one scope; returns how many cancels were sent."""
        if self._trading is None:
            return 0
        n = 0
        for o in list(self._trading.open_orders()):
            if (self._in_scope(o, scope, key) and (include_unwind or UNWIND_TAG not in o.tags)
                    and o.status is not OrderStatus.PENDING_CANCEL):
                self._trading.cancel_order(o)
                n += 1
        self.audit.record(self._now(), "action", scope, key, f"cancel {n} open orders", "risk", why)
        return n

    def _post_trade(self, _event: TimeEvent) -> None:
        self._post_trade_due = False
        self.evaluate()

    # -- breaches and actions --
    def evaluate(self) -> None:
        """Check every monitor now (the engine also does this once per timestamp of market data)."""
        equity = self.portfolio.equity()
        now = self._now()
        for m in self.monitors:
            for agg in m.targets(self.state):
                v = m.value(agg, self.state, equity)
                key = agg.key
                name = f"{m.metric}"
                if v > m.limit and key not in m.breached:
                    m.breached.add(key)
                    self.breaches[name] += 1
                    detail = f"{m.metric} {v} over limit {m.limit}: {m.action.value}"
                    self.audit.record(now, "breach", m.kind, key, detail, "risk", name)
                    self._publish("breach", m.kind, key, detail, now, "risk", name)
                    self.act(m.action, m.kind, key, f"{m.metric} limit breached")
                elif v <= m.limit and key in m.breached:
                    m.breached.discard(key)
                    self.audit.record(now, "cleared", m.kind, key, f"{m.metric} {v} back within {m.limit}", "risk", name)
                    self._publish("cleared", m.kind, key, f"{m.metric} back within limit", now)
                if m.hard is not None and v > m.hard and key not in m.hard_breached:
                    m.hard_breached.add(key)
                    self.audit.record(now, "breach", m.kind, key, f"{m.metric} {v} over hard limit {m.hard}", "risk", name)
                    u = self.unwinds.get(f"{m.kind}:{key}")
                    if u is not None:
                        u.escalate()

    def act(self, action: Action, scope: str, key: str, why: str, who: str = "risk") -> None:
        """Carry out a breach action on a scope (sector scopes act on each of the sector's instruments)."""
        self.actions[action.value] += 1
        now = self._now()
        self.audit.record(now, "action", scope, key, action.value, who, why)
        self._publish("action", scope, key, action.value, now, who, why)
        if action is Action.ALERT:
            return
        if action is Action.CANCEL:
            self.cancel_open_orders(scope, key, why)
            return
        targets = [(scope, key)]
        if scope == SECTOR:
            targets = [(INSTRUMENT, i) for i, ir in sorted(self.state.inst.items()) if ir.sector == key]
        state = HALTED if action is Action.HALT else REDUCING
        for kind, k in targets:
            if self.states.get(kind, k) is not HALTED:
                self.set_trading_state(state, kind, k, who, why)
        if action is Action.UNWIND:
            self.cancel_open_orders(scope, key, why)
            self.unwind(scope, key, who, why)

    def unwind(self, scope: str, key: str = ALL, who: str = "risk", why: str = "") -> Unwind | None:
        """Start an orderly unwind of a scope's positions (see :mod:`tradeforge.risk.unwind`)."""
        if self._trading is None or self._clock is None:
            return None
        name = f"{scope}:{key}"
        if name in self.unwinds and not self.unwinds[name].done:
            return self.unwinds[name]
        positions = []
        for sid, iid, q in self.state.strategy_positions():
            ir = self.state.instrument(iid)
            acct = self.state.account_of(sid)
            if scope in (SYSTEM, PORTFOLIO) or (scope, key) in (
                (STRATEGY, sid), (INSTRUMENT, iid), (VENUE, ir.venue), (SECTOR, ir.sector), (ACCOUNT, acct)
            ):
                positions.append((sid, iid, q))
        now = self._now()

        def log(kind: str, detail: str) -> None:
            self.audit.record(self._now(), "unwind", scope, key, f"{kind}: {detail}", who, why)
            self._publish("unwind", scope, key, f"{kind}: {detail}", self._now(), who, why)

        u = Unwind(name, positions, self.state, self._trading, self._clock, self.unwind_horizon_ns,
                   self.unwind_interval_ns, self.unwind_participation, log)
        self.unwinds[name] = u
        self.audit.record(now, "unwind", scope, key, f"start: {len(positions)} positions", who, why)
        self._publish("unwind", scope, key, f"start: {len(positions)} positions", now, who, why)
        u.begin()
        return u

    # -- commands from outside (the CLI kill switch for a running node) --
    def watch_commands(self, path: str | Path, interval_ns: int = 1_000_000_000) -> None:
        """Poll a JSON-lines command file (written by ``tradeforge risk kill``) on the engine clock, from
        the first price on (call before the node starts). Meant for paper and live nodes: in a backtest
        the file is read at simulated times, so a run with it is only as reproducible as the file."""
        assert self._clock is not None
        offset = [0]
        p = Path(path)

        def poll(_e: TimeEvent) -> None:
            if not p.exists():
                return
            with open(p, "rb") as f:
                f.seek(offset[0])
                data = f.read()
            end = data.rfind(b"\n") + 1
            offset[0] += end
            for line in data[:end].splitlines():
                if line.strip():
                    self.apply_command(msgspec.json.decode(line))

        if self._var_scheduled:
            self._clock.set_timer("risk:commands", interval_ns, poll)
        else:  # from the first price on (see _tick)
            self._pending_timers.append(("risk:commands", interval_ns, poll))

    def apply_command(self, cmd: dict[str, Any]) -> None:
        """``{"action": "kill"|"resume"|"reduce"|"unwind", "scope", "key", "who", "why"}``."""
        action, scope, key = cmd.get("action"), cmd.get("scope", SYSTEM), cmd.get("key", "")
        who, why = cmd.get("who", ""), cmd.get("why", "")
        if action == "kill":
            self.kill(scope, key, who, why)
        elif action == "resume":
            self.resume(scope, key, who, why)
        elif action == "reduce":
            self.set_trading_state(REDUCING, scope, key, who, why)
        elif action == "unwind":
            self.act(Action.UNWIND, scope, key, why, who)
        else:
            raise ValueError(f"unknown risk command {action!r}")

    # -- results --
    def write_results(self, folder: str | Path) -> None:
        """``risk_summary.json`` (counters, states, unwinds, last VaR), ``risk_audit.jsonl`` (the audit
        trail) and ``risk_events.jsonl`` (every risk event but denials, which the audit holds)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        enc = msgspec.json.Encoder(enc_hook=str)
        (out / "risk_summary.json").write_bytes(msgspec.json.format(enc.encode(self.summary()), indent=2) + b"\n")
        if self.audit.path is None:
            self.audit.write(out / "risk_audit.jsonl")
        else:
            self.audit.flush()
        (out / "risk_events.jsonl").write_bytes(enc.encode_lines(self.events))

    def summary(self) -> dict[str, Any]:
        """Counters and states for results (``risk_summary.json``)."""
        return {
            "passed": self.passed,
            "denied": sum(self.denials.values()),
            "denials_by_check": dict(sorted(self.denials.items())),
            "breaches": dict(sorted(self.breaches.items())),
            "actions": dict(sorted(self.actions.items())),
            "trading_states": self.states.snapshot(),
            "unwinds": {
                name: {"orders": len(u.orders), "aggressive": u.aggressive, "done": u.done,
                       "start_positions": {f"{s}/{i}": q for (s, i), q in u.start.items()}}
                for name, u in self.unwinds.items()
            },
            "audit_records": len(self.audit),
            "var_reports": len(self.var.reports),
            "last_var": dict(self.var.reports[-1].var) if self.var.reports else {},
            "last_es": dict(self.var.reports[-1].es) if self.var.reports else {},
        }
