"""What only some backends can do, each a protocol the runner checks for before using it.

A backend offers a capability by having its methods (no registration, no base class):
``isinstance(backend, SupportsBackup)``. Asked of a backend without it, ncm says so in one
line (:func:`require`) instead of failing inside the backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar, runtime_checkable

from ncm_core.errors import UsageError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from ncm_core.adoption import FlywayHistory
    from ncm_core.backfill import Checkpoint
    from ncm_core.backend import Backend, GeneratedSteps
    from ncm_core.history import AuditEntry, HistoryRecord
    from ncm_core.lint.operations import Operation
    from ncm_core.lint.trace import Traced
    from ncm_core.migration import Migration


@runtime_checkable
class SupportsBackup(Protocol):
    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """Write a consistent backup of the whole database, history included, to ``out``.

        ``out`` is a write-only stream (it may encrypt and hashes what it gets): write in
        chunks, never the whole dump at once, and do not close it. When ``out.fileno()``
        answers (a plain backup into the local store), a dump tool may write into that
        descriptor directly, seeking in it if it likes; ncm hashes the file afterwards.
        Blocking work belongs in a thread (``asyncio.to_thread``). Return details for the
        manifest, e.g. the format.
        """

    async def restore(self, source: BinaryIO) -> None:
        """Replace the database's contents, history included, with a backup made by ``dump``.

        Called under the migration lock, after the whole archive was verified; ``source``
        is a read-only stream of the plaintext ``dump`` wrote. Read it in chunks.
        """


@runtime_checkable
class SupportsAudit(Protocol):
    """An audit log beside the history (``audit_enabled``)."""

    async def read_audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first; empty when there is none."""

    async def write_audit(self, entry: AuditEntry) -> None:
        """Append one audit entry."""


@runtime_checkable
class SupportsModels(Protocol):
    """Comparing the live schema with models: ``ncm create --autogenerate``, drift checks."""

    def models_reference(self) -> str | None:
        """The models (``module:attribute``) to compare with when no ``--metadata`` is given:
        a setting of the backend's own section (SQL: ``[sql] target_metadata``), or None."""

    async def autogenerate(self, metadata_ref: str) -> GeneratedSteps | None:
        """The operations that bring the live schema to the models ``metadata_ref`` names
        (``module:attribute``), rendered as Python; None when they already agree."""

    async def drift(self, metadata_ref: str) -> list[str]:
        """One line per difference between the live schema and the models; empty when they agree."""


@runtime_checkable
class SupportsAlembicAdoption(Protocol):
    async def alembic_heads(self) -> list[str]:
        """The revisions Alembic's ``alembic_version`` table records (one per head).

        Raise UsageError when the database has no such table, or it is empty."""


@runtime_checkable
class SupportsFlywayAdoption(Protocol):
    async def flyway_history(self) -> FlywayHistory:
        """What Flyway's ``flyway_schema_history`` table says is applied (its successful rows).

        Raise UsageError when the database has no such table, or it records nothing applied."""


@runtime_checkable
class SupportsGolangMigrateAdoption(Protocol):
    async def golang_migrate_version(self) -> int:
        """The version in golang-migrate's ``schema_migrations`` table.

        Raise UsageError when there is no such table, it is empty, or it is dirty (a migration
        failed part-way and golang-migrate does not know what it left)."""


@runtime_checkable
class SupportsOfflineSQL(Protocol):
    """``ncm run --sql`` / ``ncm rollback --sql``: a plan written as one script to review and
    apply with the database's own client, without ncm."""

    async def script(self, steps: list[tuple[Migration, HistoryRecord]], direction: str,
                     create_tables: bool) -> str:
        """The whole script: ncm's tables first when ``create_tables``, then each migration's
        statements and its history change (``steps``' records: inserted going up, deleted going
        down), as a run would make them. A step that cannot be written as SQL is a UsageError
        naming its file. Needs no connection."""

    async def has_history_tables(self) -> bool:
        """Whether ncm's tables exist in the connected database."""


@runtime_checkable
class SupportsLockHolder(Protocol):
    async def lock_holder(self) -> str | None:
        """Who holds the migration lock now (for ``ncm status``), or None if it is free."""


