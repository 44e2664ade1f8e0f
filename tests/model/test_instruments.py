"""Instruments: kinds, grids, exact notional and the TOML instrument files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradeforge.model.fixed import MONEY_PRECISION, FixedPointError, Price, Quantity, raw_to_decimal
from tradeforge.model.identifiers import InstrumentId
from tradeforge.model.instruments import (
    Instrument,
    InstrumentError,
    InstrumentKind,
    InstrumentProvider,
    instrument_from_dict,
)
from tradeforge.model.timeutil import parse_timestamp_ns

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENTS = ROOT / "data" / "instruments"

SPECS = {
    "equity": {"id": "AAPL.XNAS", "kind": "equity", "currency": "USD", "tick_size": "0.01", "lot_size": "1"},
    "future": {
        "id": "6EH4.XCME",
        "kind": "future",
        "currency": "USD",
        "tick_size": "0.00005",
        "lot_size": "1",
        "multiplier": 125000,
        "expiry": "2024-03-18",
        "margin_init_bps": 300,
    },
    "fx": {
        "id": "USDJPY.FXCM",
        "kind": "fx",
        "currency": "JPY",
        "base_currency": "USD",
        "tick_size": "0.001",
        "lot_size": "1000",
    },
    "crypto_spot": {
        "id": "BTCUSDT.BINANCE",
        "kind": "crypto_spot",
        "currency": "USDT",
        "base_currency": "BTC",
        "tick_size": "0.01",
        "lot_size": "0.000001",
    },
    "crypto_perpetual": {
        "id": "BTC-PERP.FTX",
        "kind": "crypto_perpetual",
        "currency": "USD",
        "tick_size": "1",
        "lot_size": "0.0001",
        "min_quantity": "0.001",
    },
}


def make(kind: str, **overrides: object) -> Instrument:
    return instrument_from_dict({**SPECS[kind], **overrides}, f"test[{kind}]")


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_each_kind_loads(kind: str) -> None:
    inst = make(kind)
    assert inst.kind is InstrumentKind(kind)
    assert inst.id == SPECS[kind]["id"]
    assert isinstance(inst.id, InstrumentId)
    assert inst.venue == SPECS[kind]["id"].rpartition(".")[2]
    assert inst.currency == SPECS[kind]["currency"]
    assert inst.cash_settled == (kind in ("equity", "crypto_spot"))
    assert inst.margin_init_bps == (0 if inst.cash_settled else SPECS[kind].get("margin_init_bps", 1000))
    # precisions are inferred from the tick and lot strings
    tick, lot = str(SPECS[kind]["tick_size"]), str(SPECS[kind]["lot_size"])
    assert inst.price_precision == (len(tick.partition(".")[2]))
    assert inst.size_precision == (len(lot.partition(".")[2]))
    assert raw_to_decimal(inst.tick_size_raw, inst.price_precision) == raw_to_decimal(
        int(tick.replace(".", "")), len(tick.partition(".")[2])
    )
    assert inst.min_quantity_raw >= inst.lot_size_raw
    assert inst.notional_factor == inst.multiplier * 10 ** (
        MONEY_PRECISION - inst.price_precision - inst.size_precision
    )


def test_kind_details() -> None:
    fut = make("future")
    assert fut.expiry_ns == parse_timestamp_ns("2024-03-18")
    assert fut.multiplier == 125000
    assert fut.tick_size_raw == 5 and fut.price_precision == 5
    fx = make("fx")
    assert fx.base_currency == "USD" and fx.lot_size_raw == 1000 and fx.size_precision == 0
    spot = make("crypto_spot")
    assert spot.base_currency == "BTC" and spot.size_precision == 6 and spot.lot_size_raw == 1
    perp = make("crypto_perpetual")
    assert perp.min_quantity_raw == 10 and perp.lot_size_raw == 1


def test_future_needs_expiry() -> None:
    spec = {k: v for k, v in SPECS["future"].items() if k != "expiry"}
    with pytest.raises(InstrumentError, match=r"6EH4\.XCME.*expiry"):
        instrument_from_dict(spec, "f.toml: instrument[0]")


def test_explicit_precision_overrides() -> None:
    inst = make("equity", price_precision=4, size_precision=2)
    assert inst.price_precision == 4 and inst.size_precision == 2
    assert inst.tick_size_raw == 100 and inst.lot_size_raw == 100


# -- grids -------------------------------------------------------------------------------------


def test_off_tick_price_names_instrument_and_value() -> None:
    inst = make("future")
    assert inst.price("1.10785") == 110785
    assert inst.price(1.10785) == 110785
    assert inst.price(Price.from_str("1.10785")) == 110785
    assert inst.price(Price.from_str("1.107850000")) == 110785  # other precision, same value
    with pytest.raises(FixedPointError, match=r"6EH4\.XCME.*1\.10783.*tick grid 0\.00005"):
        inst.price("1.10783")
    with pytest.raises(FixedPointError, match=r"6EH4\.XCME.*1\.10783"):
        inst.check_price(110783)
    with pytest.raises(FixedPointError, match=r"6EH4\.XCME"):
        inst.price("1.107851")  # more places than the instrument's precision
    with pytest.raises(FixedPointError, match=r"6EH4\.XCME"):
        inst.price(Price.from_str("1.107851"))


def test_off_lot_and_below_min_quantity() -> None:
    fx = make("fx")
    assert fx.quantity("5000") == 5000
    assert fx.quantity(Quantity(5000, 0)) == 5000
    with pytest.raises(FixedPointError, match=r"USDJPY\.FXCM.*quantity 1500.*lot grid 1000"):
        fx.quantity("1500")
    perp = make("crypto_perpetual")
    assert perp.quantity("0.001") == 10
    assert perp.quantity(Quantity.from_str("0.0015")) == 15
    with pytest.raises(FixedPointError, match=r"BTC-PERP\.FTX.*quantity 0\.0005.*below the minimum 0\.0010"):
        perp.quantity("0.0005")
    with pytest.raises(FixedPointError, match=r"BTC-PERP\.FTX.*0\.00001"):
        perp.quantity("0.00001")
    with pytest.raises(FixedPointError, match=r"BTC-PERP\.FTX.*positive"):
        perp.quantity("0")
    with pytest.raises(FixedPointError, match=r"BTC-PERP\.FTX.*positive"):
        perp.check_quantity(-10)


def test_make_price_and_quantity() -> None:
    inst = make("crypto_spot")
    assert inst.make_price(6512345) == Price.from_str("65123.45")
    assert inst.make_quantity(1_500_000) == Quantity.from_str("1.500000")
    assert inst.price_to_float(6512345) == pytest.approx(65123.45)


# -- notional ----------------------------------------------------------------------------------


def test_notional_exact_with_futures_multiplier() -> None:
    fut = make("future")
    money = fut.notional_raw(fut.price("1.10785"), fut.quantity(2))
    assert raw_to_decimal(money, MONEY_PRECISION) == raw_to_decimal(27696250, 2)  # 276962.50 USD
    assert money == 276_962_500_000_000


def test_notional_exact_crypto_and_fx() -> None:
    spot = make("crypto_spot")
    money = spot.notional_raw(spot.price("65123.45"), spot.quantity("0.123457"))
    # 65123.45 * 0.123457, computed exactly
    assert raw_to_decimal(money, MONEY_PRECISION) == Decimal("65123.45") * Decimal("0.123457")
    fx = make("fx")
    assert raw_to_decimal(fx.notional_raw(fx.price("151.234"), fx.quantity(3000)), MONEY_PRECISION) == Decimal("453702")


def test_precision_sum_above_money_precision_rejected() -> None:
    with pytest.raises(InstrumentError, match="price_precision \\+ size_precision"):
        make("crypto_spot", tick_size="0.0001")  # 4 + 6 = 10 > 9
    with pytest.raises(InstrumentError):
        Instrument(InstrumentId("X.Y"), InstrumentKind.EQUITY, "USD", 5, 5, 1, 1, 1)
    assert make("crypto_spot", tick_size="0.001").notional_factor == 1  # 3 + 6 = 9 is fine


def test_invalid_grids_rejected() -> None:
    with pytest.raises(InstrumentError, match="positive"):
        Instrument(InstrumentId("X.Y"), InstrumentKind.EQUITY, "USD", 2, 0, 0, 1, 1)
    with pytest.raises(InstrumentError, match="positive"):
        Instrument(InstrumentId("X.Y"), InstrumentKind.EQUITY, "USD", 2, 0, 1, 1, 1, multiplier=0)
    with pytest.raises(InstrumentError, match="min_quantity"):
        make("crypto_perpetual", min_quantity="0.00015")
    with pytest.raises(InstrumentError, match=r"test\[equity\].*tick_size"):
        make("equity", tick_size="0.001", price_precision=2)


# -- provider ----------------------------------------------------------------------------------


def test_unknown_instrument_clear_message() -> None:
    provider = InstrumentProvider([make("equity"), make("fx")])
    assert provider.get("AAPL.XNAS").kind is InstrumentKind.EQUITY
    assert "USDJPY.FXCM" in provider and len(provider) == 2
    with pytest.raises(InstrumentError, match=r"unknown instrument 'MSFT\.XNAS'.*instrument file.*2 instruments"):
        provider.get("MSFT.XNAS")
    with pytest.raises(InstrumentError, match="defined twice"):
        provider.add(make("equity"))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "instruments.toml"
    path.write_text(text)
    return path


GOOD = """
[[instrument]]
id = "AAPL.XNAS"
kind = "equity"
currency = "USD"
tick_size = "0.01"
lot_size = "1"
"""


def test_toml_loads_instruments_and_groups(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        GOOD
        + """
