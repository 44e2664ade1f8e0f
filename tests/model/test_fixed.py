"""Exact fixed-point values: Price, Quantity, Money and the raw helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.model.fixed import (
    CURRENCY_PRECISION,
    MAX_PRECISION,
    MONEY_PRECISION,
    FixedPointError,
    Money,
    Price,
    Quantity,
    parse_raw,
    raw_to_decimal,
    raw_to_str,
    rescale,
    round_half_up_div,
    round_money_raw,
    round_to_increment,
)

FAST = settings(max_examples=150, deadline=None)

precisions = st.integers(min_value=0, max_value=MAX_PRECISION)
raws = st.integers(min_value=-(10**18), max_value=10**18)
nonneg_raws = st.integers(min_value=0, max_value=10**18)
increments = st.integers(min_value=1, max_value=10**6)


# -- parse / str round trip -------------------------------------------------------------------


@pytest.mark.parametrize("precision", range(MAX_PRECISION + 1))
@FAST
@given(raw=raws)
def test_price_str_round_trip_every_precision(precision: int, raw: int) -> None:
    p = Price(raw, precision)
    text = str(p)
    assert Price.from_str(text, precision) == p
    assert Price.from_str(text, precision).raw == raw
    # without an explicit precision the number of decimals given is the precision
    inferred = Price.from_str(text)
    assert inferred.precision == precision
    assert inferred.raw == raw
    assert (text.count(".") == 0) == (precision == 0)
    if precision:
        assert len(text.partition(".")[2]) == precision
    assert p.as_decimal() == Decimal(text)
    assert parse_raw(text, precision) == raw


@pytest.mark.parametrize("precision", range(MAX_PRECISION + 1))
@FAST
@given(raw=nonneg_raws)
def test_quantity_str_round_trip_every_precision(precision: int, raw: int) -> None:
    q = Quantity(raw, precision)
    assert Quantity.from_str(str(q), precision) == q
    assert Quantity.from_str(str(q)).raw == raw
    assert raw_to_decimal(raw, precision) == Decimal(str(q))


@FAST
@given(raw=raws, precision=precisions)
def test_parse_decimal_and_int_inputs(raw: int, precision: int) -> None:
    dec = Decimal(raw).scaleb(-precision)
    assert parse_raw(dec, precision) == raw
    assert parse_raw(raw, precision) == raw * 10**precision  # ints are whole units


@FAST
@given(raw=raws, precision=st.integers(min_value=0, max_value=MAX_PRECISION - 1))
def test_parse_rejects_too_many_places(raw: int, precision: int) -> None:
    # one more decimal place with a non-zero last digit never fits
    text = raw_to_str(raw * 10 + 7 if raw >= 0 else raw * 10 - 7, precision + 1)
    with pytest.raises(FixedPointError, match="decimal places"):
        parse_raw(text, precision)


def test_parse_trailing_zeros_and_examples() -> None:
    assert parse_raw("1.50", 1) == 15
    assert parse_raw("1.10785", 5) == 110785
    assert parse_raw("-0.01", 2) == -1
    assert raw_to_str(-1, 2) == "-0.01"
    assert raw_to_str(5, 0) == "5"
    assert str(Price.from_str("1.10785")) == "1.10785"
    assert repr(Price.from_str("1.10785")) == "Price('1.10785')"


@pytest.mark.parametrize("bad", ["abc", "", "1.2.3", "NaN", "Infinity", "-inf"])
def test_parse_rejects_non_numbers(bad: str) -> None:
    with pytest.raises(FixedPointError):
        parse_raw(bad, 2)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), True, False])
def test_parse_rejects_non_finite_and_bools(bad: object) -> None:
    with pytest.raises(FixedPointError):
        parse_raw(bad, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("precision", [-1, MAX_PRECISION + 1, 42])
def test_precision_out_of_range(precision: int) -> None:
    with pytest.raises(FixedPointError, match="precision"):
        parse_raw("1", precision)
    with pytest.raises(FixedPointError):
        Price(1, precision)


def test_parse_is_exact_beyond_decimal_context_precision() -> None:
    # 32 significant digits: more than the default 28-digit Decimal context
    text = "12345678901234567890123.123456789"
    assert parse_raw(text, 9) == 12345678901234567890123123456789
    with pytest.raises(FixedPointError):
        parse_raw(text + "1", 9)


# -- floats ------------------------------------------------------------------------------------


def test_float_accepted_only_when_exact() -> None:
    assert parse_raw(1.10785, 5) == 110785
    assert parse_raw(0.3, 1) == 3
    assert parse_raw(-2.5, 1) == -25
    assert parse_raw(1e20, 0) == 10**20
    with pytest.raises(FixedPointError):
        parse_raw(0.1 + 0.2, 1)
    with pytest.raises(FixedPointError):
        parse_raw(0.1, 0)
    with pytest.raises(FixedPointError):
        parse_raw(1.0000000001, 9)
    with pytest.raises(FixedPointError):
        parse_raw(1e-10, 9)


@FAST
@given(raw=st.integers(min_value=-(10**12), max_value=10**12), precision=precisions)
def test_float_of_exact_decimal_round_trips(raw: int, precision: int) -> None:
    # float(str) of a decimal with <= 15 significant digits reprs back to the same decimal
    value = float(raw_to_str(raw, precision))
    if abs(raw) < 10**15:
        assert parse_raw(value, precision) == raw


@FAST
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12), precision=precisions)
def test_float_result_is_exactly_the_float_shortest_repr(value: float, precision: int) -> None:
    try:
        raw = parse_raw(value, precision)
    except FixedPointError:
        assert Decimal(repr(value)).scaleb(precision) % 1 != 0
    else:
        assert Decimal(raw).scaleb(-precision) == Decimal(repr(value))


# -- arithmetic and comparison -------------------------------------------------------------------


@FAST
@given(a=raws, b=raws, c=raws, precision=precisions)
def test_addition_subtraction_exact_and_associative(a: int, b: int, c: int, precision: int) -> None:
    pa, pb, pc = Price(a, precision), Price(b, precision), Price(c, precision)
    assert (pa + pb).raw == a + b
    assert (pa - pb).raw == a - b
    assert (pa + pb).precision == precision
    assert (pa + pb) + pc == pa + (pb + pc)
    assert (pa + pb) - pb == pa
    assert pa + pb == pb + pa
    assert (pa + pb).as_decimal() == pa.as_decimal() + pb.as_decimal()
    assert (pa - pb).as_decimal() == pa.as_decimal() - pb.as_decimal()


@FAST
@given(a=nonneg_raws, b=nonneg_raws, precision=precisions)
def test_quantity_addition_and_negative_difference(a: int, b: int, precision: int) -> None:
    qa, qb = Quantity(a, precision), Quantity(b, precision)
    assert (qa + qb).raw == a + b
    assert isinstance(qa + qb, Quantity)
    if a >= b:
        assert (qa - qb).raw == a - b
    else:
        with pytest.raises(FixedPointError, match="negative"):
            qa - qb


@FAST
@given(a=raws, b=raws, precision=precisions)
def test_comparisons_consistent_with_decimal(a: int, b: int, precision: int) -> None:
    pa, pb = Price(a, precision), Price(b, precision)
    da, db = pa.as_decimal(), pb.as_decimal()
    assert (pa < pb) == (da < db)
    assert (pa <= pb) == (da <= db)
    assert (pa > pb) == (da > db)
    assert (pa >= pb) == (da >= db)
    assert (pa == pb) == (da == db)
    assert (pa != pb) == (da != db)
    if pa == pb:
        assert hash(pa) == hash(pb)


@FAST
@given(raw=raws, p1=precisions, p2=precisions)
def test_equality_across_precisions_matches_decimal(raw: int, p1: int, p2: int) -> None:
    a = Price(raw, p1)
    b = Price(raw * 10 ** (MAX_PRECISION - p1) // 10 ** (MAX_PRECISION - p2), p2)
    assert (a == b) == (a.as_decimal() == b.as_decimal())
    if a == b:
        assert hash(a) == hash(b)


def test_mixing_precisions_and_types_raises() -> None:
    p2, p3 = Price(100, 2), Price(1000, 3)
    with pytest.raises(FixedPointError, match="precision mismatch"):
        p2 + p3
    with pytest.raises(FixedPointError, match="precision mismatch"):
        p2 - p3
    with pytest.raises(FixedPointError, match="precision mismatch"):
        p2 < p3  # noqa: B015
    q2 = Quantity(100, 2)
    with pytest.raises(TypeError):
        p2 + q2
    with pytest.raises(TypeError):
        p2 < q2  # noqa: B015
    with pytest.raises(TypeError):
        p2 + 1
    with pytest.raises(TypeError):
        p2 + Decimal("1")
    assert p2 != q2  # different types are never equal
    assert p2 != 1
    with pytest.raises(TypeError):
        Money(1, "USD") + p2
    with pytest.raises(FixedPointError, match="currency mismatch"):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(FixedPointError, match="currency mismatch"):
        Money(1, "USD") < Money(1, "EUR")  # noqa: B015


def test_quantity_negative_raises() -> None:
    with pytest.raises(FixedPointError, match="negative"):
        Quantity(-1, 2)
    with pytest.raises(FixedPointError):
        Quantity.from_str("-0.5")
    assert Quantity(0, 3).raw == 0
    assert Price(-5, 2).raw == -5  # prices may be negative


def test_immutability() -> None:
    p = Price(1, 2)
    q = Quantity(1, 2)
    m = Money(1, "USD")
    for obj, attr in ((p, "raw"), (p, "precision"), (q, "raw"), (m, "raw"), (m, "currency"), (p, "other")):
        with pytest.raises(AttributeError):
            setattr(obj, attr, 5)
    assert (p.raw, p.precision, q.raw, m.raw, m.currency) == (1, 2, 1, 1, "USD")
    before = p
    p += Price(1, 2)  # rebinding, not mutation
    assert before.raw == 1 and p.raw == 2
    assert len({Price(1, 2), Price(10, 3), Price(2, 2)}) == 2  # hashable, value-based


# -- rounding ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(raw=raws, inc=increments)
def test_round_to_increment_properties(raw: int, inc: int) -> None:
    down = round_to_increment(raw, inc, "down")
    up = round_to_increment(raw, inc, "up")
    near = round_to_increment(raw, inc, "nearest")
    for r in (down, up, near):
        assert r % inc == 0
        assert abs(r - raw) < inc
        assert round_to_increment(r, inc, "down") == r
        assert round_to_increment(r, inc, "up") == r
        assert round_to_increment(r, inc, "nearest") == r
    assert down <= raw <= up
    assert up - down in (0, inc)
    assert near in (down, up)
    # nearest is within half an increment, and ties go away from zero
    assert 2 * abs(near - raw) <= inc
    if 2 * abs(near - raw) == inc:
        assert abs(near) > abs(raw)
    if raw % inc == 0:
        assert down == up == near == raw


@FAST
@given(raw=raws, inc=increments, precision=precisions)
def test_round_to_on_fixed_values(raw: int, inc: int, precision: int) -> None:
    p = Price(raw, precision)
    tick = Price(inc, precision)
    for mode in ("nearest", "down", "up"):
        r = p.round_to(tick, mode)
        assert isinstance(r, Price)
        assert r.precision == precision
        assert r.is_multiple_of(tick)
        assert r.raw == round_to_increment(raw, inc, mode)
    assert p.round_to(tick, "down") <= p <= p.round_to(tick, "up")
    assert p.is_multiple_of(tick) == (raw % inc == 0)


def test_round_to_increment_rejects_bad_args() -> None:
    with pytest.raises(FixedPointError, match="positive"):
        round_to_increment(10, 0)
    with pytest.raises(FixedPointError, match="positive"):
        round_to_increment(10, -5)
    with pytest.raises(FixedPointError, match="mode"):
        round_to_increment(10, 5, "banker")
    with pytest.raises(FixedPointError):
        Price(100, 2).round_to(Price(10, 3))


def test_round_half_up_div_examples() -> None:
    assert round_half_up_div(5, 10) == 1
    assert round_half_up_div(4, 10) == 0
    assert round_half_up_div(-5, 10) == -1
    assert round_half_up_div(-4, 10) == 0
    assert round_half_up_div(15, 10) == 2
    assert round_half_up_div(25, 10) == 3  # not banker's rounding


@FAST
@given(n=raws, d=st.integers(min_value=1, max_value=10**9))
def test_round_half_up_div_matches_decimal(n: int, d: int) -> None:
    from decimal import ROUND_HALF_UP, Context

    exact = Context(prec=60).divide(Decimal(n), Decimal(d))
    expected = exact.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=Context(prec=60))
    assert round_half_up_div(n, d) == int(expected)


# -- rescale -----------------------------------------------------------------------------------


@FAST
@given(raw=raws, p_from=precisions, p_to=precisions)
def test_rescale_exact_or_raises(raw: int, p_from: int, p_to: int) -> None:
    value = raw_to_decimal(raw, p_from)
    try:
        out = rescale(raw, p_from, p_to)
    except FixedPointError:
        assert p_to < p_from
        assert raw % 10 ** (p_from - p_to) != 0
    else:
        assert raw_to_decimal(out, p_to) == value
        assert rescale(out, p_to, p_from) == raw


def test_rescale_examples() -> None:
    assert rescale(110785, 5, 9) == 1107850000
    assert rescale(1107850000, 9, 5) == 110785
    assert rescale(-1500, 3, 1) == -15
    with pytest.raises(FixedPointError, match="does not fit precision 2"):
        rescale(1001, 3, 2)
    with pytest.raises(FixedPointError):
        rescale(-1001, 3, 2)


# -- money -------------------------------------------------------------------------------------


def test_money_rounding_half_up_to_cents() -> None:
    cent = 10 ** (MONEY_PRECISION - 2)
    assert Money.of("1.005", "USD").rounded() == Money.of("1.01", "USD")
    assert Money.of("1.004999999", "USD").rounded() == Money.of("1.00", "USD")
    assert Money.of("-1.005", "USD").rounded() == Money.of("-1.01", "USD")
    assert Money.of("2.675", "USD").rounded().raw == 268 * cent
    assert str(Money.of("1.005", "USD")) == "1.01 USD"
    assert str(Money.of("-0.004", "USD")) == "0.00 USD"
    assert str(Money.of("1234.5", "JPY")) == "1235 JPY"
    assert str(Money.of("0.123456785", "BTC")) == "0.12345679 BTC"
    assert repr(Money.of("1.5", "USD")) == "Money('1.500000000', 'USD')"


@FAST
@given(raw=raws, currency=st.sampled_from(sorted(CURRENCY_PRECISION)))
def test_round_money_raw_properties(raw: int, currency: str) -> None:
    unit = 10 ** (MONEY_PRECISION - CURRENCY_PRECISION[currency])
    r = round_money_raw(raw, currency)
    assert r % unit == 0
    assert 2 * abs(r - raw) <= unit
    assert round_money_raw(r, currency) == r
    from decimal import ROUND_HALF_UP

    expected = raw_to_decimal(raw, MONEY_PRECISION).quantize(
        Decimal(1).scaleb(-CURRENCY_PRECISION[currency]), rounding=ROUND_HALF_UP
    )
    assert raw_to_decimal(r, MONEY_PRECISION) == expected


@FAST
@given(a=raws, b=raws)
def test_money_arithmetic_exact(a: int, b: int) -> None:
    ma, mb = Money(a, "USD"), Money(b, "USD")
    assert (ma + mb).raw == a + b
    assert (ma - mb).raw == a - b
    assert (-ma).raw == -a
    assert (ma < mb) == (a < b)
    assert (ma == mb) == (a == b)
    assert (ma + mb).as_decimal() == ma.as_decimal() + mb.as_decimal()


def test_money_of_rejects_inexact() -> None:
    assert Money.of("100000.00", "USD").raw == 100_000 * 10**MONEY_PRECISION
    assert Money.of(3, "USD").raw == 3 * 10**MONEY_PRECISION
    with pytest.raises(FixedPointError):
        Money.of("0.0000000001", "USD")
    assert Money(1, "USD") != Money(1, "EUR")
