"""FIX 4.4 application messages <-> tradeforge orders, order events and book events.

Builders return body fields for :meth:`Session.send`; parsers turn ExecutionReports, cancel rejects
and market data into tradeforge events, exactly (prices and sizes as raw integers at the
instrument's precisions, never floats). :func:`execution_report_events` maps every ExecType against
the order's current status so that only transitions the order state machine accepts come out (a
repeated ack or a pending-state echo gives nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeforge.fix import tags as T
from tradeforge.fix.codec import FieldValue, FixMessage
from tradeforge.fix.dictionary import DataDictionary
from tradeforge.fix.validation import groups
from tradeforge.fix.values import FixValueError, format_timestamp, from_raw, parse_timestamp, to_raw
from tradeforge.model.data import OrderBookDelta, OrderBookDepth
from tradeforge.model.enums import BookAction, LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from tradeforge.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradeforge.model.fixed import MONEY_PRECISION
from tradeforge.model.instruments import Instrument
from tradeforge.model.orders import Order

SIDE_OUT = {OrderSide.BUY: b"1", OrderSide.SELL: b"2"}
SIDE_IN = {b"1": OrderSide.BUY, b"2": OrderSide.SELL, b"5": OrderSide.SELL, b"6": OrderSide.SELL}
ORD_TYPE_OUT = {OrderType.MARKET: b"1", OrderType.LIMIT: b"2", OrderType.STOP_MARKET: b"3",
                OrderType.STOP_LIMIT: b"4", OrderType.MARKET_IF_TOUCHED: b"J"}
ORD_TYPE_IN = {v: k for k, v in ORD_TYPE_OUT.items()}
TIF_OUT = {TimeInForce.DAY: b"0", TimeInForce.GTC: b"1", TimeInForce.IOC: b"3", TimeInForce.FOK: b"4",
           TimeInForce.GTD: b"6"}
TIF_IN = {v: k for k, v in TIF_OUT.items()}
_PENDING = (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE)


@dataclass(frozen=True, slots=True)
class FixInstrument:
    """How an instrument is named and scaled on a FIX connection."""

    instrument_id: str
    symbol: str
    price_precision: int
    size_precision: int
    currency: str = ""

    @classmethod
    def of(cls, inst: Instrument, symbol: str | None = None) -> FixInstrument:
        """Default symbol: the instrument id without its ``.VENUE`` suffix."""
        iid = str(inst.id)
        return cls(iid, symbol or iid.rsplit(".", 1)[0], inst.price_precision, inst.size_precision, inst.currency)


# -- outbound ------------------------------------------------------------------------------------


def new_order_single(order: Order, cl_ord_id: str, inst: FixInstrument, now_ns: int, account: str = "") -> list[tuple[int, FieldValue]]:
    """NewOrderSingle (35=D) body of a tradeforge order."""
    pp = inst.price_precision
    f: list[tuple[int, FieldValue]] = [(T.ClOrdID, cl_ord_id)]
    if account:
        f.append((T.Account, account))
    f += [(T.HandlInst, b"1"), (T.Symbol, inst.symbol), (T.Side, SIDE_OUT[order.side]),
          (T.TransactTime, format_timestamp(now_ns)), (T.OrderQty, from_raw(order.quantity, inst.size_precision)),
          (T.OrdType, ORD_TYPE_OUT.get(order.order_type, b"1"))]
    if order.price is not None:
        f.append((T.Price, from_raw(order.price, pp)))
    if order.trigger_price is not None:
        f.append((T.StopPx, from_raw(order.trigger_price, pp)))
    f.append((T.TimeInForce, TIF_OUT[order.time_in_force]))
    if order.time_in_force is TimeInForce.GTD and order.expire_time_ns is not None:
        f.append((T.ExpireTime, format_timestamp(order.expire_time_ns)))
    if order.post_only:
        f.append((T.ExecInst, b"6"))  # participate, don't initiate
    return f


def cancel_request(order: Order, cl_ord_id: str, orig_cl_ord_id: str, inst: FixInstrument, now_ns: int) -> list[tuple[int, FieldValue]]:
    """OrderCancelRequest (35=F) body."""
    f: list[tuple[int, FieldValue]] = [(T.OrigClOrdID, orig_cl_ord_id)]
    if order.venue_order_id:
        f.append((T.OrderID, order.venue_order_id))
    f += [(T.ClOrdID, cl_ord_id), (T.Symbol, inst.symbol), (T.Side, SIDE_OUT[order.side]),
          (T.TransactTime, format_timestamp(now_ns)), (T.OrderQty, from_raw(order.quantity, inst.size_precision))]
    return f


def replace_request(
    order: Order, cl_ord_id: str, orig_cl_ord_id: str, inst: FixInstrument, now_ns: int,
    quantity: int | None, price: int | None, trigger_price: int | None,
) -> list[tuple[int, FieldValue]]:
    """OrderCancelReplaceRequest (35=G) body: the whole new order (unchanged fields repeated)."""
    pp = inst.price_precision
    f: list[tuple[int, FieldValue]] = [(T.OrigClOrdID, orig_cl_ord_id)]
    if order.venue_order_id:
        f.append((T.OrderID, order.venue_order_id))
    f += [(T.ClOrdID, cl_ord_id), (T.HandlInst, b"1"), (T.Symbol, inst.symbol), (T.Side, SIDE_OUT[order.side]),
          (T.TransactTime, format_timestamp(now_ns)),
          (T.OrderQty, from_raw(order.quantity if quantity is None else quantity, inst.size_precision)),
          (T.OrdType, ORD_TYPE_OUT.get(order.order_type, b"1"))]
    px = order.price if price is None else price
    if px is not None:
        f.append((T.Price, from_raw(px, pp)))
    trig = order.trigger_price if trigger_price is None else trigger_price
    if trig is not None:
        f.append((T.StopPx, from_raw(trig, pp)))
    f.append((T.TimeInForce, TIF_OUT[order.time_in_force]))
    return f


def order_status_request(order: Order, cl_ord_id: str, inst: FixInstrument) -> list[tuple[int, FieldValue]]:
    """OrderStatusRequest (35=H) body."""
    f: list[tuple[int, FieldValue]] = []
    if order.venue_order_id:
        f.append((T.OrderID, order.venue_order_id))
    f += [(T.ClOrdID, cl_ord_id), (T.Symbol, inst.symbol), (T.Side, SIDE_OUT[order.side])]
    return f


def market_data_request(req_id: str, symbols: list[str], depth: int = 0, subscribe: bool = True) -> list[tuple[int, FieldValue]]:
    """MarketDataRequest (35=V) for bids and offers, full book (depth 0) or top ``depth`` levels, incremental."""
    f: list[tuple[int, FieldValue]] = [(T.MDReqID, req_id), (T.SubscriptionRequestType, b"1" if subscribe else b"2"),
                                       (T.MarketDepth, depth), (T.MDUpdateType, b"1"), (T.NoMDEntryTypes, 2),
                                       (T.MDEntryType, b"0"), (T.MDEntryType, b"1"), (T.NoRelatedSym, len(symbols))]
    f += [(T.Symbol, s) for s in symbols]
    return f


# -- inbound -------------------------------------------------------------------------------------


def _ts(msg: FixMessage, default: int) -> int:
    v = msg.get(T.TransactTime) or msg.get(T.SendingTime)
    if v is None:
        return default
    try:
        return parse_timestamp(v)
    except FixValueError:
        return default


def execution_report_events(
    msg: FixMessage, order: Order, inst: FixInstrument, ts_init: int, is_replace: bool = False,
) -> list[OrderEvent]:
    """The tradeforge events an ExecutionReport means for ``order`` in its current status.

    ``is_replace``: the report's ClOrdID is that of a pending cancel/replace request (so a 150=8 is
    the replace being refused, not the order)."""
    et = msg.get(T.ExecType)
    ids = (order.client_order_id, order.strategy_id, order.instrument_id)
    ts = _ts(msg, ts_init)
    st = order.status
    venue_id = msg.get_str(T.OrderID)
    pp, sp = inst.price_precision, inst.size_precision
    out: list[OrderEvent] = []
    if et == b"0" or (et == b"I" and msg.get(T.OrdStatus) in (b"0", b"1") and st is OrderStatus.SUBMITTED):
        if st is OrderStatus.SUBMITTED or (st in _PENDING and order.previous_status is OrderStatus.SUBMITTED):
            out.append(OrderAccepted(*ids, ts, ts_init, venue_id))
    elif et == b"F":
        last_qty = to_raw(msg.get(T.LastQty) or b"0", sp)
        if last_qty > 0:
            out.append(_fill(msg, order, inst, ts, ts_init, last_qty, to_raw(msg.get(T.LastPx) or b"0", pp),
                             msg.get_str(T.ExecID)))
    elif et == b"4":
        out.append(OrderCanceled(*ids, ts, ts_init, msg.get_str(T.Text)))
    elif et == b"C":
        out.append(OrderExpired(*ids, ts, ts_init))
    elif et == b"8":
        reason = msg.get_str(T.Text) or f"OrdRejReason {msg.get_str(T.OrdRejReason)}"
        if is_replace and st is OrderStatus.PENDING_UPDATE:
            out.append(OrderModifyRejected(*ids, ts, ts_init, reason))
        elif st is OrderStatus.SUBMITTED or (st is OrderStatus.PENDING_UPDATE and order.previous_status is OrderStatus.SUBMITTED):
            out.append(OrderRejected(*ids, ts, ts_init, reason))
    elif et in (b"5", b"D"):
        q = msg.get(T.OrderQty)
        p = msg.get(T.Price)
        tp = msg.get(T.StopPx)
        new_q = to_raw(q, sp) if q else None
        new_p = to_raw(p, pp) if p else None
        new_tp = to_raw(tp, pp) if tp else None
        if et == b"5" or (new_q, new_p, new_tp) != (order.quantity, order.price, order.trigger_price):
            out.append(OrderUpdated(*ids, ts, ts_init,
                                    None if new_q == order.quantity else new_q,
                                    None if new_p == order.price else new_p,
                                    None if new_tp == order.trigger_price else new_tp))
    elif et == b"I":
        out.extend(_status_events(msg, order, inst, ts, ts_init))
    return out


def _fill(msg: FixMessage, order: Order, inst: FixInstrument, ts: int, ts_init: int, qty: int, px: int, exec_id: str) -> OrderFilled:
    comm = msg.get(T.Commission)
    liq = msg.get(T.LastLiquidityInd)
    return OrderFilled(
        order.client_order_id, order.strategy_id, order.instrument_id, ts, ts_init,
        venue_order_id=msg.get_str(T.OrderID), execution_id=exec_id, side=order.side, last_qty=qty, last_px=px,
        commission=to_raw(comm, MONEY_PRECISION) if comm else 0, currency=msg.get_str(T.Currency) or inst.currency,
        liquidity_side=LiquiditySide.MAKER if liq == b"1" else LiquiditySide.TAKER,
    )


def _status_events(msg: FixMessage, order: Order, inst: FixInstrument, ts: int, ts_init: int) -> list[OrderEvent]:
    """Reconciliation from an order status report (150=I): what we missed, as events."""
    ids = (order.client_order_id, order.strategy_id, order.instrument_id)
    out: list[OrderEvent] = []
    cum = to_raw(msg.get(T.CumQty) or b"0", inst.size_precision)
    missed = cum - order.filled_qty
    if missed > 0:
        px_b = msg.get(T.LastPx) if msg.get(T.LastQty) == msg.get(T.CumQty) else msg.get(T.AvgPx)
        try:
            px = to_raw(px_b or b"0", inst.price_precision)
        except FixValueError:
            px = to_raw((msg.get(T.LastPx) or b"0"), inst.price_precision)
        out.append(_fill(msg, order, inst, ts, ts_init, missed, px, f"{msg.get_str(T.OrderID)}-status-{cum}"))
    status = msg.get(T.OrdStatus)
    if status == b"4":
        out.append(OrderCanceled(*ids, ts, ts_init, "reconciled: canceled at the venue"))
    elif status == b"C":
        out.append(OrderExpired(*ids, ts, ts_init))
    elif status == b"8" and order.status is OrderStatus.SUBMITTED:
        out.append(OrderRejected(*ids, ts, ts_init, "reconciled: rejected at the venue"))
    return out


def snapshot_to_depth(msg: FixMessage, dd: DataDictionary, inst: FixInstrument, ts_init: int, sequence: int = 0) -> OrderBookDepth:
    """MarketDataSnapshotFullRefresh (35=W) -> :class:`OrderBookDepth` (bids best first, asks best first)."""
    bids: list[tuple[int, int]] = []
    asks: list[tuple[int, int]] = []
    for e in groups(msg, dd.messages[T.MARKET_DATA_SNAPSHOT].groups[T.NoMDEntries]):
        kind = e.get(T.MDEntryType)
        if kind not in (b"0", b"1") or T.MDEntryPx not in e:
            continue
        lvl = (to_raw(e[T.MDEntryPx], inst.price_precision), to_raw(e.get(T.MDEntrySize) or b"0", inst.size_precision))
        (bids if kind == b"0" else asks).append(lvl)
    bids.sort(key=lambda x: -x[0])
    asks.sort()
    ts = _ts(msg, ts_init)
    return OrderBookDepth(inst.instrument_id, tuple(bids), tuple(asks), sequence, ts, ts_init)


_ACTIONS = {b"0": BookAction.ADD, b"1": BookAction.UPDATE, b"2": BookAction.DELETE}


def incremental_to_deltas(
    msg: FixMessage, dd: DataDictionary, instruments: dict[str, FixInstrument], ts_init: int, sequence: int = 0,
) -> list[OrderBookDelta]:
    """MarketDataIncrementalRefresh (35=X) -> level deltas (``order_id`` 0; entries of unknown symbols skipped)."""
    out: list[OrderBookDelta] = []
    ts = _ts(msg, ts_init)
    symbol = msg.get_str(T.Symbol)
    for e in groups(msg, dd.messages[T.MARKET_DATA_INCREMENTAL].groups[T.NoMDEntries]):
        inst = instruments.get(e[T.Symbol].decode("latin-1") if T.Symbol in e else symbol)
        kind = e.get(T.MDEntryType)
        action = _ACTIONS.get(e.get(T.MDUpdateAction) or b"")
        if inst is None or kind not in (b"0", b"1") or action is None or T.MDEntryPx not in e:
            continue
        sequence += 1
        size = to_raw(e.get(T.MDEntrySize) or b"0", inst.size_precision)
        out.append(OrderBookDelta(inst.instrument_id, action, 1 if kind == b"0" else -1,
                                  to_raw(e[T.MDEntryPx], inst.price_precision), 0 if action is BookAction.DELETE else size,
                                  0, sequence, ts, ts_init))
    return out
