"""One step of a migration: the function, the form it is written in, and what it receives.

The form is read once, when the file is loaded, so a backend chooses how to run a step from
``step.form`` instead of inspecting the user's function again; the spec's four ways of writing
a step all end in :meth:`Step.call` with a backend's :class:`StepContext`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ncm_core.errors import UsageError

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.migration import Migration


FAILURES = (Exception, SystemExit, KeyboardInterrupt)
"""What a step's failure is: ``sys.exit()`` or a ``KeyboardInterrupt`` raised by migration code
fails that migration like any error. Cancellation (a real Ctrl-C or SIGTERM reaches asyncio
as ``CancelledError``) is not a failure of the step; it stops the run."""


class StepForm(str, Enum):
    PLAIN = "def upgrade()"
    """Alembic's form: the backend binds ``op`` around the call."""
    SYNC = "def upgrade(ctx)"
    ASYNC = "async def upgrade(ctx)"
    """With or without ``ctx``."""
    CLASS = "async def up(session)"
    SQL = "SQL statements"
    """A SQL file's section: ``fn`` runs ``statements`` with Alembic's ``op`` bound, as PLAIN does."""

    @property
    def synchronous(self) -> bool:
        return self in (StepForm.PLAIN, StepForm.SYNC, StepForm.SQL)


@runtime_checkable
class StepContext(Protocol):
    """What every backend hands a step as ``ctx`` (and, to the class form, ``ctx.session``).

    Backends add their own (``ctx.connection`` and ``ctx.dialect`` on SQL, ``ctx.db`` on
    MongoDB); a migration that keeps to these names runs on any backend.
    """

    migration: Migration
    config: MigrationConfig
    session: Any
    """What the class form's ``up(session)`` receives."""

    async def execute(self, statement: Any, params: Any = None) -> Any:
        """Run one statement in the step's transaction (where the backend has one)."""

    def progress(self, total: int | None, label: str) -> Any:
        """A progress reporter: a context manager whose ``advance(n)`` counts work done."""

    def batches(self, source: Any, *args: Any, **kwargs: Any) -> AsyncIterator[list[Any]]:
        """The rows (documents) of ``source`` in key order, a page at a time, memory flat."""

    def backfill(self, source: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Batches of ``source`` by key ranges, each committed with a checkpoint that a stopped
        run resumes from (ncm_core.backfill); where the backend has them (SupportsBackfill)."""

    async def run_sync(self, fn: Callable[..., Any], wants_ctx: bool = False) -> Any:
        """Run a synchronous step the way this backend can (SQL: with Alembic's ``op`` bound)."""


@dataclass(frozen=True)
class Step:
    fn: Callable[..., Any]
    form: StepForm
    takes_ctx: bool
    statements: tuple[str, ...] = ()
    """The SQL of a ``StepForm.SQL`` step, in order: what a dry run and ``ncm run --sql`` show."""

    @classmethod
    def of(cls, fn: Callable[..., Any], class_form: bool = False) -> Step:
        if class_form:
            return cls(fn, StepForm.CLASS, True)
        takes_ctx = bool(inspect.signature(fn).parameters)
        if inspect.iscoroutinefunction(fn):
            return cls(fn, StepForm.ASYNC, takes_ctx)
        return cls(fn, StepForm.SYNC if takes_ctx else StepForm.PLAIN, takes_ctx)

    async def call(self, ctx: StepContext) -> Any:
        if self.form is StepForm.CLASS:
            return await self.fn(ctx.session)
        if self.form is StepForm.ASYNC:
            return await (self.fn(ctx) if self.takes_ctx else self.fn())
        return await ctx.run_sync(self.fn, self.takes_ctx)

    def call_sync(self, ctx: Any = None) -> Any:
        """A synchronous step called directly, for a backend already in synchronous code."""
        return self.fn(ctx) if self.takes_ctx else self.fn()


class BaseStepContext:
    """A start for a backend's context: what every context offers, for a backend that has no
    statements or pages of its own to give (the minimal backend of ``ncm_core.backend``)."""

    def __init__(self, migration: Migration, config: MigrationConfig, session: Any = None) -> None:
        self.migration = migration
        self.config = config
        self.session = session

    def progress(self, total: int | None, label: str) -> Any:
        from ncm_core.progress import progress

        return progress(total, label)

    async def execute(self, statement: Any, params: Any = None) -> Any:
        raise UsageError(f"{self.migration.path}: this backend runs no statements (ctx.execute)")

    def batches(self, source: Any, *args: Any, **kwargs: Any) -> AsyncIterator[list[Any]]:
        raise UsageError(f"{self.migration.path}: this backend has no pages to read (ctx.batches)")

    def backfill(self, source: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise UsageError(f"{self.migration.path}: this backend keeps no backfill checkpoints (ctx.backfill)")

    async def run_sync(self, fn: Callable[..., Any], wants_ctx: bool = False) -> Any:
        return fn(self) if wants_ctx else fn()
