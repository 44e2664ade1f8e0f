"""A seeded generator of large, valid ITCH 5.0 streams (BinaryFILE, optionally MoldUDP64 packets).

The day looks like a real one: ``S`` start of messages, one ``R`` stock directory and ``H`` trading
action per stock, ``S`` start of system / market hours, a body of order-book traffic, then the
closing ``S`` events. The body is a mix of adds (``A``/``F``), executions (``E``/``C``), partial
cancels (``X``), deletes (``D``), replaces (``U``), non-cross trades (``P``) and, rarely, every
other message type (``Q``, ``B``, ``I``, ``N``, ``K``, ``J``, ``h``, ``Y``, ``L``, ``V``, ``W``).
The order book stays consistent: an order is referenced only after it was added and while it is
open; executed and cancelled shares never exceed the open shares (an order executed to zero is
gone; a partial cancel always leaves at least one share); a replace retires the original
reference and opens the new one; ``B`` breaks only an earlier match number.

The state machine runs in one ``@numba.njit`` pass that consumes uniforms pre-drawn from
``numpy.random.default_rng(seed)``, so a seed gives the same bytes on every platform; the per-type
columns are then filled vectorized and serialized by a numba scatter (real length prefixes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from tradeforge.data.itch.spec import DTYPES, LENGTH_TABLE, MESSAGE_TYPES, WIRE_DTYPES

DEFAULT_STOCKS: tuple[str, ...] = ("ALC", "BOB", "CHAR", "DAVE", "EVE", "FRAN", "GIL", "HUGO")
SESSION = b"TFGEN00001"

# Body message kinds with their default weights (per mille-ish; normalized).
BODY_WEIGHTS: dict[str, float] = {
    "A": 400.0, "F": 20.0, "E": 90.0, "C": 10.0, "X": 40.0, "D": 300.0, "U": 60.0, "P": 70.0,
    "Q": 0.5, "B": 0.3, "I": 1.0, "N": 0.5, "K": 0.1, "J": 0.1, "h": 0.1, "Y": 0.1, "L": 0.1,
    "V": 0.05, "W": 0.05,
}  # fmt: skip

_START_NS = 3 * 3600 * 10**9  # 03:00, start of messages
_BODY_START_NS = 4 * 3600 * 10**9
_BODY_END_NS = 20 * 3600 * 10**9
_TICK = 100  # one cent at 4 implied decimals


@numba.njit(cache=True)
def _simulate(kinds_in: np.ndarray, u: np.ndarray, n_stocks: int, base_price: np.ndarray):
    """The order-book state machine. ``kinds_in``: the drawn kind of each body message (may be
    changed when no open order exists); ``u``: uniforms, 5 per message."""
    n = kinds_in.shape[0]
    kind = kinds_in.copy()
    stock = np.zeros(n, np.int64)
    ref = np.zeros(n, np.uint64)
    ref2 = np.zeros(n, np.uint64)
    side = np.zeros(n, np.uint8)
    shares = np.zeros(n, np.uint32)
    price = np.zeros(n, np.uint32)
    match = np.zeros(n, np.uint64)
    live_ref = np.empty(n, np.uint64)
    live_rem = np.empty(n, np.int64)
    live_stock = np.empty(n, np.int64)
    live_side = np.empty(n, np.uint8)
    live_price = np.empty(n, np.int64)
    nlive = 0
    next_ref = np.uint64(1)
    next_match = np.uint64(0)
    bA, bF, bE, bC, bX, bD, bU, bP, bQ, bB = 65, 70, 69, 67, 88, 68, 85, 80, 81, 66
    for i in range(n):
        k = kind[i]
        if nlive == 0 and (k == bE or k == bC or k == bX or k == bD or k == bU):  # noqa: SIM109 (numba)
            k = bA
        if k == bB and next_match == 0:
            k = bP
        kind[i] = k
        s = min(int(u[i, 1] * n_stocks), n_stocks - 1)
        sd = np.uint8(66) if u[i, 2] < 0.5 else np.uint8(83)  # B / S
        px = base_price[s] + (int(u[i, 3] * 41) - 20) * 100
        qty = 100 * (1 + int(u[i, 4] * 10))
        if k == bA or k == bF:  # noqa: SIM109 (numba)
            stock[i] = s
            ref[i] = next_ref
            side[i] = sd
            shares[i] = qty
            price[i] = px
            live_ref[nlive] = next_ref
            live_rem[nlive] = qty
            live_stock[nlive] = s
            live_side[nlive] = sd
            live_price[nlive] = px
            nlive += 1
            next_ref += np.uint64(1)
        elif k == bE or k == bC or k == bX or k == bD or k == bU:  # noqa: SIM109 (numba)
            j = min(int(u[i, 1] * nlive), nlive - 1)
            rem = live_rem[j]
            stock[i] = live_stock[j]
            ref[i] = live_ref[j]
            side[i] = live_side[j]
            if k == bX and rem == 1:
                k = bD
                kind[i] = k
            remove = False
            if k == bE or k == bC:  # noqa: SIM109 (numba)
                q = min(1 + int(u[i, 4] * rem), rem)
                shares[i] = q
                next_match += np.uint64(1)
                match[i] = next_match
                price[i] = live_price[j] + (_TICK if k == bC else 0)
                live_rem[j] = rem - q
                remove = rem == q
            elif k == bX:
                q = min(1 + int(u[i, 4] * (rem - 1)), rem - 1)
                shares[i] = q
                live_rem[j] = rem - q
            elif k == bD:
                remove = True
            else:  # U: the original reference is retired, the new one opens with new shares/price
                ref2[i] = next_ref
                shares[i] = qty
                price[i] = base_price[live_stock[j]] + (int(u[i, 3] * 41) - 20) * 100
                live_ref[j] = next_ref
                live_rem[j] = qty
                live_price[j] = price[i]
                next_ref += np.uint64(1)
            if remove:
                nlive -= 1
                live_ref[j] = live_ref[nlive]
                live_rem[j] = live_rem[nlive]
                live_stock[j] = live_stock[nlive]
                live_side[j] = live_side[nlive]
                live_price[j] = live_price[nlive]
        elif k == bP or k == bQ:  # noqa: SIM109 (numba)
            stock[i] = s
            side[i] = sd
            shares[i] = qty
            price[i] = px
            next_match += np.uint64(1)
            match[i] = next_match
        elif k == bB:
            match[i] = 1 + min(int(u[i, 4] * next_match), next_match - 1)
        else:
            stock[i] = s
            price[i] = px
            shares[i] = qty
    return kind, stock, ref, ref2, side, shares, price, match


@numba.njit(cache=True)
def _scatter(types: np.ndarray, index: np.ndarray, type_pos: np.ndarray, wire: np.ndarray,
             wire_base: np.ndarray, lengths: np.ndarray, zero_prefix: bool) -> np.ndarray:  # fmt: skip
    """Lay out the messages in file order, each behind its 2-byte BE length prefix."""
    m = types.shape[0]
    total = 0
    for i in range(m):
        total += 2 + lengths[types[i]]
    out = np.empty(total, np.uint8)
    pos = 0
    for i in range(m):
        t = types[i]
        length = lengths[t]
        if zero_prefix:
            out[pos] = 0
            out[pos + 1] = 0
        else:
            out[pos] = length >> 8
            out[pos + 1] = length & 0xFF
        src = wire_base[type_pos[t]] + index[i] * length
        out[pos + 2 : pos + 2 + length] = wire[src : src + length]
        pos += 2 + length
    return out


@dataclass
class GeneratedItch:
    """What the generator made: per-type arrays (``spec.DTYPES``) and the file order."""

    arrays: dict[str, np.ndarray]
    types: np.ndarray  # uint8 type byte per message, file order
    index: np.ndarray  # int64 row in its type's array

    def __len__(self) -> int:
        return int(self.types.shape[0])

    def counts(self) -> dict[str, int]:
        return {c: int(a.shape[0]) for c, a in self.arrays.items() if a.shape[0]}


def _stock_bytes(stocks: Sequence[str]) -> np.ndarray:
    out = []
    for s in stocks:
        b = s.encode("ascii")
        if not 1 <= len(b) <= 8:
            raise ValueError(f"a stock symbol must have 1 to 8 ASCII characters: {s!r}")
        out.append(b.ljust(8))
    return np.array(out, dtype="S8")


def generate_messages(
    n_messages: int, seed: int, stocks: Sequence[str] = DEFAULT_STOCKS, *, weights: dict[str, float] | None = None
) -> GeneratedItch:
    """Generate ``n_messages`` consistent messages (see the module docstring) from ``seed``."""
    stocks = tuple(stocks)
    if not stocks:
        raise ValueError("at least one stock is needed")
    n_stocks = len(stocks)
    prologue = ["S"] + ["R"] * n_stocks + ["H"] * n_stocks + ["S", "S"]
    epilogue = ["S", "S", "S"]
    n_body = n_messages - len(prologue) - len(epilogue)
    if n_body < 0:
        raise ValueError(f"n_messages must be at least {len(prologue) + len(epilogue)} for {n_stocks} stocks")
    rng = np.random.default_rng(seed)
    w = dict(BODY_WEIGHTS)
    if weights:
        unknown = set(weights) - set(w)
        if unknown:
            raise ValueError(f"no weight can be given for {sorted(unknown)}")
        w.update(weights)
    kinds = np.frombuffer("".join(w).encode(), np.uint8)
    p = np.array(list(w.values()), dtype=np.float64)
    p /= p.sum()
    base_price = rng.integers(10, 500, n_stocks).astype(np.int64) * 10_000  # 10.00 .. 499.00 USD
    body_kind = kinds[rng.choice(len(kinds), size=n_body, p=p)]
    u = rng.random((n_body, 5))
    kind, stock, ref, ref2, side, shares, price, match = _simulate(body_kind, u, n_stocks, base_price)
    del u

    codes = np.concatenate(
        [np.frombuffer("".join(prologue).encode(), np.uint8), kind, np.frombuffer("".join(epilogue).encode(), np.uint8)]
    )
    n = codes.shape[0]
    pad = lambda a, fill=0: np.concatenate(  # noqa: E731
        [np.full(len(prologue), fill, a.dtype), a, np.full(len(epilogue), fill, a.dtype)]
    )
    stock_i = pad(stock)
    stock_i[1 : 1 + n_stocks] = np.arange(n_stocks)
    stock_i[1 + n_stocks : 1 + 2 * n_stocks] = np.arange(n_stocks)
    ref, ref2, side, shares, price, match = pad(ref), pad(ref2), pad(side), pad(shares), pad(price), pad(match)
    # timestamps: strictly increasing, prologue from 03:00, body over 04:00..20:00
    ts = np.empty(n, np.uint64)
    ts[: len(prologue)] = _START_NS + np.arange(len(prologue), dtype=np.uint64) * 1_000_000
    gap = max((_BODY_END_NS - _BODY_START_NS) // max(n_body, 1), 2)
    ts[len(prologue) : len(prologue) + n_body] = _BODY_START_NS + np.cumsum(
        rng.integers(1, 2 * gap, n_body, dtype=np.int64)
    ).astype(np.uint64)
    ts[len(prologue) + n_body :] = _BODY_END_NS + 1 + np.arange(len(epilogue), dtype=np.uint64) * 1_000_000
    tracking = rng.integers(0, 8, n, dtype=np.int64).astype(np.uint16)
    sym = _stock_bytes(stocks)
    event_code = np.zeros(n, "S1")
    event_code[[0, 1 + 2 * n_stocks, 2 + 2 * n_stocks]] = [b"O", b"S", b"Q"]
    event_code[-3:] = [b"M", b"E", b"C"]
    flag = rng.random(n)
    yn = np.where(flag < 0.5, b"Y", b"N").astype("S1")

    types = codes
    index = np.empty(n, np.int64)
    arrays: dict[str, np.ndarray] = {}
    for code in MESSAGE_TYPES:
        rows = np.flatnonzero(codes == ord(code))
        index[rows] = np.arange(rows.shape[0])
        a = np.zeros(rows.shape[0], DTYPES[code])
        arrays[code] = a
        if not rows.shape[0]:
            continue
        names = set(DTYPES[code].names or ())
        a["message_type"] = code.encode()
        a["stock_locate"] = 0 if code in "SVW" else stock_i[rows] + 1
        a["tracking_number"] = tracking[rows]
        a["timestamp"] = ts[rows]
        sy = sym[stock_i[rows]]
        if "stock" in names:
            a["stock"] = sy
        if code == "S":
            a["event_code"] = event_code[rows]
        elif code == "R":
            a["market_category"] = b"Q"
            a["financial_status_indicator"] = b"N"
            a["round_lot_size"] = 100
            a["round_lots_only"] = b"N"
            a["issue_classification"] = b"C"
            a["issue_sub_type"] = b"Z "
            a["authenticity"] = b"P"
            a["short_sale_threshold_indicator"] = b"N"
            a["ipo_flag"] = b"N"
            a["luld_reference_price_tier"] = b"1"
            a["etp_flag"] = b"N"
            a["etp_leverage_factor"] = 0
            a["inverse_indicator"] = b"N"
        elif code == "H":
            a["trading_state"] = b"T"
            a["reserved"] = b" "
            a["reason"] = b"    "
        elif code in "AF":
            a["order_reference_number"] = ref[rows]
            a["buy_sell_indicator"] = side[rows].view("S1")
            a["shares"] = shares[rows]
            a["price"] = price[rows]
            if code == "F":
                a["attribution"] = np.array([b"VIRT", b"GSCO", b"MSCO", b"JPMS"], "S4")[stock_i[rows] % 4]
        elif code in "EC":
            a["order_reference_number"] = ref[rows]
            a["executed_shares"] = shares[rows]
            a["match_number"] = match[rows]
            if code == "C":
                a["printable"] = yn[rows]
                a["execution_price"] = price[rows]
        elif code == "X":
            a["order_reference_number"] = ref[rows]
            a["cancelled_shares"] = shares[rows]
        elif code == "D":
            a["order_reference_number"] = ref[rows]
        elif code == "U":
            a["original_order_reference_number"] = ref[rows]
            a["new_order_reference_number"] = ref2[rows]
            a["shares"] = shares[rows]
            a["price"] = price[rows]
        elif code == "P":
            a["buy_sell_indicator"] = side[rows].view("S1")
            a["shares"] = shares[rows]
            a["price"] = price[rows]
            a["match_number"] = match[rows]
        elif code == "Q":
            a["shares"] = shares[rows]
            a["cross_price"] = price[rows]
            a["match_number"] = match[rows]
            a["cross_type"] = b"O"
        elif code == "B":
            a["match_number"] = match[rows]
        elif code == "I":
            a["paired_shares"] = shares[rows]
            a["imbalance_shares"] = shares[rows] // 2
            a["imbalance_direction"] = b"B"
            a["far_price"] = price[rows]
            a["near_price"] = price[rows]
            a["current_reference_price"] = price[rows]
            a["cross_type"] = b"C"
            a["price_variation_indicator"] = b"L"
        elif code == "N":
            a["interest_flag"] = b"B"
        elif code == "K":
            a["ipo_quotation_release_time"] = 34_200
            a["ipo_quotation_release_qualifier"] = b"A"
            a["ipo_price"] = price[rows]
        elif code == "J":
            a["auction_collar_reference_price"] = price[rows]
            a["upper_auction_collar_price"] = price[rows] + 10 * _TICK
            a["lower_auction_collar_price"] = price[rows] - 10 * _TICK
            a["auction_collar_extension"] = 1
        elif code == "h":
            a["market_code"] = b"Q"
            a["operational_halt_action"] = b"H"
        elif code == "Y":
            a["reg_sho_action"] = b"0"
        elif code == "L":
            a["mpid"] = b"VIRT"
            a["primary_market_maker"] = b"N"
            a["market_maker_mode"] = b"N"
            a["market_participant_state"] = b"A"
        elif code == "V":
            a["level_1"] = 300_000 * 10**8
            a["level_2"] = 280_000 * 10**8
            a["level_3"] = 250_000 * 10**8
        elif code == "W":
            a["breached_level"] = b"1"
    return GeneratedItch({c: a for c, a in arrays.items() if a.shape[0]}, types, index)


def to_wire(code: str, rows: np.ndarray) -> np.ndarray:
    """Rows of ``spec.DTYPES[code]`` as the big-endian wire dtype (6-byte timestamps)."""
    wire = np.empty(rows.shape[0], WIRE_DTYPES[code])
    for name in WIRE_DTYPES[code].names or ():
        if name == "timestamp":
            ts = rows["timestamp"].astype(np.uint64)
            shifts = np.array([40, 32, 24, 16, 8, 0], dtype=np.uint64)
            wire[name] = ((ts[:, None] >> shifts) & np.uint64(0xFF)).astype(np.uint8)
        else:
            wire[name] = rows[name]
    return wire


def encode(messages: GeneratedItch, *, zero_prefix: bool = False) -> bytes:
    """Serialize as BinaryFILE: each message behind its 2-byte BE length (0 when ``zero_prefix``)."""
    type_pos = np.zeros(256, np.int64)
    parts = []
    bases = []
    base = 0
    for j, code in enumerate(MESSAGE_TYPES):
        type_pos[ord(code)] = j
        rows = messages.arrays.get(code)
        bases.append(base)
        if rows is None or not rows.shape[0]:
            continue
        w = to_wire(code, rows).view(np.uint8)
        parts.append(w)
        base += w.shape[0]
    wire = np.concatenate(parts) if parts else np.empty(0, np.uint8)
    out = _scatter(messages.types, messages.index, type_pos, wire, np.array(bases, np.int64), LENGTH_TABLE,
                   zero_prefix)  # fmt: skip
    return out.tobytes()


def to_moldudp64(
    binaryfile: bytes, *, session: bytes = SESSION, first_sequence: int = 1, per_packet: int = 20,
    heartbeat_every: int = 0, end_of_session: bool = True,
) -> list[bytes]:  # fmt: skip
    """Split a length-prefixed BinaryFILE stream into MoldUDP64 packets of up to ``per_packet``
    messages (a message block is the same 2-byte length + message). Optionally a heartbeat after
    every ``heartbeat_every`` packets and an end-of-session packet last. Returns the packets."""
    from tradeforge.data.itch.framing import scan_binaryfile

    if len(session) != 10:
        raise ValueError("a MoldUDP64 session is exactly 10 bytes")
    buf = np.frombuffer(binaryfile, np.uint8)
    offsets, zero, _end, error, _detail = scan_binaryfile(buf, LENGTH_TABLE)
    if error or zero:
        raise ValueError("to_moldudp64 needs a valid BinaryFILE stream with real length prefixes")
    starts = offsets - 2  # each block starts at its length prefix
    bounds = np.append(starts[::per_packet], buf.shape[0]).tolist()
    packets = []
    seq = first_sequence
    for i in range(len(bounds) - 1):
        count = min(per_packet, offsets.shape[0] - i * per_packet)
        header = session + seq.to_bytes(8, "big") + count.to_bytes(2, "big")
        packets.append(header + binaryfile[bounds[i] : bounds[i + 1]])
        seq += count
        if heartbeat_every and (i + 1) % heartbeat_every == 0:
            packets.append(session + seq.to_bytes(8, "big") + b"\x00\x00")
    if end_of_session:
        packets.append(session + seq.to_bytes(8, "big") + b"\xff\xff")
    return packets


def generate(
    n_messages: int, seed: int, stocks: Sequence[str] = DEFAULT_STOCKS, *, framing: str = "binaryfile",
    per_packet: int = 20,
) -> bytes:  # fmt: skip
    """``n_messages`` valid messages from ``seed`` as one BinaryFILE stream (real length prefixes),
    or, with ``framing="moldudp64"``, as MoldUDP64 packets laid end to end."""
    data = encode(generate_messages(n_messages, seed, stocks))
    if framing == "binaryfile":
        return data
    if framing == "moldudp64":
        return b"".join(to_moldudp64(data, per_packet=per_packet))
    raise ValueError(f"framing must be 'binaryfile' or 'moldudp64', not {framing!r}")
