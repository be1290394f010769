"""``ncm lint --trace``: what the database was seen to do, statement by statement, when the
pending migrations ran inside a transaction that was then rolled back; and the findings that
follows from it, with the static rules' codes, marked observed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Lock:
    table: str
    mode: str
    blocks_writes: bool


@dataclass
class Traced:
    """One statement: the locks it took on tables that existed before (in the database's own
    names, such as PostgreSQL's ``ShareLock``), the tables it rewrote, how long it took.
    ``code`` is the lint code that names what it did, when it blocked writes or rewrote;
    ``note`` says why it was not traced, or how (``on an empty copy``)."""

    version: str
    statement: str
    line: int | None
    duration_ms: float | None = None
    locks: list[Lock] = field(default_factory=list)
    rewrote: list[str] = field(default_factory=list)
    code: str | None = None
    note: str | None = None

    @property
    def blocking(self) -> list[Lock]:
        return [lock for lock in self.locks if lock.blocks_writes]

    def observed(self) -> str | None:
        """What it did that matters (a lock that blocks writes, a rewrite), or None."""
        parts = [f"took {lock.mode} on {lock.table}, which blocks writes" for lock in self.blocking]
        parts += [f"rewrote {table}" for table in self.rewrote]
        if not parts:
            return None
        return f"observed: {' '.join(self.statement.split())[:80]} {', '.join(parts)} ({self.duration_ms:.1f} ms " \
               "here, longer on a table that holds more rows)"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
