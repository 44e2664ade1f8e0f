"""End to end over loopback: the OMS (Kernel) trades through FixVenue against FixExchange (tradeforge acceptor)."""

from __future__ import annotations

import asyncio

from tradeforge.core.clock import LiveClock
from tradeforge.fix.exchange import FixExchange
from tradeforge.fix.session import Session, SessionConfig
from tradeforge.fix.store import FileStore
from tradeforge.fix.transport import Initiator, _wait
from tradeforge.fix.venue import FixVenue
from tradeforge.model.data import OrderBookDelta, OrderBookDepth
from tradeforge.model.enums import OrderSide, OrderStatus, OrderType
from tradeforge.model.identifiers import InstrumentId
from tradeforge.model.instruments import Instrument, InstrumentKind, InstrumentProvider
from tradeforge.model.orders import Order
from tradeforge.node.kernel import Kernel

AAPL = Instrument(InstrumentId("AAPL.XNAS"), InstrumentKind.EQUITY, "USD", 2, 0, 1, 1, 1)


def client(name: str, port: int, clock: LiveClock, store_dir=None):
    config = SessionConfig(name, "TRADEFORGE", heartbeat_s=1)
    store = FileStore(store_dir, config.session_id, clock.timestamp_ns()) if store_dir else None
    session = Session(config, clock, store)
    kernel = Kernel(InstrumentProvider([AAPL]), clock, "USD", 10**6 * 10**9)
    kernel.portfolio.register_instrument(AAPL)
    data: list = []
    venue = FixVenue("XNAS", session, [AAPL], clock, on_data=data.append)
    kernel.add_venue(venue)
    ini = Initiator(session, "127.0.0.1", port, reconnect_min_s=0.05, tick_s=0.02)
    return kernel, venue, ini, data


def order(coid: str, side: OrderSide, qty: int, price: int, clock: LiveClock) -> Order:
    return Order(coid, "S", "AAPL.XNAS", side, OrderType.LIMIT, qty, clock.timestamp_ns(), price=price)


async def until(cond, timeout: float = 3.0) -> None:
    await _wait(cond, timeout)


def test_orders_fills_cancel_replace_market_data_and_reconnect(tmp_path) -> None:
    async def main() -> None:
        clock = LiveClock()
        ex = FixExchange([AAPL], clock, heartbeat_s=1, tick_s=0.02)
        port = await ex.start()
        mk, _mvenue, mini, _ = client("MAKER", port, clock)
        tk, tvenue, tini, book = client("TAKER", port, clock, tmp_path)
        for ini in (mini, tini):
            ini.start()
            await ini.wait_logged_on()
        tvenue.subscribe_book(["AAPL.XNAS"])
        ask = mk.execution.submit_order(order("M1", OrderSide.SELL, 100, 18725, clock))
        await until(lambda: ask.status is OrderStatus.ACCEPTED)
        buy = tk.execution.submit_order(order("T1", OrderSide.BUY, 40, 18730, clock))
        await until(lambda: buy.status is OrderStatus.FILLED and ask.status is OrderStatus.PARTIALLY_FILLED)
        assert buy.avg_px == 18725 and ask.filled_qty == 40
        # replace the rest of the ask (60 left) to 90 shares at 187.30, then cancel it
        mk.execution.modify_order(ask, quantity=130, price=18730)
        await until(lambda: ask.status is OrderStatus.PARTIALLY_FILLED and ask.quantity == 130 and ask.price == 18730)
        mk.execution.cancel_order(ask)
        await until(lambda: ask.status is OrderStatus.CANCELED)
        assert any(isinstance(d, OrderBookDepth) for d in book) and any(isinstance(d, OrderBookDelta) for d in book)
        # cancel of an already closed order at the venue: OrderCancelReject -> error only, no state change
        # forced disconnect; while down the maker rests an ask and the taker sends a buy (stored, resent)
        bid = tk.execution.submit_order(order("T2", OrderSide.BUY, 10, 18700, clock))
        await until(lambda: bid.status is OrderStatus.ACCEPTED)
        tini.drop()
        await until(lambda: not tvenue.session.is_connected)
        hit = mk.execution.submit_order(order("M2", OrderSide.SELL, 10, 18700, clock))  # fills T2 while T is away
        await until(lambda: hit.status is OrderStatus.FILLED)
        late = tk.execution.submit_order(order("T3", OrderSide.BUY, 5, 18600, clock))  # sent while down
        await tini.wait_logged_on()
        await until(lambda: bid.status is OrderStatus.FILLED and late.status is OrderStatus.ACCEPTED)
        assert not tvenue.errors and not tk.execution.errors and not mk.execution.errors
        assert tvenue.session.resend_requests_sent >= 1 and tk.portfolio.cash < 10**15
        # restart the taker's process: new session objects on the same file store keep the sequence numbers
        await tini.stop()
        seqs = (tvenue.session.next_sender_seq, tvenue.session.next_target_seq)
        tvenue.session.store.close()
        _tk2, tvenue2, tini2, _ = client("TAKER", port, clock, tmp_path)
        assert (tvenue2.session.next_sender_seq, tvenue2.session.next_target_seq) == seqs
        tini2.start()
        await tini2.wait_logged_on()
        assert tvenue2.session.is_logged_on and tvenue2.session.rejects_received == 0
        for ini in (mini, tini2):
            await ini.stop()
        await ex.stop()
        tvenue2.session.store.close()

    asyncio.run(main())
