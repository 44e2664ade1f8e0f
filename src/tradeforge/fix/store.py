"""Message stores: next sequence numbers and sent messages, so a session survives a restart and can resend.

:class:`MemoryStore` keeps everything in memory (tests, throwaway sessions). :class:`FileStore`
persists to a directory, one set of files per session id: ``<id>.seqnums`` (``sender : target``,
rewritten in place), ``<id>.body`` (sent messages, appended) with ``<id>.header`` (``seq,offset,size``
per line) and ``<id>.session`` (creation time, UTC ns, for daily resets).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol


class MessageStore(Protocol):
    creation_time_ns: int

    def next_sender_seq(self) -> int: ...

    def next_target_seq(self) -> int: ...

    def set_next_sender_seq(self, seq: int) -> None: ...

    def set_next_target_seq(self, seq: int) -> None: ...

    def save(self, seq: int, raw: bytes) -> None: ...

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]: ...

    def reset(self, now_ns: int) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """A store that forgets everything when the process ends."""

    def __init__(self, now_ns: int = 0) -> None:
        self.creation_time_ns = now_ns
        self._sender = 1
        self._target = 1
        self._messages: dict[int, bytes] = {}

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq

    def save(self, seq: int, raw: bytes) -> None:
        self._messages[seq] = raw

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with ``begin <= seq <= end`` in order."""
        return [(s, self._messages[s]) for s in range(begin, end + 1) if s in self._messages]

    def reset(self, now_ns: int) -> None:
        self._sender = self._target = 1
        self._messages.clear()
        self.creation_time_ns = now_ns

    def close(self) -> None:
        pass


def _safe(session_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", session_id)


class FileStore:
    """A store on disk (see the module docstring); ``fsync`` makes every write durable at a cost."""

    def __init__(self, directory: str | Path, session_id: str, now_ns: int = 0, fsync: bool = False) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        base = self.dir / _safe(session_id)
        self._seq_path = base.with_suffix(".seqnums")
        self._body_path = base.with_suffix(".body")
        self._header_path = base.with_suffix(".header")
        self._session_path = base.with_suffix(".session")
        self.fsync = fsync
        self._index: dict[int, tuple[int, int]] = {}
        self._sender = self._target = 1
        self.creation_time_ns = now_ns
        self._load(now_ns)
        self._body = open(self._body_path, "ab")  # noqa: SIM115 - held for the store's lifetime
        self._header = open(self._header_path, "a", encoding="ascii")  # noqa: SIM115
        self._seqf = open(self._seq_path, "r+" if self._seq_path.exists() else "w+", encoding="ascii")  # noqa: SIM115
        self._write_seqs()

    def _load(self, now_ns: int) -> None:
        if self._seq_path.exists():
            text = self._seq_path.read_text(encoding="ascii").strip()
            if text:
                s, _, t = text.partition(":")
                self._sender, self._target = int(s), int(t)
        if self._session_path.exists():
            self.creation_time_ns = int(self._session_path.read_text(encoding="ascii").strip() or now_ns)
        else:
            self._session_path.write_text(str(now_ns), encoding="ascii")
        if self._header_path.exists():
            for line in self._header_path.read_text(encoding="ascii").splitlines():
                parts = line.split(",")
                if len(parts) == 3:
                    self._index[int(parts[0])] = (int(parts[1]), int(parts[2]))

    def _write_seqs(self) -> None:
        f = self._seqf
        f.seek(0)
        f.write(f"{self._sender:010d} : {self._target:010d}")
        f.truncate()
        f.flush()
        if self.fsync:
            os.fsync(f.fileno())

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq
        self._write_seqs()

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq
        self._write_seqs()

    def save(self, seq: int, raw: bytes) -> None:
        offset = self._body.seek(0, os.SEEK_END)
        self._body.write(raw)
        self._body.flush()
        self._header.write(f"{seq},{offset},{len(raw)}\n")
        self._header.flush()
        if self.fsync:
            os.fsync(self._body.fileno())
            os.fsync(self._header.fileno())
        self._index[seq] = (offset, len(raw))

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        out = []
        with open(self._body_path, "rb") as f:
            for seq in range(begin, end + 1):
                loc = self._index.get(seq)
                if loc is not None:
                    f.seek(loc[0])
                    out.append((seq, f.read(loc[1])))
        return out

    def reset(self, now_ns: int) -> None:
        """Start a new FIX session: sequence numbers back to 1, sent messages dropped."""
        self._index.clear()
        self._body.truncate(0)
        self._header.truncate(0)
        self._body.seek(0)
        self._header.seek(0)
        self.creation_time_ns = now_ns
        self._session_path.write_text(str(now_ns), encoding="ascii")
        self._sender = self._target = 1
        self._write_seqs()

    def close(self) -> None:
        for f in (self._body, self._header, self._seqf):
            f.close()
