"""Reading the history without the backend: what ``ncm status`` needs, and nothing more.

Every deploy, container start and CI job asks "where is this database?", and a backend is
heavy to build for that: SQLAlchemy and Alembic alone take a SQL backend longer to import
than the rest of ncm takes to run. A backend may therefore register a history reader: a
small class that reads the history rows, the lock holder and the step a run noted, with the
bare driver. The reader is a shortcut, never a second source of truth: whenever it cannot
tell (a URL option it does not understand, a history table of an older ncm, a driver
error), it says so by returning None and the runner asks the backend, which then reports
any error as it always has.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ncm_core import plugins
from ncm_core.history import HistoryRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ncm_core.config import MigrationConfig

log = logging.getLogger("ncm")
FIELDS = frozenset(f.name for f in fields(HistoryRecord))


@dataclass
class HistorySnapshot:
    """The history and the lock, read in that order of trust: the holder first, so a run
    that finishes between the two reads is seen as done rather than as interrupted."""

    backend: str
    records: list[HistoryRecord]
    lock_holder: str | None
    noted_step: str | None


class HistoryReader(ABC):
    """Reads one backend's history with its driver alone (``ncm_register_history_readers``)."""

    PLUGIN_NAME: str = ""
    """The backend whose history this reads, as ``ncm status`` names it."""
    URL_SCHEMES: tuple[str, ...] = ()

    def __init__(self, config: MigrationConfig) -> None:
        self.config = config

    @abstractmethod
    async def read(self) -> HistorySnapshot | None:
        """The snapshot, or None to leave the question to the backend."""


async def read_light(config: MigrationConfig) -> HistorySnapshot | None:
    """The snapshot a registered reader gives for ``config``'s database, or None."""
    scheme = config.database_url.split("://", 1)[0].lower()
    for cls in plugins.collect("ncm_register_history_readers", scheme=scheme).values():
        if scheme in cls.URL_SCHEMES:
            try:
                return await cls(config).read()
            except Exception as exc:  # the backend reports it, as one line, when it meets it too
                log.debug("history reader %s gave up: %s: %s", cls.PLUGIN_NAME, type(exc).__name__, exc)
                return None
    return None


def records_of(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[HistoryRecord] | None:
    """The records of ``SELECT *`` on the history table; None unless its columns are exactly
    today's (an older ncm's table gains its new columns when the backend first reads it)."""
    if set(columns) != FIELDS:
        return None
    records = []
    for row in rows:
        data = dict(zip(columns, row, strict=True))
        moment = data["applied_at"]
        moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        data["applied_at"] = moment.replace(tzinfo=timezone.utc)
        records.append(HistoryRecord(**data))
    return records
