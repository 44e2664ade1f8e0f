"""The append-only audit trail: every decision, state change, breach and action, with engine time.

Records are held as tuples on the hot path and encoded as msgspec JSON lines when flushed, to a file
opened in append mode (or kept in memory when there is none). :func:`read_audit` reads a file back
and :func:`replay` rebuilds trading states and decision counts from the records alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import msgspec

from tradeforge.model.enums import TradingState
from tradeforge.risk.trading_state import TradingStates

ACCEPTED = "accepted"
DENIED = "denied"


class AuditRecord(msgspec.Struct, frozen=True, omit_defaults=True):
    """One audit line. ``kind``: ``accepted``/``denied`` (a pre-trade decision on ``order``), ``state``
    (``detail`` is the new state), ``breach``, ``cleared``, ``action``, ``kill``, ``unwind``."""

    seq: int
    ts: int
    kind: str
    order: str = ""
    check: str = ""
    scope: str = ""
    key: str = ""
    detail: str = ""
    who: str = ""
    why: str = ""




class AuditLog:
    """Append-only; ``path`` (appended to) or in memory. ``flush_every`` bounds the buffer."""

    def __init__(self, path: str | Path | None = None, flush_every: int = 4096) -> None:
        self.path = Path(path) if path is not None else None
        self._file: IO[bytes] | None = None
        self.flush_every = flush_every
        #: records not flushed yet, without their sequence number: a tuple per record, except accepted
        #: decisions, which are two items (ts, order id): no container allocated per decision, so the
        #: hot path gives the garbage collector nothing to scan
        self._rows: list[tuple | int | str] = []
        self._flush_items = 2 * flush_every
        self._kept: list[AuditRecord] = []
        self._seq = 0
        self._enc = msgspec.json.Encoder(enc_hook=str)  # ids are str subclasses

    def decision(self, ts: int, order_id: str, check: str, reason: str) -> None:
        """A pre-trade decision (``check`` empty: accepted)."""
        if not check:
            self.accepted(ts, order_id)
            return
        self._rows.append((ts, DENIED, order_id, check, "", "", reason))
        if len(self._rows) >= self._flush_items:
            self.flush()

    def accepted(self, ts: int, order_id: str) -> None:
        """An accepted decision. Hot path: two list items (numbered and encoded when flushed)."""
        rows = self._rows
        rows.append(ts)
        rows.append(order_id)
        if len(rows) >= self._flush_items:
            self.flush()

    def record(
        self, ts: int, kind: str, scope: str = "", key: str = "", detail: str = "", who: str = "", why: str = "",
        order: str = "",
    ) -> None:
        """A state change, breach, action or kill (flushed at once to a file: these must not be lost)."""
        self._rows.append((ts, kind, order, "", scope, key, detail, who, why))
        self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        seq = self._seq
        recs = []
        add = recs.append
        i, n = 0, len(rows)
        while i < n:
            r = rows[i]
            seq += 1
            if type(r) is tuple:
                add(AuditRecord(seq, *r))
                i += 1
            else:  # an accepted decision: ts, order id
                add(AuditRecord(seq, r, ACCEPTED, rows[i + 1]))  # type: ignore[arg-type]
                i += 2
        self._seq = seq
        if self.path is None:
            self._kept.extend(recs)
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - held open for the engine's life
        if recs:
            self._file.write(self._enc.encode_lines(recs))
            self._file.flush()

    def records(self) -> list[AuditRecord]:
        """Everything logged so far, in order."""
        self.flush()
        return list(self._kept) if self.path is None else read_audit(self.path)

    def write(self, path: str | Path) -> None:
        """Write every record to ``path`` as JSON lines (for in-memory logs)."""
        Path(path).write_bytes(self._enc.encode_lines(self.records()))

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __len__(self) -> int:
        records = sum(1 for r in self._rows if type(r) is tuple)
        return self._seq + records + (len(self._rows) - records) // 2  # an accepted decision is two items


def read_audit(path: str | Path) -> list[AuditRecord]:
    dec = msgspec.json.Decoder(AuditRecord)
    with open(path, "rb") as f:
        return [dec.decode(line) for line in f if line.strip()]


@dataclass
class Replay:
    """What the records say: final trading states, decisions by check, breaches and actions."""

    states: TradingStates = field(default_factory=TradingStates)
    accepted: int = 0
    denied: Counter[str] = field(default_factory=Counter)
    breaches: list[AuditRecord] = field(default_factory=list)
    actions: list[AuditRecord] = field(default_factory=list)


def replay(records: Iterable[AuditRecord]) -> Replay:
    """Rebuild the trading states and decision counts from audit records, in order."""
    out = Replay()
    last_seq = 0
    for r in records:
        if r.seq <= last_seq:
            raise ValueError(f"audit record {r.seq} out of order after {last_seq}")
        last_seq = r.seq
        if r.kind == ACCEPTED:
            out.accepted += 1
        elif r.kind == DENIED:
            out.denied[r.check] += 1
        elif r.kind == "state":
            out.states.set(r.scope, r.key, TradingState(r.detail))
        elif r.kind == "breach":
            out.breaches.append(r)
        elif r.kind in ("action", "kill", "unwind"):
            out.actions.append(r)
    return out
