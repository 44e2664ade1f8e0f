"""``fix_codec``: FIX 4.4 ExecutionReports encoded and decoded by tradeforge.fix and by simplefix, same run.

Data: ``n`` fill ExecutionReports (distinct ClOrdID/ExecID/seq, prices and sizes from a seeded RNG),
made once (not timed). Timed, per message: encode (header + 17 body fields, BodyLength and CheckSum),
then decode (frame checks, CheckSum verified, fields split) and read ClOrdID, ExecID, ExecType,
OrdStatus, LastPx and LastQty; tradeforge converts the price and size to fixed-point ints. simplefix
does the same with ``FixMessage.append_pair``/``encode`` and ``FixParser``. ``events_per_s`` is
tradeforge's messages per second; ``ratio_to_simplefix`` is tradeforge's speed over simplefix's.
Cross-check: both decoders read the same values for every message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks._common import base_record, peak_rss_mb, profiled, timed

NAME = "fix_codec"
DEFAULT_N = 50_000


def messages(n: int, seed: int) -> list[list[tuple[int, bytes]]]:
    rng = np.random.default_rng(seed)
    px = (18_000 + rng.integers(0, 2_000, n)).tolist()
    qty = rng.integers(1, 1_000, n).tolist()
    out = []
    for i in range(n):
        p = b"%d.%02d" % divmod(px[i], 100)
        q = b"%d" % qty[i]
        out.append([(49, b"EXCHANGE"), (56, b"CLIENT"), (34, b"%d" % (i + 2)), (52, b"20261123-00:28:04.368"),
                    (6, p), (11, b"ORD%d" % i), (14, q), (17, b"E%d" % i), (31, p), (32, q), (37, b"O%d" % i),
                    (38, q), (39, b"2"), (40, b"2"), (54, b"1"), (55, b"AAPL"), (150, b"F"), (151, b"0")])
    return out


def run_ours(msgs: list[list[tuple[int, bytes]]]) -> list[tuple]:
    from tradeforge.fix.codec import decode, encode
    from tradeforge.fix.values import to_raw

    out = []
    for fields in msgs:
        m = decode(encode(b"8", fields))
        g = m.get
        out.append((g(11), g(17), g(150), g(39), to_raw(g(31), 2), to_raw(g(32), 0)))
    return out


def run_simplefix(msgs: list[list[tuple[int, bytes]]]) -> list[tuple]:
    import simplefix

    parser = simplefix.FixParser()
    out = []
    for fields in msgs:
        msg = simplefix.FixMessage()
        msg.append_pair(8, b"FIX.4.4", header=True)
        msg.append_pair(35, b"8", header=True)
        for tag, value in fields:
            msg.append_pair(tag, value)
        parser.append_buffer(msg.encode())
        m = parser.get_message()
        px, qty = m.get(31), m.get(32)
        out.append((m.get(11), m.get(17), m.get(150), m.get(39), px, qty))
    return out


def run(n: int, seed: int, profile_top: int, repeats: int) -> dict[str, Any]:
    msgs, setup_s = timed(lambda: messages(n, seed))
    ours_runs = []
    for _ in range(repeats):
        if profile_top and not ours_runs:
            ours, s = profiled(lambda: run_ours(msgs), profile_top)
        else:
            ours, s = timed(lambda: run_ours(msgs))
        ours_runs.append(s)
    rss = peak_rss_mb()
    sf_runs = []
    for _ in range(repeats):
        theirs, s = timed(lambda: run_simplefix(msgs))
        sf_runs.append(s)
    ok = all(a[:4] == b[:4] and b"%d" % (a[4] // 100) == b[4].split(b".")[0] and b"%d" % a[5] == b[5]
             for a, b in zip(ours, theirs, strict=True))
    rec = base_record(NAME, n, min(ours_runs), min(sf_runs), setup_s, rss)
    rec.update({
        "simplefix_seconds": round(min(sf_runs), 4),
        "simplefix_events_per_s": round(n / min(sf_runs), 1),
        "ratio_to_simplefix": round(min(sf_runs) / min(ours_runs), 2),
        "note": "bare_loop_* = simplefix (same work: encode, decode, read 6 fields)",
        "seed": seed, "repeats": repeats,
        "cross_check": "ok" if ok else "MISMATCH: decoded values differ",
    })
    return rec
