"""Rows of an input file and their per-row verdicts: reading files (text or Parquet) while keeping
exact record numbers, and turning verdicts into errors or quarantined records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradeforge.data.errors import BadRecord, BadRecordError, BadRecordPolicy

PathLike = str | Path
Reason = str | Callable[[int], str]

_ROW = "<row>"  # field name of whole-row problems (bad encoding, wrong number of fields)



# --------------------------------------------------------------------------------------------
# Row verdicts and the rows themselves
# --------------------------------------------------------------------------------------------


class Checks:
    """Per-row verdicts; the first failing check of a row wins, so checks run in field order."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int32)
        self.reasons: list[tuple[str, Reason]] = []

    @property
    def ok(self) -> np.ndarray:
        return self.code < 0

    def flag(self, mask: np.ndarray, field: str, reason: Reason) -> None:
        """Mark rows in ``mask`` that have no verdict yet as bad for ``field``."""
        mask = np.asarray(mask, dtype=bool) & (self.code < 0)
        if mask.any():
            self.code[mask] = len(self.reasons)
            self.reasons.append((field, reason))


@dataclass
class Rows:
    """Rows of one input file: typed or string columns, record numbers and raw text on demand."""

    source: str
    unit: str  # "line" (text files) or "row" (parquet)
    records: np.ndarray
    columns: dict[str, pa.Array]
    header: list[str]
    raw_text: Callable[[int], str]
    checks: Checks

    def __len__(self) -> int:
        return len(self.records)

    def column(self, name: str) -> pa.Array:
        """The column ``name``; a missing column is a bad header (line 1 / row 0)."""
        if name not in self.columns:
            raise BadRecordError(
                self.source, 1 if self.unit == "line" else 0, name,
                f"no such column (the file has {self.header})", self.unit,
            )
        return self.columns[name]

    def has(self, name: str) -> bool:
        return name in self.columns

    def first_bad(self, field: str, reason: str, mask: np.ndarray) -> BadRecordError:
        i = int(np.flatnonzero(mask)[0])
        return BadRecordError(self.source, int(self.records[i]), field, reason, self.unit)


def finish(rows: Rows, policy: BadRecordPolicy) -> list[BadRecord]:
    """Raise for the first bad row (RAISE) or describe every bad row (QUARANTINE)."""
    bad = np.flatnonzero(rows.checks.code >= 0)
    records: list[BadRecord] = []
    for i in bad.tolist():
        field, reason = rows.checks.reasons[rows.checks.code[i]]
        text = reason(i) if callable(reason) else reason
        record = BadRecord(rows.source, int(rows.records[i]), field, text, rows.raw_text(i), rows.unit)
        if policy is BadRecordPolicy.RAISE:
            raise record.to_error()
        records.append(record)
    return records


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _read_bytes(path: PathLike) -> bytes:
    """The file's bytes, decompressed when the extension says so (``.gz``, ``.bz2``, ...)."""
    with pa.input_stream(str(path), compression="detect") as stream:
        return stream.read()


def _parse_header(line: bytes, source: str) -> list[str]:
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRecordError(source, 1, "<header>", "header is not valid UTF-8 text") from None
    return [name.strip().strip('"').strip() for name in text.split(",")]


def _decode_lines(lines: list[bytes]) -> tuple[pa.Array, np.ndarray]:
    """Lines as a string array plus a mask of lines that are not UTF-8 (replaced by U+FFFD)."""
    binary = pa.array(lines, pa.binary())
    try:
        return binary.cast(pa.string()), np.zeros(len(lines), dtype=bool)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    texts, invalid = [], np.zeros(len(lines), dtype=bool)
    for i, line in enumerate(lines):  # error path only: find the undecodable lines
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append("\ufffd")
            invalid[i] = True
    return pa.array(texts, pa.string()), invalid


def _clean_text(arr: pa.Array) -> pa.Array:
    """Trim whitespace and one layer of surrounding double quotes."""
    return pc.utf8_trim_whitespace(pc.utf8_trim(pc.utf8_trim_whitespace(arr), '"'))


def read_csv(path: PathLike, wanted: Sequence[str]) -> Rows:
    """Split a comma-separated file into string columns, one row per non-blank line.

    Quoting is not interpreted beyond stripping quotes around a field, so a physical line is
    always one record and line numbers stay exact. Rows with the wrong number of fields or bytes
    that are not UTF-8 are flagged (field ``<row>``).
    """
    source = str(path)
    lines = _read_bytes(path).splitlines()
    if not lines:
        raise BadRecordError(source, 1, "<header>", "empty file (no header line)")
    header = _parse_header(lines[0], source)
    body = lines[1:]
    text, invalid = _decode_lines(body)
    keep = np.flatnonzero(~(pc.match_substring_regex(text, r"^[ \t]*$").to_numpy(zero_copy_only=False) & ~invalid))
    text, invalid = text.take(pa.array(keep)), invalid[keep]
    n, ncols = len(keep), len(header)
    checks = Checks(n)
    checks.flag(invalid, _ROW, "not valid UTF-8 text")
    nfields = pc.count_substring(text, ",").to_numpy(zero_copy_only=False) + 1
    wrong = nfields != ncols
    checks.flag(wrong, _ROW, lambda i: f"expected {ncols} fields, found {nfields[i]}")
    text = pc.if_else(pa.array(~wrong), text, pa.scalar("," * (ncols - 1)))
    flat = pc.list_flatten(pc.split_pattern(text, ","))
    columns = {}
    for name in wanted:
        if name in header and name not in columns:
            j = header.index(name)
            columns[name] = _clean_text(flat.take(pa.array(np.arange(j, n * ncols, ncols, dtype=np.int64))))

    def raw_text(i: int) -> str:
        return body[keep[i]].decode("utf-8", "replace")

    return Rows(source, "line", keep + 2, columns, header, raw_text, checks)


def read_parquet(path: PathLike, wanted: Sequence[str]) -> Rows:
    """Read the wanted (present) columns of a parquet file; records are 0-based row indices."""
    source = str(path)
    names = pq.read_schema(path).names
    table = pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in names])
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}

    def raw_text(i: int) -> str:
        return str(table.slice(i, 1).to_pylist()[0])

    n = table.num_rows
    return Rows(source, "row", np.arange(n, dtype=np.int64), columns, names, raw_text, Checks(n))


