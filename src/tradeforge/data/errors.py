"""Bad input records: the error raised for them and the record kept when they are quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class BadRecordPolicy(Enum):
    """What a loader does with a bad record: raise at the first one, or drop and report them all."""

    RAISE = "raise"
    QUARANTINE = "quarantine"


def _where(source: str, record: int, unit: str) -> str:
    return f"{source} {unit} {record}"


class BadRecordError(ValueError):
    """A record of an input file is invalid.

    ``record`` is the 1-based line number for text files (the header is line 1) and the 0-based
    row index for parquet files (``unit`` says which: ``"line"`` or ``"row"``).
    """

    def __init__(self, source: str, record: int, field: str, reason: str, unit: str = "line") -> None:
        self.source = source
        self.record = record
        self.field = field
        self.reason = reason
        self.unit = unit
        super().__init__(f"{_where(source, record, unit)} field {field!r}: {reason}")


@dataclass(frozen=True)
class BadRecord:
    """A record dropped under :attr:`BadRecordPolicy.QUARANTINE`; the caller must report it."""

    source: str
    record: int
    field: str
    reason: str
    raw_text: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{_where(self.source, self.record, self.unit)} field {self.field!r}: {self.reason}"

    def to_error(self) -> BadRecordError:
        """The :class:`BadRecordError` this record raises under :attr:`BadRecordPolicy.RAISE`."""
        return BadRecordError(self.source, self.record, self.field, self.reason, self.unit)