@runtime_checkable
class SupportsStepNote(Protocol):
    """A lock that says which step its holder is on, for a backend whose steps stay invisible
    to other connections until the run commits (SQLite runs them in one transaction): without
    it, ``ncm status`` during such a run would show the step under way as pending."""

    async def note_step(self, version: str, direction: str) -> None:
        """Say, while holding the lock, that the step of ``version`` (``"up"`` or ``"down"``) starts."""

    async def noted_step(self) -> str | None:
        """The version whose step the lock's holder said it started, while the lock is held."""


@runtime_checkable
class SupportsQuery(Protocol):
    async def query_column(self, sql: str) -> list[str]:
        """The first column of a read-only query's rows, as text: the tenants a control
        database lists, for a ``[targets]`` template's ``tenants_query``."""


@runtime_checkable
class SupportsUnlock(Protocol):
    async def break_lock(self) -> str | None:
        """Free the migration lock whoever holds it (ending the holder's session, where the
        lock belongs to one); return who held it, or None if it was free. ``ncm unlock``
        calls it only once the user has confirmed that the holder is dead or stuck."""


@runtime_checkable
class SupportsResume(Protocol):
    def resumable(self, migration: Migration) -> bool:
        """Whether an interrupted up step of ``migration`` can run again from the first statement
        its journal (``HistoryRecord.statements_done``) does not record as done: the backend
        keeps the journal for such a step, and its statements are the same each time it runs
        (a plain Alembic ``op`` migration). ``apply`` then skips that many statements."""


@runtime_checkable
class SupportsBackfill(Protocol):
    """``ctx.backfill`` (ncm_core.backfill): batches committed one by one with a checkpoint,
    which an interrupted migration resumes from and ``ncm status`` reports."""

    async def read_backfills(self) -> list[Checkpoint]:
        """Every backfill's checkpoint; empty when there is none (or no place for them yet)."""

    async def clear_backfills(self, version: str) -> None:
        """Forget ``version``'s checkpoints: before it is applied afresh or rolled back (a run
        that resumes an interrupted backfill keeps them). Called inside ``run_scope``."""

    def backfill_claim(self, version: str, timeout: float) -> AbstractAsyncContextManager[None]:
        """Hold ``version``'s backfill claim for the block, waiting up to ``timeout`` seconds
        for it (LockTimeout naming the holder past that): a lock apart from the migration lock,
        that the database or the OS frees when its holder dies (or a lease that expires)."""

    async def backfill_claimant(self, version: str) -> str | None:
        """Who holds ``version``'s backfill claim (pid and host where known), None when nobody does."""


@runtime_checkable
class SupportsLint(Protocol):
    """``ncm lint``: a migration's operations, read by running its up step against stand-ins
    (Alembic's offline ``op``, a recording MongoDB context), so linting never changes data."""

    async def lint_capture(self, migration: Migration) -> list[Operation]:
        """The up step's operations in order, each with the line of its call in the file. What
        cannot be read (unparseable SQL, a step that needs rows) is a ``not_analysed``
        operation saying why. Needs no connection."""

    async def live_schema(self) -> dict[str, dict[str, str]]:
        """The tables (collections) in the connected database now, ncm's own left out, each
        with its columns' SQL types (empty for MongoDB): what makes a table "existing", and
        a column's type when a migration does not give it (``existing_type``)."""


@runtime_checkable
class SupportsLintTrace(Protocol):
    """``ncm lint --trace``: the pending migrations run against the real database inside a
    transaction that is always rolled back, and what each statement did is observed."""

    async def trace(self, migrations: list[Migration]) -> list[Traced]:
        """Run ``migrations``' up steps in order, in one transaction rolled back at the end, and
        return per statement the locks it took, the tables it rewrote and its duration. A
        statement that cannot run in a transaction, or a step whose SQL is not known before it
        runs, is returned with a ``note`` saying how it was traced, or why not."""


Capability = TypeVar("Capability")


def require(backend: Backend, capability: type[Capability], doing: str) -> Capability:
    """``backend`` as ``capability``, or one line saying it cannot do ``doing``."""
    if not isinstance(backend, capability):  # type: ignore[misc]
        raise UsageError(f"the {backend.PLUGIN_NAME} backend cannot {doing}")
    return backend
