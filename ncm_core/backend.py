"""The backend interface: what a database plugin implements so every ncm command works on it.

ncm requires little of a backend: connect and close, keep the history, hold the lock, apply
one step and show a dry run. Everything else is an optional capability
(:mod:`ncm_core.capabilities`: backups, an audit log, models for autogenerate and drift,
Alembic adoption, lock introspection), offered by having its methods; a command that needs
one a backend lacks says so in one line. SQL backends get all of them from
``ncm_sql.SQLBackend``.

A complete backend, keeping its "database" in one JSON file; ``tests/core/test_minimal_backend.py``
runs this very text through the contract suite::

    import fcntl
    import json
    from contextlib import asynccontextmanager
    from pathlib import Path

    from ncm_core import hookimpl
    from ncm_core.backend import Backend
    from ncm_core.errors import DatabaseUnavailable, MigrationFailed
    from ncm_core.history import HistoryRecord
    from ncm_core.locking import wait_for
    from ncm_core.step import BaseStepContext


    class JsonContext(BaseStepContext):  # ctx.data (the class form's session) is the document

        def __init__(self, migration, config, data):
            super().__init__(migration, config, session=data)
            self.data = data


    class JsonFileBackend(Backend):
        PLUGIN_NAME = DATABASE_TYPE = "jsonfile"
        URL_SCHEMES = ("jsonfile",)

        async def connect(self):
            self.path = Path(self.config.database_url.split("://", 1)[1])
            if not self.path.parent.is_dir():
                raise DatabaseUnavailable(f"cannot connect to {self.path}: no such directory")
            if not self.path.exists():
                self.save({"data": {}, "history": {}})

        async def close(self):
            pass

        def load(self):
            return json.loads(self.path.read_text())

        def save(self, document):
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(document))
            tmp.replace(self.path)  # atomic: a step and its history change land together

        async def read_history(self):
            return [HistoryRecord.from_dict(r) for r in self.load()["history"].values()]

        async def write_history(self, record):
            document = self.load()
            document["history"][record.version] = record.as_dict()
            self.save(document)

        async def delete_history(self, version):
            document = self.load()
            document["history"].pop(version, None)
            self.save(document)

        @asynccontextmanager
        async def lock(self):
            with open(f"{self.path}.lock", "w") as file:
                async def take():
                    try:
                        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        return True
                    except BlockingIOError:
                        return False

                await wait_for(take, self.config.lock_timeout, str(self.path))
                yield

        async def step(self, migration, direction, document):
            ctx = JsonContext(migration, self.config, document["data"])
            try:
                await migration.run(direction, ctx)
                valid = direction == "down" or await migration.check(ctx)
            except Exception as exc:
                raise MigrationFailed(migration.version, f"{type(exc).__name__}: {exc}") from exc
            if not valid:
                raise MigrationFailed(migration.version, "its validate() returned False")

        async def apply(self, migration, direction, record):
            document = self.load()
            await self.step(migration, direction, document)
            if direction == "up":
                document["history"][record.version] = record.as_dict()
            else:
                del document["history"][record.version]
            self.save(document)

        async def dry_run(self, migration, direction):
            document = self.load()
            before = dict(document["data"])
            await self.step(migration, direction, document)
            added = [f"set {key}" for key in document["data"] if key not in before]
            return added + [f"remove {key}" for key in before if key not in document["data"]]


    @hookimpl
    def ncm_register_backends(scheme):
        return [JsonFileBackend]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ncm_core.backfill import BackfillOptions

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.history import HistoryRecord
    from ncm_core.migration import Migration


class Backend(ABC):
    """What every backend must do. The optional capabilities live in ncm_core.capabilities."""

    PLUGIN_NAME: ClassVar[str]
    DATABASE_TYPE: ClassVar[str]
    URL_SCHEMES: ClassVar[tuple[str, ...]]
    TEMPLATE_FAMILY: ClassVar[str] = "sql"
    """Which of a migration type's ``templates`` ``ncm create`` uses for this backend."""
    TEMPLATES: ClassVar[str | None] = None
    """The package holding this backend's ``<type>.py.tmpl`` files (e.g. ``ncm_sql.templates``),
    used for a type that has no template of its own for ``TEMPLATE_FAMILY``; its
    ``example.py.tmpl`` is the example migration ``ncm init`` writes."""
    STARTER_URL: ClassVar[str | None] = None
    """The ``database_url`` the ``ncm.toml`` of ``ncm init`` starts with (no password)."""
    ASYNC_ONLY: ClassVar[str | None] = None
    """Why steps must be ``async def`` here (e.g. "MongoDB migrations await PyMongo's async
    API"), for a backend whose driver can only be awaited; None when a plain ``def`` runs."""

    def __init__(self, config: MigrationConfig) -> None:
        self.config = config
        self.backfill_options = BackfillOptions()
        """What the command asks of ``ctx.backfill`` (batch size, pauses, a stop): set by the runner."""

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

    async def server_info(self) -> dict[str, str]:
        """What ``ncm check`` reports: at least ``server_version`` and ``database``."""
        return {"backend": self.PLUGIN_NAME, "server_version": "", "database": self.config.safe_url}

    # -- the history -----------------------------------------------------------------
    @abstractmethod
    async def read_history(self) -> list[HistoryRecord]:
        """Every history record; an empty list when the history table does not exist yet."""

    @abstractmethod
    async def write_history(self, record: HistoryRecord) -> None:
        """Insert or replace one history record (repair, baseline)."""

    @abstractmethod
    async def delete_history(self, version: str) -> None:
        """Remove one history record (repair of a failed record)."""

    async def record_failure(self, record: HistoryRecord) -> None:
        """Write (or replace) a history record with status ``failed``; by default as any other."""
        await self.write_history(record)

    # -- the lock --------------------------------------------------------------------
    @abstractmethod
    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the migration lock for a whole run, waiting at most ``config.lock_timeout``.

        Raise LockTimeout (naming the holder where the database can tell) past the timeout;
        ``ncm_core.locking.wait_for`` does the waiting for a lock that can be tried.
        """

    # -- running ---------------------------------------------------------------------
    @abstractmethod
    async def apply(self, migration: Migration, direction: str, record: HistoryRecord) -> None:
        """Run one step and write ``record`` (up) or delete it (down), atomically where possible.

        ``migration.run(direction, ctx)`` runs the step, whatever form it was written in, with
        a :class:`ncm_core.step.StepContext` of this backend's (``migration.forms(direction)``
        says which forms, for a backend that runs some of them its own way). Run
        ``migration.check(ctx)`` after an up step; False fails the step. On failure, undo
        what the database allows and raise MigrationFailed (with the statement that failed
        where known); the runner then calls ``record_failure``.
        """

    @abstractmethod
    async def dry_run(self, migration: Migration, direction: str) -> list[str]:
        """What the step would send to the database, captured without executing it."""

    def is_atomic(self, migration: Migration) -> bool:
        """Whether a failure of this migration leaves no partial change behind."""
        return True

    def run_scope(self) -> AbstractAsyncContextManager[None]:
        """Wrap a whole run, under the lock; SQL backends open one transaction here."""
        return _nothing()

    def dry_run_scope(self) -> AbstractAsyncContextManager[None]:
        """Wraps the dry runs of one plan; a backend may rehearse the plan in a transaction
        it always rolls back (SQLite does), so later steps see what earlier ones would do."""
        return _nothing()


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
