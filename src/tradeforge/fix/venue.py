"""The FIX venue adapter: an :class:`~tradeforge.venues.base.ExecutionVenue` over a FIX session.

The OMS calls :meth:`FixVenue.submit` / :meth:`~FixVenue.cancel` / :meth:`~FixVenue.modify` exactly as
it calls the simulated venue; they send NewOrderSingle / OrderCancelRequest / OrderCancelReplaceRequest.
ExecutionReports, OrderCancelRejects and BusinessMessageRejects come back as order events through
the ``report`` callback. Cancel and replace requests get their own ClOrdIDs (``<id>.C<n>``,
``<id>.R<n>``); the order's current ClOrdID follows accepted replaces.

Reconciliation: after every logon, once the session is in sequence (resends done), open orders are
checked. With ``mass_status`` (default) one OrderMassStatusRequest (35=AF, 585=7) asks for every open
order; the answers (150=I, 584 echoed, 912=Y on the last) give only the events that were missed, and
every order we hold open that the venue did not list (it closed while we were away) gets its own
OrderStatusRequest (35=H). A counterparty that refuses 35=AF (BusinessMessageReject) is asked per
order from then on. Fills are de-duplicated by ExecID here (a repeated ExecID, e.g. ``PossResend``)
and again downstream.

Trade busts and corrections (150=H / 150=G, ExecRefID 19 naming the original fill) never change the
order: they are reported to the OMS as a :class:`~tradeforge.model.events.TradeCorrected`, which
books them into the portfolio and the risk books; they also become a :class:`TradeCorrection` (signed
position and cash change against the original fill) handed to ``on_trade_correction`` and an
:class:`~tradeforge.model.events.ErrorEvent` to ``on_error``, so that someone sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tradeforge.fix import tags as T
from tradeforge.fix.application import (
    FixInstrument,
    cancel_request,
    execution_report_events,
    incremental_to_deltas,
    market_data_request,
    new_order_single,
    order_status_request,
    replace_request,
    snapshot_to_depth,
)
from tradeforge.fix.codec import FixMessage
from tradeforge.fix.session import ClockLike, Session
from tradeforge.fix.validation import BR_UNSUPPORTED_MESSAGE_TYPE
from tradeforge.fix.values import to_raw
from tradeforge.model.data import Data
from tradeforge.model.enums import OrderStatus
from tradeforge.model.events import (
    ErrorEvent,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    TradeCorrected,
)
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.venues.base import Report

log = logging.getLogger("tradeforge.fix")


def _no_report(event: OrderEvent) -> None:
    pass


@dataclass(frozen=True, slots=True)
class TradeCorrection:
    """A fill the venue busted (``kind`` "bust", 150=H) or corrected ("correct", 150=G).

    Quantities and prices are raw integers at the instrument's precisions; ``position_delta`` is the
    signed change of the position (buy positive) and ``notional_delta`` the signed change of
    ``price x quantity`` (raw units) that undoing the original fill and applying the corrected one
    would make. ``original_*`` are 0 when the original ExecID is unknown to this venue."""

    kind: str
    client_order_id: str
    instrument_id: str
    exec_id: str
    ref_exec_id: str
    original_qty: int
    original_px: int
    corrected_qty: int
    corrected_px: int
    position_delta: int
    notional_delta: int
    ts_event: int


class FixVenue:
    """Routes the OMS's orders to a FIX counterparty (see the module docstring)."""

    def __init__(
        self, name: str, session: Session, instruments: Iterable[Instrument | FixInstrument], clock: ClockLike,
        account: str = "", on_data: Callable[[Data], None] | None = None, reconcile: bool = True,
        mass_status: bool = True, mass_status_timeout_s: float = 5.0, on_trade_correction: Callable[[TradeCorrection], None] | None = None,
        on_error: Callable[[ErrorEvent], None] | None = None,
    ) -> None:
        self.name = name
        self.session = session
        self.clock = clock
        self.account = account
        self.reconcile = reconcile
        self.on_data = on_data
        self.instruments: dict[str, FixInstrument] = {}
        for i in instruments:
            fi = i if isinstance(i, FixInstrument) else FixInstrument.of(i)
            self.instruments[fi.instrument_id] = fi
        self._by_symbol = {fi.symbol: fi for fi in self.instruments.values()}
        self._report: Report = _no_report
        self.orders: dict[str, Order] = {}  # client order id -> order
        self._by_clid: dict[str, Order] = {}  # any ClOrdID we sent -> order
        self._current: dict[str, str] = {}  # client order id -> ClOrdID the venue knows the order by
        self._requests: dict[str, int] = {}
        self._md_seq = 0
        self.errors: list[str] = []
        self.mass_status = mass_status
        self.mass_status_timeout_s = mass_status_timeout_s
        self.on_trade_correction = on_trade_correction
        self.on_error = on_error
        self.corrections: list[TradeCorrection] = []
        self._fills: dict[str, tuple[int, int]] = {}  # ExecID -> (qty, px) of fills we reported
        self._mass_req: str | None = None
        self._mass_pending: set[str] = set()  # open orders the pending mass status has not listed yet
        self._ms_seq = 0
        self.mass_status_requests = 0
        self.status_requests = 0
        self.duplicates_ignored = 0
        session.app = self

    # -- ExecutionVenue ------------------------------------------------------------------------------

    def connect(self, report: Report) -> None:
        self._report = report

    def submit(self, order: Order) -> None:
        coid = order.client_order_id
        self.orders[coid] = order
        self._by_clid[coid] = order
        self._current[coid] = coid
        inst = self.instruments[order.instrument_id]
        self.session.send(T.NEW_ORDER_SINGLE, new_order_single(order, coid, inst, self.clock.timestamp_ns(), self.account))

    def cancel(self, order: Order) -> None:
        clid = self._new_clid(order, "C")
        inst = self.instruments[order.instrument_id]
        self.session.send(T.ORDER_CANCEL_REQUEST, cancel_request(order, clid, self._current[order.client_order_id], inst,
                                                                 self.clock.timestamp_ns()))

    def modify(self, order: Order, quantity: int | None, price: int | None, trigger_price: int | None) -> None:
        clid = self._new_clid(order, "R")
        inst = self.instruments[order.instrument_id]
        self.session.send(T.ORDER_CANCEL_REPLACE_REQUEST, replace_request(
            order, clid, self._current[order.client_order_id], inst, self.clock.timestamp_ns(), quantity, price, trigger_price))

    def subscribe_book(self, instrument_ids: list[str], depth: int = 0) -> str:
        """Send a MarketDataRequest; snapshots and increments go to ``on_data`` as book events."""
        self._md_seq += 1
        req_id = f"{self.name}-MD{self._md_seq}"
        self.session.send(T.MARKET_DATA_REQUEST, market_data_request(
            req_id, [self.instruments[i].symbol for i in instrument_ids], depth))
        return req_id

    def _new_clid(self, order: Order, kind: str) -> str:
        n = self._requests.get(order.client_order_id, 0) + 1
        self._requests[order.client_order_id] = n
        clid = f"{order.client_order_id}.{kind}{n}"
        self._by_clid[clid] = order
        return clid

    # -- session application -----------------------------------------------------------------------

    def on_logon(self, session: Session) -> None:
        log.info("%s: logged on", self.name)

    def on_logout(self, session: Session) -> None:
        log.info("%s: logged out", self.name)

    def on_synced(self, session: Session) -> None:
        """In sequence after a logon: reconcile open orders (mass status, else one request per order)."""
        if not self.reconcile:
            return
        open_ids = [coid for coid, o in self.orders.items() if o.is_open]
        if not open_ids:
            return
        if self.mass_status:
            self._ms_seq += 1
            self._mass_req = f"{self.name}-MS{self._ms_seq}"
            self._mass_pending = set(open_ids)
            self.mass_status_requests += 1
            session.send(T.ORDER_MASS_STATUS_REQUEST, [(T.MassStatusReqID, self._mass_req), (T.MassStatusReqType, b"7")])
            with contextlib.suppress(RuntimeError):  # a venue ignoring 35=AF: per-order requests after the timeout
                asyncio.get_running_loop().call_later(self.mass_status_timeout_s, self._mass_status_timeout, self._mass_req)
        else:
            self._request_status(open_ids)

    def _request_status(self, coids: Iterable[str]) -> None:
        for coid in coids:
            order = self.orders[coid]
            if order.is_open:
                self.status_requests += 1
                self.session.send(T.ORDER_STATUS_REQUEST, order_status_request(
                    order, self._current[coid], self.instruments[order.instrument_id]))

    def _mass_status_timeout(self, req_id: str) -> None:
        if self._mass_req == req_id:
            log.warning("%s: mass status %s unanswered after %ss; asking per order", self.name, req_id,
                        self.mass_status_timeout_s)
            self._mass_status_done()

    def _mass_status_done(self) -> None:
        pending, self._mass_pending, self._mass_req = self._mass_pending, set(), None
        self._request_status(sorted(pending))  # not listed as open: closed while we were away

    def on_message(self, session: Session, msg: FixMessage) -> None:
        mt = msg.msg_type
        if mt == T.EXECUTION_REPORT:
            self._on_execution_report(msg)
        elif mt == T.ORDER_CANCEL_REJECT:
            self._on_cancel_reject(msg)
        elif mt == T.BUSINESS_MESSAGE_REJECT:
            self._on_business_reject(msg)
        elif mt == T.MARKET_DATA_SNAPSHOT or mt == T.MARKET_DATA_INCREMENTAL:
            self._on_market_data(msg)
        else:
            session.business_reject(msg, BR_UNSUPPORTED_MESSAGE_TYPE, "Unsupported Message Type")

    def _lookup(self, msg: FixMessage) -> Order | None:
        return self._by_clid.get(msg.get_str(T.ClOrdID)) or self._by_clid.get(msg.get_str(T.OrigClOrdID))

    def _emit(self, events: list[OrderEvent]) -> None:
        for e in events:
            self._report(e)

    def _error(self, text: str) -> None:
        self.errors.append(text)
        log.warning("%s: %s", self.name, text)
        if self.on_error is not None:
            now = self.clock.timestamp_ns()
            self.on_error(ErrorEvent(f"venue.{self.name}", text, now, now))

    def _on_execution_report(self, msg: FixMessage) -> None:
        mass = msg.get_str(T.MassStatusReqID) if T.MassStatusReqID in msg else None
        if mass is not None and mass == self._mass_req:
            self._on_mass_status_report(msg)
            return
        self._execution_report(msg)

    def _on_mass_status_report(self, msg: FixMessage) -> None:
        if msg.get(T.OrderID) != b"NONE":
            order = self._lookup(msg)
            if order is None:
                self._error(f"mass status lists an order we do not know: ClOrdID {msg.get_str(T.ClOrdID)}")
            else:
                self._mass_pending.discard(order.client_order_id)
                self._execution_report(msg)
        if msg.get(T.LastRptRequested) == b"Y" or msg.get(T.TotNumReports) == b"0":
            self._mass_status_done()

    def _execution_report(self, msg: FixMessage) -> None:
        order = self._lookup(msg)
        if order is None:
            self._error(f"ExecutionReport for unknown ClOrdID {msg.get_str(T.ClOrdID)}")
            return
        exec_id = msg.get_str(T.ExecID)
        et = msg.get(T.ExecType)
        if et == b"F" and exec_id in self._fills:
            self.duplicates_ignored += 1  # the same fill again (PossResend, or a venue repeating itself)
            return
        if et in (b"G", b"H"):
            self._on_trade_correction(msg, order, et)
            return
        clid = msg.get_str(T.ClOrdID)
        is_replace = clid != self._current[order.client_order_id] and ".R" in clid
        try:
            events = execution_report_events(msg, order, self.instruments[order.instrument_id],
                                             self.clock.timestamp_ns(), is_replace)
        except ValueError as exc:
            self._error(f"{order.client_order_id}: bad ExecutionReport: {exc}")
            return
        if et == b"5":
            self._current[order.client_order_id] = clid
        for e in events:
            if type(e) is OrderFilled:
                self._fills[e.execution_id] = (e.last_qty, e.last_px)
        self._emit(events)

    def _on_trade_correction(self, msg: FixMessage, order: Order, et: bytes) -> None:
        """150=H (bust) / 150=G (correct): a :class:`TradeCorrection` to the hook, an error to be seen."""
        inst = self.instruments[order.instrument_id]
        ref = msg.get_str(T.ExecRefID)
        exec_id = msg.get_str(T.ExecID)
        orig_qty, orig_px = self._fills.get(ref, (0, 0))
        try:
            if et == b"H":
                new_qty, new_px = 0, 0
            else:
                new_qty = to_raw(msg.get(T.LastQty) or b"0", inst.size_precision)
                new_px = to_raw(msg.get(T.LastPx) or b"0", inst.price_precision)
        except ValueError as exc:
            self._error(f"{order.client_order_id}: bad trade correction: {exc}")
            return
        sign = int(order.side)
        corr = TradeCorrection(
            "bust" if et == b"H" else "correct", order.client_order_id, order.instrument_id, exec_id, ref,
            orig_qty, orig_px, new_qty, new_px, sign * (new_qty - orig_qty), sign * (new_qty * new_px - orig_qty * orig_px),
            self.clock.timestamp_ns())
        if ref in self._fills:
            if et == b"H":
                del self._fills[ref]
            else:
                self._fills[ref] = (new_qty, new_px)
        self.corrections.append(corr)
        known = "" if orig_qty else " (original ExecID unknown here)"
        self._error(f"{order.client_order_id}: trade {corr.kind} of ExecID {ref}{known}: position "
                    f"{corr.position_delta:+d}, notional {corr.notional_delta:+d} (raw); the order is unchanged")
        if self.on_trade_correction is not None:
            self.on_trade_correction(corr)
        self._report(TradeCorrected(order.client_order_id, order.strategy_id, order.instrument_id, corr.ts_event,
                                    corr.ts_event, corr.kind, exec_id, ref, new_qty, new_px))

    def _on_cancel_reject(self, msg: FixMessage) -> None:
        order = self._lookup(msg)
        if order is None:
            self._error(f"OrderCancelReject for unknown ClOrdID {msg.get_str(T.ClOrdID)}")
            return
        now = self.clock.timestamp_ns()
        ids = (order.client_order_id, order.strategy_id, order.instrument_id, now, now)
        reason = msg.get_str(T.Text) or f"CxlRejReason {msg.get_str(T.CxlRejReason)}"
        if msg.get(T.CxlRejResponseTo) == b"2":
            if order.status is OrderStatus.PENDING_UPDATE:
                self._report(OrderModifyRejected(*ids, reason))
        elif order.status is OrderStatus.PENDING_CANCEL:
            self._report(OrderCancelRejected(*ids, reason))

    def _on_business_reject(self, msg: FixMessage) -> None:
        ref = msg.get_str(T.BusinessRejectRefID)
        order = self._by_clid.get(ref)
        text = msg.get_str(T.Text) or f"BusinessRejectReason {msg.get_str(T.BusinessRejectReason)}"
        if msg.get(T.RefMsgType) == T.ORDER_MASS_STATUS_REQUEST:
            log.info("%s: mass status refused (%s); per-order status requests from now on", self.name, text)
            self.mass_status = False
            if self._mass_req is not None:
                self._mass_status_done()
            return
        if order is not None and msg.get(T.RefMsgType) == T.NEW_ORDER_SINGLE and order.status is OrderStatus.SUBMITTED:
            now = self.clock.timestamp_ns()
            self._report(OrderRejected(order.client_order_id, order.strategy_id, order.instrument_id, now, now, text))
        else:
            self._error(f"BusinessMessageReject: {text}")

    def _on_market_data(self, msg: FixMessage) -> None:
        if self.on_data is None:
            return
        now = self.clock.timestamp_ns()
        dd = self.session.dd
        if msg.msg_type == T.MARKET_DATA_SNAPSHOT:
            inst = self._by_symbol.get(msg.get_str(T.Symbol))
            if inst is not None:
                self.on_data(snapshot_to_depth(msg, dd, inst, now))
        else:
            for d in incremental_to_deltas(msg, dd, self._by_symbol, now):
                self.on_data(d)
