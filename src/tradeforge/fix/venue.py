"""The FIX venue adapter: an :class:`~tradeforge.venues.base.ExecutionVenue` over a FIX session.

The OMS calls :meth:`FixVenue.submit` / :meth:`~FixVenue.cancel` / :meth:`~FixVenue.modify` exactly as
it calls the simulated venue; they send NewOrderSingle / OrderCancelRequest / OrderCancelReplaceRequest.
ExecutionReports, OrderCancelRejects and BusinessMessageRejects come back as order events through
the ``report`` callback. Cancel and replace requests get their own ClOrdIDs (``<id>.C<n>``,
``<id>.R<n>``); the order's current ClOrdID follows accepted replaces. After every logon, once the
session is in sequence (resends done), each open order is reconciled with an OrderStatusRequest; the
answer (150=I) gives only the events that were missed (fills are de-duplicated by ExecID downstream).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

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
from tradeforge.model.data import Data
from tradeforge.model.enums import OrderStatus
from tradeforge.model.events import OrderCancelRejected, OrderEvent, OrderModifyRejected, OrderRejected
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order
from tradeforge.venues.base import Report

log = logging.getLogger("tradeforge.fix")


def _no_report(event: OrderEvent) -> None:
    pass


class FixVenue:
    """Routes the OMS's orders to a FIX counterparty (see the module docstring)."""

    def __init__(
        self, name: str, session: Session, instruments: Iterable[Instrument | FixInstrument], clock: ClockLike,
        account: str = "", on_data: Callable[[Data], None] | None = None, reconcile: bool = True,
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
        """In sequence after a logon: ask for the status of every open order."""
        if not self.reconcile:
            return
        for order in list(self.orders.values()):
            if order.is_open:
                inst = self.instruments[order.instrument_id]
                session.send(T.ORDER_STATUS_REQUEST, order_status_request(order, self._current[order.client_order_id], inst))

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

    def _on_execution_report(self, msg: FixMessage) -> None:
        order = self._lookup(msg)
        if order is None:
            self._error(f"ExecutionReport for unknown ClOrdID {msg.get_str(T.ClOrdID)}")
            return
        clid = msg.get_str(T.ClOrdID)
        is_replace = clid != self._current[order.client_order_id] and ".R" in clid
        et = msg.get(T.ExecType)
        if et in (b"G", b"H"):
            self._error(f"{order.client_order_id}: trade correction/cancel (150={et.decode()}) needs manual handling")
            return
        try:
            events = execution_report_events(msg, order, self.instruments[order.instrument_id],
                                             self.clock.timestamp_ns(), is_replace)
        except ValueError as exc:
            self._error(f"{order.client_order_id}: bad ExecutionReport: {exc}")
            return
        if et == b"5":
            self._current[order.client_order_id] = clid
        self._emit(events)

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
