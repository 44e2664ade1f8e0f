"""``itch_decode``: vectorized NASDAQ TotalView-ITCH 5.0 decoding (BinaryFILE framing).

Not timed: the seeded generator writes ``n`` valid messages (adds, executions, cancels, deletes,
replaces, trades, ... over 8 stocks; about 32 bytes a message) with real length prefixes. Timed
(best of ``repeats``): ``decode(buffer)`` -> one structured array per message type plus the file
order. Then, in the same process, a plain Python loop decodes the first ``PY_SUBSET`` messages with
``struct.unpack_from`` per message (the usual hand-written parser) and is reported as msgs/s; the
cross-check compares its per-type counts and the sums of shares and prices of the ``A`` messages
with the vectorized decode of the same messages.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import numpy as np

from benchmarks._common import peak_rss_mb, profiled, timed

NAME = "itch_decode"
DEFAULT_N = 5_000_000
PY_SUBSET = 500_000

# struct formats (after the 2-byte length prefix) of the types the generator writes most.
_HDR = ">cHH6s"
_FORMATS = {
    "A": _HDR + "QcI8sI", "F": _HDR + "QcI8sI4s", "E": _HDR + "QIQ", "C": _HDR + "QIQcI", "X": _HDR + "QI",
    "D": _HDR + "Q", "U": _HDR + "QQII", "P": _HDR + "QcI8sIQ", "Q": _HDR + "Q8sIQc", "B": _HDR + "Q",
    "S": _HDR + "c", "R": _HDR + "8sccIcc2scccccIc", "H": _HDR + "8scc4s", "Y": _HDR + "8sc",
    "L": _HDR + "4s8sccc", "V": _HDR + "QQQ", "W": _HDR + "c", "K": _HDR + "8sIcI", "J": _HDR + "8sIIII",
    "h": _HDR + "8scc", "I": _HDR + "QQc8sIIIcc", "N": _HDR + "8sc",
}  # fmt: skip


def python_loop(data: bytes, limit: int) -> tuple[int, dict[str, int], int, int]:
    """Decode up to ``limit`` messages one by one; returns ``(messages, counts, sum A shares, sum A price)``."""
    structs = {ord(c): (c, struct.Struct(f)) for c, f in _FORMATS.items()}
    pos = 0
    n = 0
    end = len(data)
    counts: dict[str, int] = {}
    a_shares = a_price = 0
    rows: list[tuple[Any, ...]] = []
    while pos < end and n < limit:
        length = int.from_bytes(data[pos : pos + 2], "big")
        code, st = structs[data[pos + 2]]
        fields = st.unpack_from(data, pos + 2)
        ts = int.from_bytes(fields[3], "big")
        rows.append((ts, *fields[4:]))
        counts[code] = counts.get(code, 0) + 1
        if code == "A":
            a_shares += fields[6]
            a_price += fields[8]
        pos += 2 + length
        n += 1
    return n, counts, a_shares, a_price


def run(n: int = DEFAULT_N, seed: int = 7, profile_top: int = 0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark and return its JSON record."""
    from tradeforge.data.itch import decode
    from tradeforge.data.itch.generator import generate

    t0 = time.perf_counter()
    data = generate(n, seed)
    decode(data[:0])  # numba kernels compiled (or loaded from cache) outside the timed region
    setup_s = time.perf_counter() - t0
    rss_before = peak_rss_mb()
    runs = []
    result = None
    for _ in range(repeats):
        result = None  # free the previous result first: peak RSS is one decode's
        if profile_top:
            result, seconds = profiled(lambda: decode(data, "binaryfile", NAME), profile_top)
        else:
            result, seconds = timed(lambda: decode(data, "binaryfile", NAME))
        runs.append(seconds)
    assert result is not None
    rss = peak_rss_mb()
    subset = min(n, PY_SUBSET)
    py_runs = []
    for _ in range(repeats):
        (py_n, py_counts, py_shares, py_price), py_s = timed(lambda: python_loop(data, subset))
        py_runs.append(py_s)
    # the vectorized decode of the same first `subset` messages
    sub_types = result.types[:subset]
    vec_counts = {chr(c): int(k) for c, k in zip(*np.unique(sub_types, return_counts=True), strict=True)}
    a_rows = result["A"][: int((sub_types == ord("A")).sum())]
    vec_shares, vec_price = int(a_rows["shares"].sum(dtype=np.uint64)), int(a_rows["price"].sum(dtype=np.uint64))
    ok = py_n == subset and py_counts == vec_counts and (py_shares, py_price) == (vec_shares, vec_price)
    seconds = min(runs)
    eps = n / seconds
    py_eps = py_n / min(py_runs)
    return {
        "name": NAME,
        "n_events": n,
        "seconds": round(seconds, 4),
        "events_per_s": round(eps, 1),
        "peak_rss_mb": rss,
        "input_mb": round(len(data) / 2**20, 1),
        "mb_per_s": round(len(data) / 2**20 / seconds, 1),
        "python_loop_messages": py_n,
        "python_loop_seconds": round(min(py_runs), 4),
        "python_loop_events_per_s": round(py_eps, 1),
        "ratio_to_python_loop": round(eps / py_eps, 2),
        "setup_seconds": round(setup_s, 4),
        "rss_after_setup_mb": rss_before,
        "counts": result.counts(),
        "decode_runs_seconds": [round(x, 4) for x in runs],
        "seed": seed,
        "repeats": repeats,
        "profiled": bool(profile_top),
        "cross_check": "ok" if ok else f"MISMATCH: python loop {py_counts} vs decode {vec_counts}",
    }
