"""How a SQL backend runs one step: four strategies, each for one kind of step.

:func:`choose` picks one from what the file is (the step's form, read when it was loaded, and
``transactional``) and what the dialect can do; ``SQLBackend.apply`` then only calls it:

- :func:`batched_ddl`: synchronous code (Alembic's ``def upgrade()``) where DDL is
  transactional: the step's DDL, its savepoint and its history row reach the database as one
  batch (:mod:`ncm_sql.deferred`); when queued SQL fails, the step is run again
  statement by statement, so it meets the error where it expects it.
- :func:`multi_statement`: the same code where DDL commits implicitly (MySQL) and the step is
  journaled: its statements, each followed by its journal count, and its history row reach the
  server as one multi-statement query; when any of it fails, the step runs again statement by
  statement, skipping what the journal says completed, so it meets the error where it expects it.
- :func:`statement_by_statement`: synchronous code, ``op`` executing each statement when it
  is called, in one switch into SQLAlchemy's greenlet.
- :func:`with_context`: ``async def upgrade(ctx)`` and the class form, awaited with a
  :class:`~ncm_sql.context.SQLStepContext`.
- :func:`outside_transaction`: ``transactional = False`` (``CREATE INDEX CONCURRENTLY``,
  ``VACUUM``): the step on an autocommit connection, then its history row.

Each runs the step, its validate() going up, and its history change, in the savepoint (or,
without transactional DDL, the transaction) that makes them one where the database allows.
"""

from __future__ import annotations

import functools
import time
from contextlib import nullcontext
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ncm_core.errors import MigrationFailed
from ncm_core.step import FAILURES
from ncm_sql import deferred, journal
from ncm_sql.context import SQLStepContext
from ncm_sql.guard import guard

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ncm_core.history import HistoryRecord
    from ncm_core.migration import Migration
    from ncm_sql.backend import SQLBackend
    from ncm_sql.journal import Journal


@dataclass
class StepRun:
    """One step being applied: what every strategy needs."""

    backend: SQLBackend
    conn: AsyncConnection
    migration: Migration
    direction: str
    record: HistoryRecord
    started: float = field(default_factory=time.perf_counter)
    journal: Journal | None = None
    """Set for a step whose statements are journaled so it can be resumed (ncm_sql.journal)."""
    running: HistoryRecord | None = None
    """The step's ``running`` record, not yet written: multi_statement sends it first."""

    def timed(self) -> HistoryRecord:
        self.record.execution_ms = int((time.perf_counter() - self.started) * 1000)
        return self.record

    def history_change(self) -> list[tuple[sa.Executable, dict]]:
        """The step's history statements, replacing the ``running`` record of a step that the
        database cannot roll back, or the record of a repeatable migration applied again."""
        replace = not self.backend.is_atomic(self.migration) or self.migration.repeatable
        return self.backend.history_change(self.direction, self.timed(), replace)

    def run_sync_parts(self, sync_conn: sa.Connection) -> None:
        """The step and its validate(), synchronous code, with ``op`` bound to ``sync_conn``."""
        m, ctx = self.migration, SQLStepContext(self.backend, self.conn, self.migration)
        with self.backend.operations(sync_conn, self.journal), guard(sync_conn).armed(m):
            m.step(self.direction).call_sync(ctx)
            if self.direction == "up" and m.validation is not None and m.validation.call_sync(ctx) is False:
                raise MigrationFailed(m.version, "its validate() returned False")

    async def run_async_parts(self, conn: AsyncConnection) -> None:
        await run_with_context(self.backend, conn, self.migration, self.direction, self.journal)


async def run_with_context(backend: SQLBackend, conn: AsyncConnection, migration: Migration, direction: str,
                           journal: Journal | None = None) -> None:
    """The step and its validate() awaited with a context on ``conn``, whatever their form."""
    ctx = SQLStepContext(backend, conn, migration, journal)
    with guard(conn.sync_connection).armed(migration) if migration.transactional else nullcontext():
        try:
            await migration.run(direction, ctx)
        except BaseException:
            await ctx.close_backfills(ok=False)
            raise
        await ctx.close_backfills(ok=True)
        if direction == "up" and not await migration.check(ctx):
            raise MigrationFailed(migration.version, "its validate() returned False")


Strategy = Callable[[StepRun], Awaitable[None]]


def choose(backend: SQLBackend, migration: Migration, direction: str, journaled: bool = False) -> Strategy:
    """``journaled``: the step's statements are counted as they complete (ncm_sql.journal)."""
    if not migration.transactional:
        strategy = outside_transaction
    elif not all(form.synchronous for form in migration.forms(direction)):
        strategy = with_context
    elif backend.defers_ddl and backend.transactional_ddl:
        strategy = batched_ddl
    elif backend.defers_ddl and journaled:
        return multi_statement  # it keeps the journal itself
    else:
        strategy = statement_by_statement
    return functools.partial(with_journal, strategy) if journaled else strategy


async def with_journal(strategy: Strategy, run: StepRun) -> None:
    async with journal.kept(run.backend, run.record) as run.journal:
        await strategy(run)


async def statement_by_statement(run: StepRun) -> None:
    await run.conn.run_sync(_statement_by_statement, run)


def _statement_by_statement(sync_conn: sa.Connection, run: StepRun) -> None:
    with sync_conn.begin_nested() if run.backend.transactional_ddl else sync_conn.begin():
        run.run_sync_parts(sync_conn)
        for stmt, params in run.history_change():
            sync_conn.execute(stmt, params)


