"""The backend interface: what a database plugin implements so every ncm command works on it.

A minimal backend (SQL backends inherit almost all of this from ``ncm_sql.SQLBackend``)::

    from ncm_core import hookimpl
    from ncm_sql import SQLBackend

    class DuckBackend(SQLBackend):
        PLUGIN_NAME = "duckdb"
        DATABASE_TYPE = "duckdb"
        URL_SCHEMES = ("duckdb",)

    @hookimpl
    def ncm_register_backends(scheme):
        return [DuckBackend]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from ncm_core.errors import UsageError

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.history import AuditEntry, HistoryRecord
    from ncm_core.migration import Migration


class Backend(ABC):
    PLUGIN_NAME: ClassVar[str]
    DATABASE_TYPE: ClassVar[str]
    URL_SCHEMES: ClassVar[tuple[str, ...]]
    TEMPLATE_FAMILY: ClassVar[str] = "sql"
    """Which of a migration type's ``templates`` ``ncm create`` uses for this backend."""
    TEMPLATES: ClassVar[str | None] = None
    """The package holding this backend's ``<type>.py.tmpl`` files (e.g. ``ncm_sql.templates``),
    used for a type that has no template of its own for ``TEMPLATE_FAMILY``."""

    def __init__(self, config: MigrationConfig) -> None:
        self.config = config

    @classmethod
    def claims(cls, url: str) -> bool:
        scheme = url.split("://", 1)[0].lower()
        return scheme in cls.URL_SCHEMES

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection; raise DatabaseUnavailable with one clear, password-free line."""

    @abstractmethod
    async def close(self) -> None:
        """Release every connection; safe to call twice."""

    @abstractmethod
    async def server_info(self) -> dict[str, str]:
        """What ``ncm check`` reports: at least ``server_version`` and ``database``."""

    @abstractmethod
    async def read_history(self) -> list[HistoryRecord]:
        """Every history record; an empty list when the history table does not exist yet."""

    @abstractmethod
    async def read_audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first; empty when there is none."""

    @abstractmethod
    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the migration lock for a whole run, waiting at most ``config.lock_timeout``.

        Raise LockTimeout (naming the holder where the database can tell) past the timeout.
        """

    async def lock_holder(self) -> str | None:
        """Who holds the migration lock now (for ``ncm status``), or None if it is free or unknown."""
        return None

    def run_scope(self) -> AbstractAsyncContextManager[None]:
        """Wrap a whole run, under the lock; SQL backends open one transaction here."""
        return _nothing()

    @abstractmethod
    async def apply(self, migration: Migration, direction: str, record: HistoryRecord) -> None:
        """Run one step and write ``record`` (up) or delete it (down), atomically where possible.

        Run ``migration.check(ctx)`` after an up step; False fails the step. On failure,
        undo what the database allows and raise MigrationFailed (with the statement that
        failed where known); the runner then calls ``record_failure``.
        """

    def is_atomic(self, migration: Migration) -> bool:
        """Whether a failure of this migration leaves no partial change behind."""
        return True

    @abstractmethod
    async def record_failure(self, record: HistoryRecord) -> None:
        """Write (or replace) a history record with status ``failed``."""

    @abstractmethod
    async def write_history(self, record: HistoryRecord) -> None:
        """Insert or replace one history record (repair, baseline)."""

    @abstractmethod
    async def delete_history(self, version: str) -> None:
        """Remove one history record (repair of a failed record)."""

    @abstractmethod
    async def write_audit(self, entry: AuditEntry) -> None:
        """Append one audit entry."""

    @abstractmethod
    async def dry_run(self, migration: Migration, direction: str) -> list[str]:
        """What the step would send to the database, captured without executing it."""

    def dry_run_scope(self) -> AbstractAsyncContextManager[None]:
        """Wraps the dry runs of one plan; a backend may rehearse the plan in a transaction
        it always rolls back (SQLite does), so later steps see what earlier ones would do."""
        return _nothing()

    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """Write a consistent backup of the whole database, history included, to ``out``.

        ``out`` is a write-only stream (it may encrypt and hashes what it gets): write in
        chunks, never the whole dump at once, and do not close it. Blocking work belongs in
        a thread (``asyncio.to_thread``). Return details for the manifest, e.g. the format.
        """
        raise NotImplementedError(f"the {self.PLUGIN_NAME} backend cannot back up yet")

    async def restore(self, source: BinaryIO) -> None:
        """Replace the database's contents, history included, with a backup made by ``dump``.

        Called under the migration lock, after the whole archive was verified; ``source``
        is a read-only stream of the plaintext ``dump`` wrote. Read it in chunks.
        """
        raise NotImplementedError(f"the {self.PLUGIN_NAME} backend cannot restore yet")

    # -- models and Alembic (optional: SQL backends implement these) ------------------
    async def autogenerate(self, metadata_ref: str) -> GeneratedSteps | None:
        """The operations that bring the live schema to the models ``metadata_ref`` names
        (``module:attribute``), rendered as Python; None when they already agree."""
        raise UsageError(f"autogenerate is not supported by the {self.PLUGIN_NAME} backend")

    async def drift(self, metadata_ref: str) -> list[str]:
        """One line per difference between the live schema and the models; empty when they agree."""
        raise UsageError(f"drift checks are not supported by the {self.PLUGIN_NAME} backend")

    async def alembic_heads(self) -> list[str]:
        """The revisions Alembic's ``alembic_version`` table records (one per head).

        Raise UsageError when the database has no such table, or it is empty."""
        raise UsageError(f"adopting an Alembic database is not supported by the {self.PLUGIN_NAME} backend")


@dataclass(frozen=True)
class GeneratedSteps:
    """Autogenerated ``upgrade()``/``downgrade()`` bodies (indented, ready to paste) and the
    import lines they need beyond ``sqlalchemy as sa`` and ``op``."""

    upgrade: str
    downgrade: str
    imports: tuple[str, ...] = ()


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