[[group]]
venue = "XNYS"
kind = "equity"
currency = "USD"
tick_size = "0.0001"
lot_size = "1"
symbols = ["IBM", "BRK.B"]
""",
    )
    provider = InstrumentProvider.from_toml(path)
    assert sorted(i.id for i in provider) == ["AAPL.XNAS", "BRK.B.XNYS", "IBM.XNYS"]
    brk = provider.get("BRK.B.XNYS")
    assert brk.id.symbol == "BRK.B" and brk.venue == "XNYS" and brk.price_precision == 4


def test_toml_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + 'tick_sise = "0.01"\n')
    with pytest.raises(InstrumentError) as err:
        InstrumentProvider.from_toml(path)
    assert str(path) in str(err.value)
    assert "instrument[0]" in str(err.value)
    assert "tick_sise" in str(err.value)


def test_toml_missing_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('lot_size = "1"\n', ""))
    with pytest.raises(InstrumentError) as err:
        InstrumentProvider.from_toml(path)
    assert str(path) in str(err.value)
    assert "missing required key 'lot_size'" in str(err.value)


def test_toml_bad_kind_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('kind = "equity"', 'kind = "bond"'))
    with pytest.raises(InstrumentError) as err:
        InstrumentProvider.from_toml(path)
    msg = str(err.value)
    assert str(path) in msg and "kind" in msg and "'bond'" in msg and "crypto_perpetual" in msg


def test_toml_other_errors(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="cannot read instrument file"):
        InstrumentProvider.from_toml(tmp_path / "missing.toml")
    bad = _write(tmp_path, "[[instrument]\nid = ")
    with pytest.raises(InstrumentError, match=r"instruments\.toml.*cannot read"):
        InstrumentProvider.from_toml(bad)
    top = _write(tmp_path, GOOD + "\n[settings]\nx = 1\n")
    with pytest.raises(InstrumentError, match=r"instruments\.toml.*unknown top-level.*settings"):
        InstrumentProvider.from_toml(top)
    group = _write(tmp_path, '[[group]]\nkind = "equity"\nsymbols = ["A"]\n')
    with pytest.raises(InstrumentError, match=r"group\[0\].*'symbols' and 'venue'"):
        InstrumentProvider.from_toml(group)
    dup = _write(tmp_path, GOOD + GOOD)
    with pytest.raises(InstrumentError, match=r"AAPL\.XNAS defined twice"):
        InstrumentProvider.from_toml(dup)
    offgrid = _write(tmp_path, GOOD.replace('tick_size = "0.01"', 'tick_size = "0.01"\nprice_precision = 1'))
    with pytest.raises(InstrumentError, match=r"instruments\.toml: instrument\[0\].*tick_size"):
        InstrumentProvider.from_toml(offgrid)


def test_real_sp500_file_loads() -> None:
    provider = InstrumentProvider.from_toml(INSTRUMENTS / "sp500.toml")
    assert len(provider) == 505
    assert all(i.kind is InstrumentKind.EQUITY and i.venue == "XNYS" for i in provider)
    aapl = provider.get("AAPL.XNYS")
    assert aapl.price("172.5025") == 1725025
    assert aapl.quantity(100) == 100
    assert "BRK.B.XNYS" in provider


def test_real_futures_fx_crypto_file_loads() -> None:
    provider = InstrumentProvider.from_toml(INSTRUMENTS / "futures_fx_crypto.toml")
    kinds = {i.id: i.kind for i in provider}
    assert kinds == {
        "6EH4.XCME": InstrumentKind.FUTURE,
        "BTCUSDT.BINANCE": InstrumentKind.CRYPTO_SPOT,
        "USDJPY.FXCM": InstrumentKind.FX,
        "USDJPY-ASK.FXCM": InstrumentKind.FX,
        "BTC-PERP.FTX": InstrumentKind.CRYPTO_PERPETUAL,
        "USDJPY.TRUEFX": InstrumentKind.FX,
    }
    fut = provider.get("6EH4.XCME")
    notional = fut.notional_raw(fut.price("1.10785"), fut.quantity("2"))
    assert raw_to_decimal(notional, MONEY_PRECISION) == raw_to_decimal(27696250, 2)
    assert fut.expiry_ns == parse_timestamp_ns("2024-03-18T00:00:00+00:00")


def test_toml_bad_expiry_names_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[instrument]]\nid = "6EH4.XCME"\nkind = "future"\ncurrency = "USD"\ntick_size = "0.00005"\n'
        'lot_size = "1"\nexpiry = "March 2024"\n',
    )
    with pytest.raises(InstrumentError) as err:
        InstrumentProvider.from_toml(path)
    assert str(path) in str(err.value) and "expiry" in str(err.value) and "March 2024" in str(err.value)