async def multi_statement(run: StepRun) -> None:
    if not await run.conn.run_sync(_multi_statement, run):
        await with_journal(statement_by_statement, run)


def _multi_statement(sync_conn: sa.Connection, run: StepRun) -> bool:
    """False when any of the step failed: what it changed since its last DDL statement is
    rolled back, and ``run.record`` says how many statements the journal counts as completed
    (its ``running`` record written), for the step to run again from there."""
    if not sync_conn.in_transaction():
        sync_conn.begin()  # for the commit that ends the step to reach the server
    backend, record = run.backend, run.record
    batch = deferred.Batch(functools.partial(backend.send_batch, sync_conn),
                           lambda statements: guard(sync_conn).check(s for s in statements if s != journal.Batched.COMMIT),
                           savepoint=False, accepts=backend.batchable)
    if run.running is not None:
        batch.pending += [backend.history_literal("down", run.running, sync_conn.dialect),
                          backend.history_literal("up", run.running, sync_conn.dialect)]
    run.journal = journal.Batched(batch, backend.history_table, record, sync_conn.dialect)
    with backend.operations(sync_conn) as op:
        impl = op.migration_context.impl
        impl.batch = batch
        try:
            run.run_sync_parts(sync_conn)
            if batch.error is None:  # else the migration caught the batch's error: it runs again
                record.statements_done = run.journal.done
                if batch.pending[-1:] == [journal.Batched.COMMIT]:
                    batch.pending.pop()  # the last count commits with the history row
                batch.pending += [backend.history_literal("down", record, sync_conn.dialect),
                                  backend.history_literal(run.direction, run.timed(), sync_conn.dialect),
                                  journal.Batched.COMMIT]
                with guard(sync_conn).armed(run.migration):
                    batch.flush()
                sync_conn.commit()
                return True
        except FAILURES:
            pass
        finally:
            impl.batch = run.journal = None
    sync_conn.rollback()  # data changes since the last DDL statement, with their counts
    h = backend.history_table
    done = sync_conn.scalar(sa.select(h.c.statements_done).where(h.c.version == record.version))
    if done is None and run.running is not None:  # nothing was sent: the step starts afresh
        for stmt, params in backend.history_change("up", run.running, replace=True):
            sync_conn.execute(stmt, params)
    record.statements_done = done or 0
    sync_conn.commit()
    return False


async def batched_ddl(run: StepRun) -> None:
    if not await run.conn.run_sync(_batched, run):
        await statement_by_statement(run)


def _batched(sync_conn: sa.Connection, run: StepRun) -> bool:
    """False when queued SQL failed: the savepoint was rolled back, for the step to run again."""
    if not sync_conn.in_transaction():
        sync_conn.begin()  # the run's transaction, or this migration's, which SQLAlchemy commits
    backend = run.backend
    batch = deferred.Batch(functools.partial(backend.send_batch, sync_conn), guard(sync_conn).check)
    with backend.operations(sync_conn) as op:
        impl = op.migration_context.impl
        impl.batch = batch
        try:
            run.run_sync_parts(sync_conn)
            if batch.error is None:
                if run.migration.repeatable:  # applied again: its former row goes first
                    batch.pending.append(backend.history_literal("down", run.record, sync_conn.dialect))
                batch.pending.append(backend.history_literal(run.direction, run.timed(), sync_conn.dialect))
                batch.pending.append(f"RELEASE SAVEPOINT {deferred.SAVEPOINT}")
                lazy = backend.lazy_commit is not None and backend.commits_alone(run.migration)
                if lazy:
                    batch.pending.append(backend.lazy_commit)  # for the commit that follows, in this round trip
                alone = backend.committing_sender(sync_conn) if lazy else None
                with guard(sync_conn).armed(run.migration):
                    batch.flush(alone)
                backend.lazy_sent = lazy
                return True
        except FAILURES:
            if batch.error is None:
                _undo(sync_conn, backend, batch)
                raise
        finally:
            impl.batch = None
    _undo(sync_conn, backend, batch)
    return False


def _undo(sync_conn: sa.Connection, backend: SQLBackend, batch: deferred.Batch) -> None:
    if batch.sent and not batch.own_transaction:
        backend.send_batch(sync_conn, [f"ROLLBACK TO SAVEPOINT {deferred.SAVEPOINT}",
                                       f"RELEASE SAVEPOINT {deferred.SAVEPOINT}"])


async def with_context(run: StepRun) -> None:
    conn = run.conn
    async with conn.begin_nested() if run.backend.transactional_ddl else conn.begin():
        await run.run_async_parts(conn)
        for stmt, params in run.history_change():
            await conn.execute(stmt, params)


async def outside_transaction(run: StepRun) -> None:
    """The run's transaction is committed first: what came before stays, whatever this does."""
    conn, backend = run.conn, run.backend
    if conn.in_transaction():
        await conn.commit()
    settings, resets = backend.step_session()
    async with backend.engine.connect() as raw:
        raw = await raw.execution_options(isolation_level="AUTOCOMMIT")
        for statement in settings:
            await raw.exec_driver_sql(statement)
        try:
            await run.run_async_parts(raw)
        finally:
            if not raw.invalidated:
                for statement in resets:
                    await raw.exec_driver_sql(statement)
    await backend.write(run.history_change())
    if conn.in_transaction():
        await conn.commit()
