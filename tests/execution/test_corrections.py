"""Trade busts and corrections booked by the OMS: positions, cash and P&L as if the fill never
happened (or happened on the corrected terms); the order itself is unchanged."""

from __future__ import annotations

from tests.execution._harness import FUTURE, Harness, Scripted
from tradeforge.model.enums import OrderSide, OrderStatus
from tradeforge.model.events import OrderFilled, TradeCorrected

F = "6EH5.SIM"
ROWS = [(1.1, 1.1005, 1.0995, 1.1, 1000)] * 2 + [(1.12, 1.1205, 1.1195, 1.12, 1000)] * 2


def _run(qty: int) -> Harness:
    h = Harness([FUTURE], cash=100_000)

    def script(s: Scripted, i: int, _b: object) -> None:
        if i == 0:
            s.saved["o"] = s.submit_order(s.f.market(F, OrderSide.BUY, qty))

    h.strategy(script, instruments=[F])
    h.bars(ROWS, F)
    h.run()
    return h


def test_a_margined_fill_corrected_to_a_smaller_size_books_as_if_it_had_been_that_size() -> None:
    corrected, reference = _run(2), _run(1)
    oms = corrected.engine.execution
    (fill,) = oms.fills
    assert isinstance(fill, OrderFilled)
    seen: list[object] = []
    corrected.engine.bus.subscribe("events.order.*", seen.append)
    event = TradeCorrected(fill.client_order_id, fill.strategy_id, F, fill.ts_event, fill.ts_event, "correct",
                           "C1", fill.execution_id, 1, fill.last_px)
    oms.handle_report(event)
    pf, ref = corrected.engine.portfolio, reference.engine.portfolio
    assert pf.net_quantity(F) == ref.net_quantity(F) == 1
    assert pf.equity() == ref.equity() and pf.cash == ref.cash
    assert corrected.engine.risk.state.inst[F].total.qty == 1
    order = oms.order(fill.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED and order.filled_qty == fill.last_qty
    assert seen == [event] and not oms.errors


def test_a_bust_leaves_the_books_flat_and_a_second_bust_books_nothing() -> None:
    h = _run(2)
    oms = h.engine.execution
    (fill,) = oms.fills
    start = 100_000 * 10**9
    oms.handle_report(TradeCorrected(fill.client_order_id, fill.strategy_id, F, fill.ts_event, fill.ts_event, "bust",
                                     "B1", fill.execution_id))
    pf = h.engine.portfolio
    assert pf.net_quantity(F) == 0 and pf.equity() == pf.cash == start  # commission refunded too
    oms.handle_report(TradeCorrected(fill.client_order_id, fill.strategy_id, F, fill.ts_event, fill.ts_event, "bust",
                                     "B2", fill.execution_id))
    assert pf.net_quantity(F) == 0 and pf.cash == start
    assert [e.execution_id for e in oms.corrections.entries] == ["B1:reverse"]
