"""A FIX acceptor in front of tradeforge's matching engine, so other systems can trade against the simulator.

:class:`FixExchange` listens (127.0.0.1 by default) for any initiator whose TargetCompID is its
``comp_id``, one session per counterparty (its CompID is the order owner, so self-trade prevention
and reports work per firm). NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest and
OrderStatusRequest drive a :class:`~tradeforge.venues.matching.MatchingEngine` per symbol; every
record it returns becomes an ExecutionReport (or an OrderCancelReject) to the owner concerned,
both sides of each fill included. OrderMassStatusRequest (35=AF, all orders or one symbol) is
answered with one ExecutionReport ``150=I`` per open order of the requester (``911``/``912`` count
and mark the last; a single ``37=NONE`` report when there is none). GTD orders expire at their
ExpireTime (126) or the end of their ExpireDate (432, UTC) by :meth:`FixExchange.expire_due`, which
runs before every incoming message and on a timer. A message with ``PossResend=Y`` (97) whose
ClOrdID was already processed is ignored, as the FIX rules ask. MarketDataRequest gets a full
snapshot (35=W) and then level increments (35=X) after every change. Other application messages get
a BusinessMessageReject. :meth:`FixExchange.set_quote` keeps a house bid and ask resting (owner
``HOUSE``), so recorded quotes can give the book liquidity.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tradeforge.fix import tags as T
from tradeforge.fix.application import ORD_TYPE_IN, SIDE_IN, SIDE_OUT, TIF_IN, FixInstrument
from tradeforge.fix.codec import FieldValue, FixMessage
from tradeforge.fix.session import BusinessReject, ClockLike, Session, SessionConfig
from tradeforge.fix.store import MemoryStore, MessageStore
from tradeforge.fix.transport import Acceptor
from tradeforge.fix.validation import BR_UNSUPPORTED_MESSAGE_TYPE, groups
from tradeforge.fix.values import FixValueError, format_timestamp, from_raw, parse_timestamp, to_raw
from tradeforge.model.enums import OrderSide, OrderType, TimeInForce
from tradeforge.model.instruments import Instrument
from tradeforge.venues.matching import (
    Accepted,
    Canceled,
    Fill,
    MatchingEngine,
    Modified,
    Reason,
    Reduced,
    Rejected,
    Request,
)

HOUSE = "HOUSE"
_CLOSED = (b"2", b"4", b"8", b"C")
_ORDER_REQUESTS = (T.NEW_ORDER_SINGLE, T.ORDER_CANCEL_REQUEST, T.ORDER_CANCEL_REPLACE_REQUEST)


def _expire_ns(msg: FixMessage) -> int | None:
    """ExpireTime (126), else the end of ExpireDate (432, YYYYMMDD, taken as UTC), else None."""
    t = msg.get(T.ExpireTime)
    if t:
        return parse_timestamp(t)
    d = msg.get(T.ExpireDate)
    if d:
        if len(d) != 8 or not d.isdigit():
            raise FixValueError(f"bad ExpireDate {d!r}")
        return parse_timestamp(d + b"-23:59:59.999999999")
    return None


@dataclass(slots=True)
class _Live:
    """An order as the exchange knows it."""

    engine_id: int
    session: Session
    cl_ord_id: str
    orig_cl_ord_id: str
    inst: FixInstrument
    side: OrderSide
    ord_type: bytes
    quantity: int
    price: int | None
    cum: int = 0
    cost: int = 0  # sum of price * qty (raw)
    status: bytes = b"A"
    expire_ns: int | None = None
    extra: dict[int, bytes] = field(default_factory=dict)


class FixExchange:
    """The acceptor venue (see the module docstring)."""

    def __init__(
        self, instruments: Iterable[Instrument | FixInstrument], clock: ClockLike, comp_id: str = "TRADEFORGE",
        host: str = "127.0.0.1", port: int = 0, store_factory: Callable[[str], MessageStore] | None = None,
        tick_s: float = 0.1, ssl: _ssl.SSLContext | None = None, **session_options: object,
    ) -> None:
        self.clock = clock
        self.comp_id = comp_id
        self.instruments: dict[str, FixInstrument] = {}
        self.engines: dict[str, MatchingEngine] = {}
        for i in instruments:
            fi = i if isinstance(i, FixInstrument) else FixInstrument.of(i)
            self.instruments[fi.symbol] = fi
            self.engines[fi.symbol] = MatchingEngine(fi.instrument_id)
        self.store_factory = store_factory
        self.session_options = session_options
        self.acceptor = Acceptor(host=host, port=port, ssl=ssl, tick_s=tick_s, factory=self._new_session)
        self._live: dict[int, _Live] = {}
        self._by_clid: dict[tuple[str, str], _Live] = {}
        self._next_id = 0
        self._exec_id = 0
        self._md: dict[str, list[tuple[Session, bytes]]] = {}
        self._book: dict[str, dict[tuple[int, int], int]] = {}
        self._expiring: dict[int, int] = {}  # engine id -> expire time (ns) of resting GTD orders
        self._house: dict[str, list[int]] = {}
        self._house_id = 0
        self.tick_s = tick_s
        self._timer: asyncio.Task[None] | None = None
        self.possresend_ignored = 0

    async def start(self) -> int:
        """Listen; returns the port. A timer expires GTD orders every ``tick_s``."""
        port = await self.acceptor.start()
        self._timer = asyncio.get_running_loop().create_task(self._expiry_loop())
        return port

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.acceptor.stop()

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.expire_due()

    def expire_due(self) -> int:
        """Expire the GTD orders whose time has come (150=C to their owners); returns how many."""
        if not self._expiring:
            return 0
        now = self.clock.timestamp_ns()
        due = [oid for oid, t in self._expiring.items() if t <= now]
        for oid in due:
            del self._expiring[oid]
            live = self._live.get(oid)
            if live is not None and live.status not in _CLOSED:
                self._apply(self.engines[live.inst.symbol].expire(oid), live.inst.symbol)
        return len(due)

    def set_quote(self, symbol: str, bid: int | None, bid_size: int, ask: int | None, ask_size: int) -> None:
        """Replace the house bid and ask of ``symbol`` (raw price/size at the instrument's precisions;
        ``None`` or size 0: no order on that side). Counterparties' orders that cross them fill."""
        engine = self.engines[symbol]
        records: list = []
        for oid in self._house.pop(symbol, []):
            records += engine.cancel(oid)
        ids: list[int] = []
        for side, px, size in ((OrderSide.BUY, bid, bid_size), (OrderSide.SELL, ask, ask_size)):
            if px is None or size <= 0:
                continue
            self._house_id -= 1
            ids.append(self._house_id)
            records += engine.submit(self._house_id, HOUSE, side, OrderType.LIMIT, size, px, None, TimeInForce.GTC, False)
        self._house[symbol] = ids
        self._apply(records, symbol)

    def _new_session(self, ours: str, theirs: str) -> Session | None:
        if ours != self.comp_id:
            return None
        config = SessionConfig(ours, theirs, initiator=False, **self.session_options)  # type: ignore[arg-type]
        store = self.store_factory(config.session_id) if self.store_factory else MemoryStore(self.clock.timestamp_ns())
        return Session(config, self.clock, store, self)

    # -- session application -----------------------------------------------------------------------

    def on_logon(self, session: Session) -> None:
        pass

    def on_logout(self, session: Session) -> None:
        for subs in self._md.values():
            subs[:] = [s for s in subs if s[0] is not session]

    def on_message(self, session: Session, msg: FixMessage) -> None:
        self.expire_due()
        mt = msg.msg_type
        if msg.get(T.PossResend) == b"Y" and mt in _ORDER_REQUESTS and (self._owner(session), msg.get_str(T.ClOrdID)) in self._by_clid:
            self.possresend_ignored += 1  # already processed under another MsgSeqNum
            return
        if mt == T.NEW_ORDER_SINGLE:
            self._new_order(session, msg)
        elif mt == T.ORDER_CANCEL_REQUEST:
            self._cancel(session, msg)
        elif mt == T.ORDER_CANCEL_REPLACE_REQUEST:
            self._replace(session, msg)
        elif mt == T.ORDER_STATUS_REQUEST:
            self._status(session, msg)
        elif mt == T.ORDER_MASS_STATUS_REQUEST:
            self._mass_status(session, msg)
        elif mt == T.MARKET_DATA_REQUEST:
            self._md_request(session, msg)
        else:
            raise BusinessReject(BR_UNSUPPORTED_MESSAGE_TYPE, "Unsupported Message Type")

    # -- orders ----------------------------------------------------------------------------------------

    def _owner(self, session: Session) -> str:
        return session.config.target_comp_id

    def _new_order(self, session: Session, msg: FixMessage) -> None:
        clid = msg.get_str(T.ClOrdID)
        symbol = msg.get_str(T.Symbol)
        inst = self.instruments.get(symbol)
        side = SIDE_IN.get(msg.get(T.Side) or b"")
        ord_type = ORD_TYPE_IN.get(msg.get(T.OrdType) or b"")
        tif = TIF_IN.get(msg.get(T.TimeInForce) or b"0", None)
        text = ""
        if inst is None:
            text = f"unknown symbol {symbol}"
        elif side is None or ord_type is None or tif is None:
            text = "unsupported side, order type or time in force"
        elif (self._owner(session), clid) in self._by_clid:
            text = f"duplicate ClOrdID {clid}"
        if text or inst is None or side is None or ord_type is None or tif is None:
            self._reject_new(session, msg, text)
            return
        try:
            qty = to_raw(msg.get(T.OrderQty) or b"0", inst.size_precision)
            px = msg.get(T.Price)
            price = to_raw(px, inst.price_precision) if px else None
            sp = msg.get(T.StopPx)
            trigger = to_raw(sp, inst.price_precision) if sp else None
        except FixValueError as exc:
            self._reject_new(session, msg, str(exc))
            return
        if ord_type is OrderType.MARKET:
            price = None
        expire_ns: int | None = None
        if tif is TimeInForce.GTD:
            try:
                expire_ns = _expire_ns(msg)
            except FixValueError as exc:
                self._reject_new(session, msg, str(exc))
                return
            if expire_ns is None or expire_ns <= self.clock.timestamp_ns():
                self._reject_new(session, msg, "GTD order without a future ExpireTime/ExpireDate")
                return
            tif = TimeInForce.GTC  # rests like GTC; expire_due() removes it at expire_ns
        self._next_id += 1
        live = _Live(self._next_id, session, clid, "", inst, side, msg.get(T.OrdType) or b"1", qty, price)
        self._live[live.engine_id] = live
        self._by_clid[(self._owner(session), clid)] = live
        live.expire_ns = expire_ns
        post_only = b"6" in (msg.get(T.ExecInst) or b"").split(b" ")
        records = self.engines[inst.symbol].submit(live.engine_id, self._owner(session), side, ord_type, qty,
                                                   price, trigger, tif, post_only)
        self._apply(records, inst.symbol)
        if expire_ns is not None and live.status in (b"0", b"1", b"A"):
            self._expiring[live.engine_id] = expire_ns

    def _reject_new(self, session: Session, msg: FixMessage, text: str) -> None:
        self._exec_id += 1
        session.send(T.EXECUTION_REPORT, [
            (T.OrderID, b"NONE"), (T.ClOrdID, msg.get(T.ClOrdID) or b"?"), (T.ExecID, b"X%d" % self._exec_id),
            (T.ExecType, b"8"), (T.OrdStatus, b"8"), (T.Symbol, msg.get(T.Symbol) or b"?"),
            (T.Side, msg.get(T.Side) or b"1"), (T.LeavesQty, b"0"), (T.CumQty, b"0"), (T.AvgPx, b"0"),
            (T.OrdRejReason, b"99"), (T.Text, text)])

    def _find(self, session: Session, msg: FixMessage) -> _Live | None:
        return self._by_clid.get((self._owner(session), msg.get_str(T.OrigClOrdID)))

    def _cancel_reject(self, session: Session, msg: FixMessage, response_to: bytes, text: str, live: _Live | None) -> None:
        session.send(T.ORDER_CANCEL_REJECT, [
            (T.OrderID, b"O%d" % live.engine_id if live else b"NONE"), (T.ClOrdID, msg.get(T.ClOrdID) or b"?"),
            (T.OrigClOrdID, msg.get(T.OrigClOrdID) or b"?"), (T.OrdStatus, live.status if live else b"8"),
            (T.CxlRejResponseTo, response_to), (T.CxlRejReason, b"1" if live is None else b"99"), (T.Text, text)])

    def _cancel(self, session: Session, msg: FixMessage) -> None:
        live = self._find(session, msg)
        if live is None or live.status in (b"2", b"4", b"8", b"C"):
            self._cancel_reject(session, msg, b"1", "unknown or closed order", live)
            return
        live.orig_cl_ord_id, live.cl_ord_id = live.cl_ord_id, msg.get_str(T.ClOrdID)
        self._by_clid[(self._owner(session), live.cl_ord_id)] = live
        records = self.engines[live.inst.symbol].cancel(live.engine_id)
        self._apply(records, live.inst.symbol, msg)

    def _replace(self, session: Session, msg: FixMessage) -> None:
        live = self._find(session, msg)
        if live is None or live.status in (b"2", b"4", b"8", b"C"):
            self._cancel_reject(session, msg, b"2", "unknown or closed order", live)
            return
        try:
            qty = to_raw(msg.get(T.OrderQty) or b"0", live.inst.size_precision)
            px = msg.get(T.Price)
            price = to_raw(px, live.inst.price_precision) if px else None
        except FixValueError as exc:
            self._cancel_reject(session, msg, b"2", str(exc), live)
            return
        if qty <= live.cum:
            self._cancel_reject(session, msg, b"2", "new quantity not above the filled quantity", live)
            return
        new_clid = msg.get_str(T.ClOrdID)
        records = self.engines[live.inst.symbol].modify(
            live.engine_id, qty - live.cum, price if price != live.price else None, None)
        if records and type(records[0]) is Rejected:
            self._cancel_reject(session, msg, b"2", records[0].detail or records[0].reason.value, live)
            return
        live.orig_cl_ord_id, live.cl_ord_id = live.cl_ord_id, new_clid
        live.quantity = qty
        live.price = price if price is not None else live.price
        self._by_clid[(self._owner(session), new_clid)] = live
        self._apply(records, live.inst.symbol, msg)

    def _status(self, session: Session, msg: FixMessage) -> None:
        live = self._by_clid.get((self._owner(session), msg.get_str(T.ClOrdID)))
        if live is None:
            self._exec_id += 1
            session.send(T.EXECUTION_REPORT, [
                (T.OrderID, b"NONE"), (T.ClOrdID, msg.get(T.ClOrdID) or b"?"), (T.ExecID, b"X%d" % self._exec_id),
                (T.ExecType, b"I"), (T.OrdStatus, b"8"), (T.Symbol, msg.get(T.Symbol) or b"?"),
                (T.Side, msg.get(T.Side) or b"1"), (T.LeavesQty, b"0"), (T.CumQty, b"0"), (T.AvgPx, b"0"),
                (T.Text, b"unknown order")])
            return
        self._report(live, b"I")

    def _mass_status(self, session: Session, msg: FixMessage) -> None:
        """OrderMassStatusRequest: one 150=I report per open order of the requester (7: all, 1: one symbol)."""
        req_id = msg.get(T.MassStatusReqID) or b""
        kind = msg.get(T.MassStatusReqType)
        if kind not in (b"1", b"7"):
            raise BusinessReject(0, f"MassStatusReqType {kind!r} not supported (1, 7)", T.MassStatusReqID)
        symbol = msg.get_str(T.Symbol) if kind == b"1" else None
        side = SIDE_IN.get(msg.get(T.Side) or b"")
        owner = self._owner(session)
        seen: set[int] = set()
        open_orders = []
        for (o, _), live in self._by_clid.items():
            if (o != owner or live.engine_id in seen or live.status in _CLOSED or (symbol and live.inst.symbol != symbol)
                    or (side is not None and live.side is not side)):
                continue
            seen.add(live.engine_id)
            open_orders.append(live)
        open_orders.sort(key=lambda x: x.engine_id)
        if not open_orders:
            self._exec_id += 1
            session.send(T.EXECUTION_REPORT, [
                (T.OrderID, b"NONE"), (T.ExecID, b"X%d" % self._exec_id), (T.ExecType, b"I"), (T.OrdStatus, b"0"),
                (T.Symbol, symbol or b"NA"), (T.Side, b"1"), (T.LeavesQty, b"0"), (T.CumQty, b"0"), (T.AvgPx, b"0"),
                (T.MassStatusReqID, req_id), (T.TotNumReports, b"0"), (T.LastRptRequested, b"Y")])
            return
        n = len(open_orders)
        for i, live in enumerate(open_orders, 1):
            self._report(live, b"I", extra=((T.MassStatusReqID, req_id), (T.TotNumReports, b"%d" % n),
                                            (T.LastRptRequested, b"Y" if i == n else b"N")))

    def _report(self, live: _Live, exec_type: bytes, last_qty: int = 0, last_px: int = 0, text: str = "",
                liquidity: bytes = b"", extra: tuple[tuple[int, FieldValue], ...] = ()) -> None:
        inst = live.inst
        self._exec_id += 1
        leaves = 0 if live.status in (b"2", b"4", b"8", b"C") else live.quantity - live.cum
        avg = from_raw(live.cost * 10_000 // live.cum, inst.price_precision + 4) if live.cum else b"0"
        f: list[tuple[int, FieldValue]] = [
            (T.OrderID, b"O%d" % live.engine_id), (T.ClOrdID, live.cl_ord_id)]
        if live.orig_cl_ord_id and exec_type in (b"4", b"5"):
            f.append((T.OrigClOrdID, live.orig_cl_ord_id))
        f += [(T.ExecID, b"E%d" % self._exec_id), (T.ExecType, exec_type), (T.OrdStatus, live.status),
              (T.Symbol, inst.symbol), (T.Side, SIDE_OUT[live.side]),
              (T.OrderQty, from_raw(live.quantity, inst.size_precision)), (T.OrdType, live.ord_type)]
        if live.price is not None:
            f.append((T.Price, from_raw(live.price, inst.price_precision)))
        if last_qty:
            f += [(T.LastQty, from_raw(last_qty, inst.size_precision)), (T.LastPx, from_raw(last_px, inst.price_precision))]
        f += [(T.LeavesQty, from_raw(leaves, inst.size_precision)), (T.CumQty, from_raw(live.cum, inst.size_precision)),
              (T.AvgPx, avg), (T.TransactTime, format_timestamp(self.clock.timestamp_ns()))]
        if text:
            f.append((T.Text, text))
        if liquidity:
            f.append((T.LastLiquidityInd, liquidity))
        if live.expire_ns is not None:
            f += [(T.TimeInForce, b"6"), (T.ExpireTime, format_timestamp(live.expire_ns))]
        f.extend(extra)
        live.session.send(T.EXECUTION_REPORT, f)

    def _apply(self, records: list, symbol: str, request: FixMessage | None = None) -> None:
        for r in records:
            kind = type(r)
            if kind is Accepted:
                live = self._live.get(r.order_id)
                if live is None:
                    continue
                live.status = b"0"
                self._report(live, b"0")
            elif kind is Rejected:
                live = self._live.get(r.order_id)
                if live is None:
                    continue
                if r.request is Request.SUBMIT:
                    live.status = b"8"
                    self._report(live, b"8", text=r.detail or r.reason.value)
                elif request is not None:
                    self._cancel_reject(live.session, request, b"1" if r.request is Request.CANCEL else b"2",
                                        r.detail or r.reason.value, live)
            elif kind is Fill:
                for oid, liq in ((r.maker_id, b"1"), (r.taker_id, b"2")):
                    live = self._live.get(oid)
                    if live is None:
                        continue
                    live.cum += r.size
                    live.cost += r.size * r.price
                    live.status = b"2" if live.cum >= live.quantity else b"1"
                    self._report(live, b"F", r.size, r.price, liquidity=liq)
            elif kind is Canceled:
                live = self._live.get(r.order_id)
                if live is None:
                    continue
                live.status = b"C" if r.reason is Reason.EXPIRED else b"4"
                self._expiring.pop(r.order_id, None)
                self._report(live, live.status, text=r.reason.value)
            elif kind is Modified:
                live = self._live.get(r.order_id)
                if live is not None:
                    self._report(live, b"5")
            elif kind is Reduced:
                live = self._live.get(r.order_id)
                if live is None:
                    continue
                live.quantity = live.cum + r.remaining
                self._report(live, b"D", text=r.reason.value)
        self._publish_book(symbol)

    # -- market data ---------------------------------------------------------------------------------

    def _levels(self, symbol: str) -> dict[tuple[int, int], int]:
        bids, asks = self.engines[symbol].depth(1000)
        out = {(0, lv.price): lv.size for lv in bids}
        out.update({(1, lv.price): lv.size for lv in asks})
        return out

    def _md_request(self, session: Session, msg: FixMessage) -> None:
        req_id = msg.get(T.MDReqID) or b""
        entries = groups(msg, session.dd.messages[T.MARKET_DATA_REQUEST].groups[T.NoRelatedSym])
        for e in entries:
            symbol = (e.get(T.Symbol) or b"").decode("latin-1")
            inst = self.instruments.get(symbol)
            if inst is None:
                session.send(T.MARKET_DATA_REQUEST_REJECT, [(T.MDReqID, req_id), (T.MDReqRejReason, b"0"),
                                                            (T.Text, f"unknown symbol {symbol}")])
                continue
            levels = self._levels(symbol)
            self._book[symbol] = levels
            f: list[tuple[int, FieldValue]] = [(T.MDReqID, req_id), (T.Symbol, symbol), (T.NoMDEntries, len(levels))]
            for (kind, price), size in sorted(levels.items()):
                f += [(T.MDEntryType, b"%d" % kind), (T.MDEntryPx, from_raw(price, inst.price_precision)),
                      (T.MDEntrySize, from_raw(size, inst.size_precision))]
            session.send(T.MARKET_DATA_SNAPSHOT, f)
            if msg.get(T.SubscriptionRequestType) == b"1":
                self._md.setdefault(symbol, []).append((session, req_id))

    def _publish_book(self, symbol: str) -> None:
        subs = self._md.get(symbol)
        if not subs:
            return
        old = self._book.get(symbol, {})
        new = self._levels(symbol)
        self._book[symbol] = new
        inst = self.instruments[symbol]
        changes: list[tuple[bytes, tuple[int, int], int]] = []
        for key, size in new.items():
            was = old.get(key)
            if was != size:
                changes.append((b"0" if was is None else b"1", key, size))
        changes += [(b"2", key, 0) for key in old if key not in new]
        if not changes:
            return
        for session, req_id in subs:
            if not session.is_logged_on:
                continue
            f: list[tuple[int, FieldValue]] = [(T.MDReqID, req_id), (T.NoMDEntries, len(changes))]
            for action, (kind, price), size in changes:
                f += [(T.MDUpdateAction, action), (T.MDEntryType, b"%d" % kind), (T.Symbol, symbol),
                      (T.MDEntryPx, from_raw(price, inst.price_precision)), (T.MDEntrySize, from_raw(size, inst.size_precision))]
            session.send(T.MARKET_DATA_INCREMENTAL, f)
