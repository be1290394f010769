"""What the history table (or collection) holds, in a form every backend shares."""

from __future__ import annotations

import functools
import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, TypeVar

APPLIED = "applied"
FAILED = "failed"
BASELINE = "baseline"
RUNNING = "running"
"""Written before a step the database cannot roll back; ``applied`` replaces it in the write
that records the step. Found by a runner that holds the lock, it is an interrupted step."""
REVERTING = "reverting"
"""The same for a rollback's down step."""
UNFINISHED = (RUNNING, REVERTING)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@functools.cache
def actor() -> str:
    """Who is running ncm, as user@host; containers may have no passwd entry for the uid.
    Asked once per process: a passwd lookup per history row shows up in a 500-step run."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


@functools.cache
def this_runner() -> str:
    """What a ``running`` record says of the process running the step."""
    from importlib.metadata import version

    return f"pid {os.getpid()} on {socket.gethostname()}, ncm {version('ncm-core')}"


@dataclass
class HistoryRecord:
    version: str
    description: str
    type: str
    checksum: str
    status: str = APPLIED
    applied_at: datetime = field(default_factory=now)
    execution_ms: int = 0
    applied_by: str = field(default_factory=actor)
    error: str | None = None
    runner: str | None = None
    """Who ran (or is running) a step the database cannot roll back: pid, host, ncm version."""
    statements_done: int | None = None
    """The statement journal of such a step: how many of its statements have completed."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["applied_at"] = self.applied_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryRecord:
        """The record ``as_dict`` gave, for a backend that stores records as documents."""
        return cls(**{**data, "applied_at": datetime.fromisoformat(data["applied_at"])})


@dataclass
class AuditEntry:
    action: str
    version: str | None = None
    outcome: str = "ok"
    details: str | None = None
    at: datetime = field(default_factory=now)
    actor: str = field(default_factory=actor)


Record = TypeVar("Record", HistoryRecord, AuditEntry)


def from_fields(cls: type[Record], data: Mapping[str, Any]) -> Record:
    """A HistoryRecord or AuditEntry from a mapping that holds its fields (a row, a document),
    less what it does not have (a document's ``_id``, an audit row's ``id``)."""
    names = {f.name for f in fields(cls)}
    return cls(**{name: value for name, value in data.items() if name in names})
