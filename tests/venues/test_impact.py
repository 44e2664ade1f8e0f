"""Market impact, participation cap and tiered fees against hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.model.enums import LiquiditySide
from tradeforge.model.identifiers import InstrumentId
from tradeforge.model.instruments import Instrument, InstrumentKind
from tradeforge.model.timeutil import NANOS_PER_DAY, NANOS_PER_SECOND
from tradeforge.venues.fee_tiers import MONEY_UNIT_RAW, FeeTier, TieredBpsFee
from tradeforge.venues.fees import FeeContext
from tradeforge.venues.impact import AlmgrenChrissImpact, ImpactContext, NoImpact, ParticipationCap, SquareRootImpact

EQ = Instrument(InstrumentId("AAPL.XNAS"), InstrumentKind.EQUITY, "USD", 2, 0, 1, 1, 1)  # tick 0.01, 1 share
ES = Instrument(InstrumentId("ESH4.GLBX"), InstrumentKind.FUTURE, "USD", 2, 0, 25, 1, 1, multiplier=50, expiry_ns=1)
USD = MONEY_UNIT_RAW
BUY, SELL = 1, -1


def test_square_root_by_hand() -> None:
    # eta 1, sigma 2 %, Q/ADV = 10,000 / 1,000,000 -> 1 * 0.02 * 0.1 = 20 bps of 100.00 = 0.20
    m = SquareRootImpact(eta=1.0)
    ctx = ImpactContext(EQ, BUY, 10_000, 10_000, sigma=0.02, adv_raw=1_000_000)
    assert m.impact_bps(ctx) == pytest.approx(20.0)
    assert m.adjustment(ctx) == 20
    assert m.adjustment(ImpactContext(EQ, SELL, 10_000, 10_000, sigma=0.02, adv_raw=1_000_000)) == -20
    # four times the size: twice the impact
    assert m.adjustment(ImpactContext(EQ, BUY, 40_000, 10_000, sigma=0.02, adv_raw=1_000_000)) == 40


def test_square_root_tick_rounding() -> None:
    # ES at 4800.00: eta 0.5, sigma 1 %, 100 / 1e6 -> 0.5 * 0.01 * 0.01 = 0.5 bp = 0.24 points (raw 24)
    ctx = ImpactContext(ES, BUY, 100, 480_000, sigma=0.01, adv_raw=1_000_000)
    assert SquareRootImpact(0.5, rounding="none").adjustment(ctx) == 24
    assert SquareRootImpact(0.5).adjustment(ctx) == 25  # nearest tick of 0.25
    small = ImpactContext(ES, BUY, 25, 480_000, sigma=0.01, adv_raw=1_000_000)  # 0.12 points: half a tick
    assert SquareRootImpact(0.5).adjustment(small) == 0
    assert SquareRootImpact(0.5, rounding="adverse").adjustment(small) == 25
    sell = ImpactContext(ES, SELL, 25, 480_000, sigma=0.01, adv_raw=1_000_000)
    assert SquareRootImpact(0.5, rounding="adverse").adjustment(sell) == -25


def test_square_root_rolling_adv_and_defaults() -> None:
    m = SquareRootImpact(eta=1.0, daily_volume_window=3, default_sigma=0.02)
    with pytest.raises(ValueError, match="ADV"):
        m.adjustment(ImpactContext(EQ, BUY, 100, 10_000))
    for v in (100, 200, 300, 2_500):  # the window keeps the last three days
        m.on_daily_volume(v)
    assert m.adv_raw == 1_000
    # 10 / 1,000 -> 0.02 * 0.1 = 20 bps
    assert m.adjustment(ImpactContext(EQ, BUY, 10, 10_000)) == 20
    # the venue's ADV wins over the window
    assert m.adjustment(ImpactContext(EQ, BUY, 10, 10_000, adv_raw=250)) == 40
    with pytest.raises(ValueError):
        SquareRootImpact(rounding="up")


def test_almgren_chriss_by_hand() -> None:
    # eta 0.01 $/(share/s), gamma 1e-4 $/share; 1,000 shares over 100 s: temporary 0.01 * 10 = 0.10,
    # permanent 1e-4 * 1,000 = 0.10
    m = AlmgrenChrissImpact(eta=0.01, gamma=1e-4)
    ctx = ImpactContext(EQ, BUY, 1_000, 10_000, horizon_ns=100 * NANOS_PER_SECOND)
    assert m.temporary_raw(ctx) == pytest.approx(10)
    assert m.permanent_raw(ctx) == pytest.approx(10)
    assert m.adjustment(ctx) == 10  # the first fill pays only its temporary impact
    assert m.adjustment(ctx) == 20  # the second also pays the first's permanent impact
    assert m.permanent_offset_raw("AAPL.XNAS") == pytest.approx(20)
    sell = ImpactContext(EQ, SELL, 1_000, 10_000, horizon_ns=100 * NANOS_PER_SECOND)
    assert m.adjustment(sell) == 10  # +0.20 left by our buys, -0.10 of its own temporary impact
    assert m.permanent_offset_raw("AAPL.XNAS") == pytest.approx(10)
    # per instrument
    es = ImpactContext(ES, BUY, 10, 480_000, horizon_ns=10 * NANOS_PER_SECOND)
    assert m.adjustment(es) == 0  # 0.01 * 1 contract/s = 0.01 points, rounds to 0 ticks
    m.reset()
    assert m.permanent_offset_raw("AAPL.XNAS") == 0
    # horizon from the default, and required
    assert AlmgrenChrissImpact(0.01, default_horizon_ns=50 * NANOS_PER_SECOND).adjustment(
        ImpactContext(EQ, SELL, 1_000, 10_000)
    ) == -20
    with pytest.raises(ValueError, match="horizon"):
        AlmgrenChrissImpact(0.01).adjustment(ImpactContext(EQ, BUY, 1, 10_000))


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(1, 10**7),
    price=st.integers(1, 10**7),
    sigma=st.floats(0, 0.2),
    side=st.sampled_from([BUY, SELL]),
    rounding=st.sampled_from(["nearest", "adverse", "none"]),
)
def test_impact_is_adverse_and_grows_with_size(size, price, sigma, side, rounding) -> None:
    m = SquareRootImpact(1.0, rounding=rounding)
    a = m.adjustment(ImpactContext(EQ, side, size, price, sigma=sigma, adv_raw=10**6))
    b = m.adjustment(ImpactContext(EQ, side, size * 4, price, sigma=sigma, adv_raw=10**6))
    assert a * side >= 0 and b * side >= a * side
    assert a % EQ.tick_size_raw == 0
    exact = price * sigma * math.sqrt(size / 10**6)
    assert abs(abs(a) - exact) <= 1 + 1e-6 * exact
    assert NoImpact().adjustment(ImpactContext(EQ, side, size, price)) == 0


def test_participation_cap_rolling_window() -> None:
    cap = ParticipationCap(max_share=0.1, interval_ns=60 * NANOS_PER_SECOND)
    s = NANOS_PER_SECOND
    assert cap.allowed(0) == 0
    cap.on_market_volume(0, 1_000)
    assert cap.allowed(0) == 100
    assert cap.take(0, 150) == 100
    assert cap.allowed(10 * s) == 0
    cap.on_market_volume(30 * s, 500)
    assert cap.allowed(30 * s) == 50  # 10 % of 1,500 minus our 100
    assert cap.take(30 * s, 20) == 20
    assert cap.allowed(60 * s) == 30  # the first minute's volume and fill left the window: 50 - 20
    assert cap.allowed(90 * s) == 0
    lots = ParticipationCap(0.1, 60 * s, lot_size_raw=10)
    lots.on_market_volume(0, 1_234)
    assert lots.allowed(0) == 120
    with pytest.raises(ValueError):
        ParticipationCap(0.0, 60 * s)


# -- tiered fees --

TIERS = [
    FeeTier(0, maker_bps=2.0, taker_bps=5.0),
    FeeTier(1_000_000 * USD, maker_bps=0.0, taker_bps=4.0),
    FeeTier(5_000_000 * USD, maker_bps=-1.0, taker_bps=3.0),  # a maker rebate
]


def _ctx(liq: LiquiditySide, qty: int = 100, px: int = 10_000) -> FeeContext:
    return FeeContext(EQ, qty, px, liq)  # 100 shares at 100.00: 10,000 USD


def test_tier_switching_by_trailing_volume() -> None:
    fee = TieredBpsFee(TIERS)
    maker, taker = _ctx(LiquiditySide.MAKER), _ctx(LiquiditySide.TAKER)
    assert fee.tier_index == 0
    assert fee.commission(taker) == 5 * USD and fee.commission(maker) == 2 * USD
    fee.on_fill(999_999 * USD, ts_ns=0)
    assert fee.tier_index == 0
    fee.on_fill(1 * USD, ts_ns=NANOS_PER_DAY)
    assert fee.tier_index == 1 and fee.commission(taker) == 4 * USD and fee.commission(maker) == 0
    fee.on_fill(4_000_000 * USD, ts_ns=2 * NANOS_PER_DAY)
    assert fee.tier_index == 2
    assert fee.commission(maker) == -1 * USD  # rebate: money received
    assert fee.commission(taker) == 3 * USD
    # 30 days after the first fill its volume leaves the window: back to tier 1
    fee.advance_to(30 * NANOS_PER_DAY)
    assert fee.volume_raw == 4_000_001 * USD and fee.tier_index == 1
    fee.advance_to(32 * NANOS_PER_DAY)
    assert fee.volume_raw == 0 and fee.tier_index == 0


def test_tier_tracking_inside_commission() -> None:
    now = [0]
    fee = TieredBpsFee(TIERS, track_fills=True, now_ns=lambda: now[0])
    big = _ctx(LiquiditySide.TAKER, qty=10_000)  # 1,000,000 USD
    assert fee.commission(big) == 500 * USD  # priced at the tier reached before the fill
    assert fee.tier_index == 1
    assert fee.commission(big) == 400 * USD
    now[0] = 31 * NANOS_PER_DAY
    assert fee.commission(big) == 500 * USD  # both earlier fills expired first
    assert fee.volume_raw == 1_000_000 * USD


def test_tier_validation_and_initial_volume() -> None:
    with pytest.raises(ValueError):
        TieredBpsFee([FeeTier(10, 1, 1)])
    with pytest.raises(ValueError):
        TieredBpsFee([])
    fee = TieredBpsFee(list(reversed(TIERS)), initial_volume_raw=6_000_000 * USD)  # order does not matter
    assert fee.tier_index == 2
    fee.advance_to(10**6 * NANOS_PER_DAY)
    assert fee.tier_index == 2  # volume brought in without a time stamp never expires
    dated = TieredBpsFee(TIERS, initial_volume_raw=6_000_000 * USD, initial_volume_ts_ns=0)
    dated.advance_to(31 * NANOS_PER_DAY)
    assert dated.tier_index == 0
