"""SQLBackend: the part of a SQL backend that does not depend on the dialect."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from ncm_core.backend import Backend
from ncm_core.backfill import BackfillStopped, Checkpoint
from ncm_core.errors import (
    ConfigError,
    ConnectionLost,
    DatabaseRefused,
    DatabaseUnavailable,
    MigrationFailed,
    UsageError,
)
from ncm_core.history import RUNNING, AuditEntry, HistoryRecord
from ncm_core.locking import wait_for
from ncm_core.step import FAILURES, StepForm
from ncm_sql import deferred, journal, offline, plainsql, strategies, tables
from ncm_sql.context import RecordingContext

if TYPE_CHECKING:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from ncm_core.adoption import FlywayHistory
    from ncm_core.backend import GeneratedSteps
    from ncm_core.migration import Migration
    from ncm_sql.journal import Journal


Statements = list[tuple[sa.Executable, dict[str, Any]]]
READ_ONLY, PRIVILEGE = "read-only", "privilege"
"""What :meth:`SQLBackend.refusal` calls a database's refusal of a write."""


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` means the server ended the connection (SQLAlchemy then invalidates it)."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


log = logging.getLogger("ncm")


def describe(exc: BaseException) -> str:
    """One line for a driver error: the database's own message, without SQLAlchemy's SQL dump."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {text}" if text else type(orig).__name__


class SQLBackend(Backend):
    """A dialect subclass sets DRIVER (the SQLAlchemy async driver name) and, where its
    DDL commits implicitly, ``transactional_ddl = False``; it implements ``lock()``."""

    DRIVER: ClassVar[str]
    TEMPLATES = "ncm_sql.templates"
    transactional_ddl: ClassVar[bool] = True
    requires_database: ClassVar[bool] = False
    """Whether the URL must name a database (MySQL has no default one to fall back on)."""
    read_only_reason: ClassVar[str] = "the database is read-only"
    """What makes this database read-only, said when it refuses a write for that reason."""
    tables_live_in: ClassVar[str] = "database"
    """Where the history tables are created ("schema" on PostgreSQL), for the privilege to name."""
    rehearse_dry_run: ClassVar[bool] = False
    script_header: ClassVar[tuple[str, ...]] = ()
    """The first lines of an offline script (``ncm run --sql``): what its client needs first."""
    default_transaction_mode: ClassVar[str] = "migration"
    """Where neither the migration nor the settings choose: each migration committed with its
    history row, so its locks go when it is done and a kill loses only the step under way.
    (Without transactional DDL every migration commits on its own whatever the mode.)"""
    lazy_commit: ClassVar[str | None] = None
    """A statement that lets a migration's commit return before it is flushed to disk (the
    run's last commit flushes them all), for a dialect that has one."""
    flush_statement: ClassVar[str] = "SELECT 1"
    """Run in the transaction whose commit makes the lazy ones durable: it must make that
    commit write a record of its own."""
    reads_ahead: ClassVar[bool] = True
    """Read a backfill's next batch bounds on a second connection while a batch runs (a
    server has other cores to find them on; an embedded database has not)."""
    overlaps_commits: ClassVar[bool] = True
    """Let a backfill's batch commit while the next one runs, on a second connection (a
    server commits on another core; an embedded database has one writer), where the next
    batch does not wait for that commit's locks."""
    batches_ddl: ClassVar[bool] = False
    """Send a plain migration's DDL in one batch (ncm_sql.deferred): where DDL is transactional,
    in a savepoint; where it is not, only for a journaled step, with its journal (``send_batch``
    must then send the statements as one query). Needs an Alembic whose ``_exec`` ncm can
    intercept (else it is off: ncm_sql.alembic_impl)."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        if self.requires_database and not self.sqlalchemy_url().database:
            raise ConfigError(f"database_url {config.safe_url} names no database: add /<database> to it")
        self.engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._lock_conn: AsyncConnection | None = None
        self._rehearsal: AsyncConnection | None = None
        self._tables_ready = False
        self._unflushed = False
        self.lazy_sent = False
        """Whether the transaction's lazy-commit statement went with the step's batch."""
        self._running: HistoryRecord | None = None
        """A step's ``running`` record held back to go with its statements (write_history)."""
        self._literal_insert: deferred.LiteralInsert | None = None
        self._contexts: weakref.WeakKeyDictionary[sa.Connection, MigrationContext] = weakref.WeakKeyDictionary()
        self.metadata, self.history_table, self.audit_table = tables.build(self.schema)
        self.backfill_table = tables.backfill_table(self.metadata)

    # -- connection ------------------------------------------------------------------
    def sqlalchemy_url(self) -> sa.URL:
        try:
            url = sa.make_url(self.config.database_url)
        except sa.exc.ArgumentError:
            raise ConfigError(f"database_url {self.config.safe_url!r} is not a valid URL") from None
        return url.set(drivername=self.DRIVER)

    @property
    def schema(self) -> str | None:
        """The schema of the history tables (and of ``ctx.batches``); None for the default."""
        return None

    @property
    def dialect_name(self) -> str:
        return self.DRIVER.split("+", 1)[0]

    def dialect(self) -> sa.Dialect:
        return self.sqlalchemy_url().get_dialect()()

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for create_async_engine (connect timeouts, pool)."""
        return {}

    def prepare_engine(self, engine: AsyncEngine) -> None:
        """Install dialect-specific engine events."""

    async def connect(self) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        self.engine = create_async_engine(self.sqlalchemy_url(), **self.engine_options())
        plainsql.accept_plain_sql(self.engine)
        self.prepare_engine(self.engine)
        await self.probe()

    async def probe(self) -> None:
        """Reach the server within ``connect_timeout``, or one DatabaseUnavailable line."""
        timeout = self.config.connect_timeout
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except TimeoutError:
            raise DatabaseUnavailable(f"cannot connect to {self.config.safe_url}: no answer within {timeout:g} s") from None
        except Exception as exc:
            raise DatabaseUnavailable(self.config.mask(f"cannot connect to {self.config.safe_url}: {describe(exc)}")) from None

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def server_info(self) -> dict[str, str]:
        async with self.engine.connect() as conn:
            version = ".".join(str(p) for p in conn.dialect.server_version_info or ())
        url = self.sqlalchemy_url()
        return {"backend": self.PLUGIN_NAME, "server_version": version, "database": url.database or ""}

    # -- refusals --------------------------------------------------------------------
    def refusal(self, exc: BaseException) -> str | None:
        """READ_ONLY or PRIVILEGE when ``exc`` is the database refusing a write, else None.
        Each dialect reads its own error codes."""
        return None

    @contextmanager
    def refused(self, doing: str, needs: str) -> Iterator[None]:
        """Turn the database's refusal of what ncm is ``doing`` into one DatabaseRefused line
        saying why: the read-only setting, or the privilege (``needs``) the user lacks."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            kind = self.refusal(exc)
            if kind is None:
                raise
            user = self.sqlalchemy_url().username
            why = self.read_only_reason if kind == READ_ONLY else f"the user {user} needs {needs}"
            raise DatabaseRefused(self.config.mask(f"{doing}: {describe(exc)} ({why})")) from None

    def _history_grants(self) -> str:
        audit = f" and INSERT on {tables.AUDIT_TABLE}" if self.config.audit_enabled else ""
        return f"SELECT, INSERT and DELETE on {tables.HISTORY_TABLE}{audit}"

    def label(self) -> str:
        """The database as messages name it."""
        return self.sqlalchemy_url().database or "the database"

    async def _check_writable(self, conn: AsyncConnection) -> None:
        """Fail before the first step, not after it: where a step's DDL commits on its own
        (MySQL, or ``transactional = False``), a history ncm cannot write would leave a change
        that nothing records. The probe writes no row and is rolled back."""
        h, a = self.history_table, self.audit_table
        probes: list[sa.Executable] = [
            sa.delete(h).where(sa.false()), sa.insert(h).from_select(list(h.c.keys()), sa.select(h).where(sa.false()))]
        if self.config.audit_enabled:
            probes.append(sa.insert(a).from_select(list(a.c.keys()), sa.select(a).where(sa.false())))
        with self.refused(f"cannot write ncm's history in {self.label()}", self._history_grants()):
            transaction = await conn.begin()
            try:
                for probe in probes:
                    await conn.execute(probe)
            finally:
                await transaction.rollback()

    # -- history ---------------------------------------------------------------------
    async def _ensure_tables(self) -> None:
        if not self._tables_ready:
            doing = f"cannot create ncm's history tables in {self.label()}"
            with self.refused(doing, f"CREATE on the {self.tables_live_in}"):
                async with self.engine.begin() as conn:
                    await conn.run_sync(self.metadata.create_all, checkfirst=True)
                    await conn.run_sync(tables.add_missing_columns, self.history_table)
            self._tables_ready = True

    async def _has_tables(self) -> bool:
        """Whether ncm's tables exist; a history table of an older ncm gains its new columns
        (the only write a read may make, once, and only on such a table)."""
        if not self._tables_ready:
            async with self.reading() as conn:
                missing = await conn.run_sync(tables.missing_columns, self.history_table)
            if missing is None:
                return False
            if missing:
                await self._ensure_tables()
            self._tables_ready = True
        return True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection that only reads, marked so (``ncm_reads``) for a dialect whose
        transactions otherwise begin by taking the write lock (SQLite's BEGIN IMMEDIATE):
        ``status`` during a run must not wait for the run to finish."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(ncm_reads=True)

    async def read_history(self) -> list[HistoryRecord]:
        """Read in the run's transaction during a run (which sees its own writes, and where
        SQLite would have another connection wait for its lock), else on a connection of its own."""
        with self.refused(f"cannot read ncm's history in {self.label()}", f"SELECT on {tables.HISTORY_TABLE}"):
            if self._conn is not None and not self._conn.invalidated:
                return [tables.record_of(r) for r in await self._conn.execute(sa.select(self.history_table))]
            if not await self._has_tables():
                return []
            async with self.reading() as conn:
                return [tables.record_of(r) for r in await conn.execute(sa.select(self.history_table))]

    async def read_audit(self) -> list[AuditEntry]:
        with self.refused(f"cannot read ncm's audit log in {self.label()}", f"SELECT on {tables.AUDIT_TABLE}"):
            if not await self._has_tables():
                return []
            async with self.reading() as conn:
                rows = await conn.execute(sa.select(self.audit_table).order_by(self.audit_table.c.id))
                return [tables.entry_of(r) for r in rows]

    async def write(self, statements: Statements) -> None:
        """Run history writes in the run's transaction if one is open, else in their own; under
        the migration lock taken for them alone when the step runs without it (``ncm backfill``),
        and then committed before it is released."""
        if self._conn is None:
            await self._ensure_tables()
        with self.refused(f"cannot write ncm's history in {self.label()}", self._history_grants()):
            try:
                async with self.backfill_options.recording() as relocked:
                    await self._write(statements)
                    if relocked and self._conn is not None and self._conn.in_transaction():
                        await self._conn.commit()
            except sa.exc.DBAPIError as exc:
                if lost_connection(exc):
                    raise ConnectionLost(f"writing the history: {describe(exc)}") from exc
                raise

    async def _write(self, statements: Statements) -> None:
        if self._conn is not None:
            for stmt, params in statements:
                await self._conn.execute(stmt, params)
            if not self.transactional_ddl:
                await self._conn.commit()
            return
        async with self.engine.begin() as conn:
            for stmt, params in statements:
                await conn.execute(stmt, params)

    def _delete(self, version: str) -> Statements:
        h = self.history_table
        return [(sa.delete(h).where(h.c.version == sa.bindparam("v")), {"v": version})]

    def _replace(self, record: HistoryRecord) -> Statements:
        return self.history_change("up", record, replace=True)

    async def record_failure(self, record: HistoryRecord) -> None:
        await self.write(self._replace(record))

    async def write_history(self, record: HistoryRecord) -> None:
        """A ``running`` record, written before a step the database cannot roll back, is held
        back during a run where the step may go as one multi-statement query: it then goes
        first in that query (strategies.multi_statement), else just before the step."""
        if record.status == RUNNING and self._conn is not None and self.defers_ddl and not self.transactional_ddl:
            self._running = dataclasses.replace(record)
            return
        await self.write(self._replace(record))

    async def delete_history(self, version: str) -> None:
        await self.write(self._delete(version))

    async def write_audit(self, entry: AuditEntry) -> None:
        await self.write([(sa.insert(self.audit_table), tables.audit_row(entry))])

    async def read_backfills(self) -> list[Checkpoint]:
        from ncm_sql.backfill import read_checkpoints

        with self.refused(f"cannot read ncm's backfills in {self.label()}", f"SELECT on {tables.BACKFILL_TABLE}"):
            return await read_checkpoints(self)

    async def clear_backfills(self, version: str) -> None:
        table = self.backfill_table
        await self.write([(sa.delete(table).where(table.c.version == sa.bindparam("v")), {"v": version})])

    # -- running ---------------------------------------------------------------------
    @asynccontextmanager
    async def run_scope(self) -> AsyncIterator[None]:
        """One connection for the run (the lock's, where the lock belongs to a session, so that
        the two cannot part: a run whose lock is gone has lost its connection too); with
        transactional DDL, one transaction and a savepoint per migration, so a run costs one
        commit instead of one per migration. A run stopped at once (a second Ctrl-C cancels it)
        keeps the migrations it finished: the step under way was rolled back to its savepoint."""
        await self._ensure_tables()
        async with self._run_connection() as conn:
            await self._check_writable(conn)
            settings, resets = self.step_session()
            for statement in settings:
                await conn.exec_driver_sql(statement)
            await conn.commit()
            self._conn = conn
            try:
                yield
                if conn.in_transaction():
                    await conn.commit()
                await self._flush(conn)
            except asyncio.CancelledError:
                if conn.in_transaction() and not conn.invalidated and not conn.sync_connection.in_nested_transaction():
                    await conn.commit()
                    await self._flush(conn)
                raise
            finally:
                self._conn = None
                if resets and not conn.invalidated:
                    await self._reset_session(conn, resets)

    @staticmethod
    async def _reset_session(conn: AsyncConnection, resets: list[str]) -> None:
        """The run's session as it was, for whatever uses the connection next (a session
        lock's connection is released after the run, on that same connection)."""
        try:
            if conn.in_transaction():
                await conn.rollback()
            for statement in resets:
                await conn.exec_driver_sql(statement)
            await conn.commit()
        except sa.exc.DBAPIError as exc:
            if not lost_connection(exc):
                raise

    async def query_column(self, sql: str) -> list[str]:
        """SupportsQuery: the first column of ``sql``'s rows, read in a transaction that is rolled back."""
        async with self.engine.connect() as conn:
            try:
                rows = (await conn.execute(sa.text(sql))).all()
            except sa.exc.DBAPIError as exc:
                raise UsageError(f"tenants_query failed: {str(exc.orig).splitlines()[0]}") from None
            finally:
                await conn.rollback()
        return [str(row[0]) for row in rows]

    @asynccontextmanager
    async def _run_connection(self) -> AsyncIterator[AsyncConnection]:
        if self._lock_conn is not None:
            yield self._lock_conn
            return
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def session_lock(self, take: Callable[[AsyncConnection], Awaitable[bool]], release: str,
                           params: dict[str, Any], holder: Callable[[AsyncConnection], Awaitable[str | None]],
                           where: str) -> AsyncIterator[None]:
        """A lock that belongs to a session (PostgreSQL's advisory locks, MySQL's GET_LOCK),
        taken on the connection the run then uses, and freed by the server if it ends."""
        async with self.session_claim(take, release, params, holder, where) as conn:
            self._lock_conn = conn
            try:
                yield
            finally:
                self._lock_conn = None

    @asynccontextmanager
    async def session_claim(self, take: Callable[[AsyncConnection], Awaitable[bool]], release: str,
                            params: dict[str, Any], holder: Callable[[AsyncConnection], Awaitable[str | None]],
                            where: str, what: str = "the migration lock",
                            timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        """A session lock held on a connection of its own for the block: the migration lock,
        or a backfill's claim (``what``), which a killed holder's server frees with its session.
        Each try commits, so the block starts outside a transaction."""
        async with self.engine.connect() as conn:
            async def try_once() -> bool:
                got = await take(conn)
                await conn.commit()
                return got

            await wait_for(try_once, self.config.lock_timeout if timeout is None else timeout, where,
                           lambda: holder(conn), what)
            try:
                yield conn
            finally:
                await self._unlock(conn, release, params)

    @staticmethod
    async def _unlock(conn: AsyncConnection, release: str, params: dict[str, Any]) -> None:
        """Release a session lock, unless the session is gone (and the lock with it)."""
        if conn.invalidated:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
            await conn.execute(sa.text(release), params)
            await conn.commit()
        except sa.exc.DBAPIError as exc:
            if not lost_connection(exc):
                raise

    def is_atomic(self, migration: Migration) -> bool:
        return self.transactional_ddl and bool(migration.transactional)

    def transaction_mode(self, migration: Migration) -> str:
        return migration.transaction_mode or self.config.transaction_mode or self.default_transaction_mode

    def commits_alone(self, migration: Migration) -> bool:
        """Whether the migration is committed, with its history row, as soon as it is done."""
        return self.is_atomic(migration) and self.transaction_mode(migration) == "migration"

    async def _commit_step(self, conn: AsyncConnection) -> None:
        """Commit a migration and its history row (``transaction_mode = "migration"``); the
        lazy commit's statement unless the step's batch carried it (ncm_sql.strategies)."""
        if self.lazy_commit is not None and not self.lazy_sent:
            await conn.exec_driver_sql(self.lazy_commit)
        self._unflushed = self._unflushed or self.lazy_commit is not None
        self.lazy_sent = False
        await conn.commit()

    async def _flush(self, conn: AsyncConnection) -> None:
        """Make the lazy commits durable: one commit that writes a commit record, which the
        server flushes with every record before it."""
        if self._unflushed:
            self._unflushed = False
            await conn.exec_driver_sql(self.flush_statement)
            await conn.commit()

    async def apply(self, migration: Migration, direction: str, record: HistoryRecord) -> None:
        """The step through the strategy its file and this dialect call for (ncm_sql.strategies);
        a step that can be rolled back and was not granted a lock within ``ddl_lock_timeout``
        is tried again after a pause, so that it never queues the application behind it."""
        assert self._conn is not None, "apply() runs inside run_scope()"
        tries = self.config.section("sql").ddl_lock_retries if self.is_atomic(migration) else 1
        for attempt in range(1, tries + 1):
            try:
                await self._apply_once(migration, direction, record)
                return
            except (MigrationFailed, BackfillStopped):
                raise
            except FAILURES as exc:
                if lost_connection(exc):
                    raise ConnectionLost(describe(exc)) from exc
                if not self.lock_not_granted(exc) or attempt == tries:
                    raise self._failure(migration, exc, attempt) from exc
                pause = min(0.5 * 2 ** (attempt - 1), 10.0)
                log.warning("%s: a lock was not granted within %gs (ddl_lock_timeout); trying again in %gs "
                            "(try %d of %d)", migration.version, self.config.section("sql").ddl_lock_timeout,
                            pause, attempt + 1, tries)
                await asyncio.sleep(pause)

    async def _apply_once(self, migration: Migration, direction: str, record: HistoryRecord) -> None:
        run = strategies.StepRun(self, self._conn, migration, direction, record)
        journaled = direction == "up" and record.statements_done is not None and self.resumable(migration)
        strategy = strategies.choose(self, migration, direction, journaled)
        running, self._running = self._running, None
        if strategy is strategies.multi_statement:
            run.running = running
        elif running is not None:
            await self.write(self._replace(running))
        await strategy(run)
        if self.commits_alone(migration) and self._conn.in_transaction():
            await self._commit_step(self._conn)

    def lock_not_granted(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the server giving up on a lock after ``ddl_lock_timeout``."""
        return False

    def batch_session(self) -> tuple[list[str], list[str]]:
        """The statements that set, then reset, the session a backfill's batches run in: a
        step's lock and statement timeouts, so a batch never queues the application behind it."""
        return self.step_session()

    def session_settings(self) -> dict[str, str]:
        """The session settings ncm gives every step (``ncm lint`` reads them as set)."""
        return {}

    def step_session(self) -> tuple[list[str], list[str]]:
        """The statements that set, then reset, the session every step runs in (its lock and
        statement timeouts), for a dialect that has them."""
        return [], []

    def send_batch(self, sync_conn: sa.Connection, statements: list[str]) -> None:
        """Run queued statements in order. Dialects that can send several statements at once
        (one query, one worker-thread call) override this."""
        for statement in statements:
            sync_conn.exec_driver_sql(statement)

    def committing_sender(self, sync_conn: sa.Connection) -> Callable[[list[str]], None] | None:
        """What sends a migration's whole batch as a transaction of its own, from its begin to
        its commit in the same round trip, for a dialect that can (else None): a migration
        committed alone then costs one round trip instead of three. On failure it rolls that
        transaction back, so the step can run again the usual way."""
        return None

    def batchable(self, statement: str) -> bool:
        """Whether a step's statement may go in a multi-statement query (strategies.multi_statement),
        rather than through SQLAlchemy, whose events a dialect may rely on for it."""
        return True

    def history_change(self, direction: str, record: HistoryRecord, replace: bool = False) -> Statements:
        """Statements with parameters, so SQLAlchemy compiles each of them once per run. Going
        up, ``replace`` a step's ``running`` record (written before a step the database cannot
        roll back); an atomic step has none, so its row is only inserted."""
        if direction == "up":
            insert = [(sa.insert(self.history_table), tables.history_row(record))]
            return [*self._delete(record.version), *insert] if replace else insert
        return self._delete(record.version)

    def history_literal(self, direction: str, record: HistoryRecord, dialect: sa.Dialect) -> str:
        h = self.history_table
        if direction == "up":
            if self._literal_insert is None:
                self._literal_insert = deferred.LiteralInsert(h, dialect)
            return self._literal_insert.render(tables.history_row(record))
        return deferred.literal(sa.delete(h).where(h.c.version == record.version), dialect)

    def _failure(self, migration: Migration, exc: BaseException, tries: int = 1) -> MigrationFailed:
        if isinstance(exc, sa.exc.ObjectNotExecutableError):
            return MigrationFailed(migration.version, plainsql.not_executable(exc))
        stmt = getattr(exc, "statement", None)
        if stmt is not None and len(stmt) > 500:
            stmt = stmt[:500] + "..."
        why = describe(exc)
        if self.lock_not_granted(exc):
            why += (f" (a lock was not granted within {self.config.section('sql').ddl_lock_timeout:g}s, "
                    f"ddl_lock_timeout, {tries} time(s): find what holds it, or raise the timeout)")
        return MigrationFailed(migration.version, why, " ".join(stmt.split()) if stmt else None)

    # -- offline SQL (ncm run --sql) --------------------------------------------------
    async def script(self, steps: list[tuple[Migration, HistoryRecord]], direction: str,
                     create_tables: bool) -> str:
        return offline.script(self, steps, direction, create_tables)

    async def has_history_tables(self) -> bool:
        return await self._has_tables()

    def tables_sql(self, dialect: sa.Dialect) -> list[str]:
        """ncm's tables, for a script that starts from an empty database."""
        return offline.tables_sql(self, dialect)

    # -- Alembic ---------------------------------------------------------------------
    def alembic_options(self) -> dict[str, Any]:
        return {}

    @property
    def defers_ddl(self) -> bool:
        """Whether this run batches DDL: asked only when migrations run, so that a command
        that only reads (status, validate, a run with nothing to do) never imports Alembic."""
        return self.batches_ddl and _intercepts_exec()

    def impl_mixins(self) -> tuple[type, ...]:
        """Classes mixed into Alembic's DDL impl for this backend's contexts."""
        from ncm_sql import alembic_impl

        journaling = (journal.JournalingImpl,) if alembic_impl.INTERCEPTS_EXEC else ()
        return (*journaling, alembic_impl.DeferringImpl) if self.defers_ddl else journaling

    def resumable(self, migration: Migration) -> bool:
        """An interrupted plain ``op`` migration that the database could not roll back resumes
        at the first statement its journal does not record (ncm_sql.journal)."""
        return (_intercepts_exec() and not self.is_atomic(migration)
                and migration.forms("up") <= {StepForm.PLAIN, StepForm.SQL})

    def migration_context(self, **kwargs: Any) -> MigrationContext:
        """Alembic's MigrationContext, online or offline, with this backend's impl mixins."""
        from alembic.runtime.migration import MigrationContext

        from ncm_sql import alembic_impl

        return alembic_impl.with_mixins(MigrationContext.configure(**kwargs), self.impl_mixins())

    @contextmanager
    def operations(self, sync_connection: sa.Connection, journal: Journal | None = None) -> Iterator[Operations]:
        """Alembic's ``op`` bound to the connection, as inside an Alembic env.py; with
        ``journal``, the statements it sends are journaled (ncm_sql.journal)."""
        from alembic.operations import Operations

        context = self._contexts.get(sync_connection)
        if context is None:  # one per connection, not per migration: configuring one is not free
            context = self.migration_context(connection=sync_connection, opts=self.alembic_options())
            self._contexts[sync_connection] = context
            if self.defers_ddl:
                deferred.flush_before_use(sync_connection, context.impl)
        context.impl.journal = journal
        try:
            with Operations.context(context) as op:
                yield op
        finally:
            context.impl.journal = None

    def offline_sql(self, fn: Callable[..., Any], ctx: Any) -> list[str]:
        """The SQL a plain ``def upgrade()`` would run, rendered by Alembic's offline mode."""
        from alembic.operations import Operations

        buffer = io.StringIO()
        context = self.migration_context(
            dialect_name=self.dialect_name,
            opts={**self.alembic_options(), "as_sql": True, "output_buffer": buffer, "literal_binds": True},
        )
        with Operations.context(context):
            fn(ctx) if ctx is not None else fn()
        return [s.strip() for s in buffer.getvalue().split(";\n") if s.strip()]

    async def lint_capture(self, migration: Migration) -> list[Any]:
        from ncm_sql.lint.capture import Capture

        return await Capture(self, migration).run()

    async def live_schema(self) -> dict[str, dict[str, str]]:
        from ncm_sql.lint.capture import live_schema

        async with self.engine.connect() as conn:
            schema = await conn.run_sync(live_schema, self.schema)
        return {name: columns for name, columns in schema.items()
                if name not in (self.history_table.name, self.audit_table.name, self.backfill_table.name)}

    @asynccontextmanager
    async def dry_run_scope(self) -> AsyncIterator[None]:
        if not self.rehearse_dry_run:
            yield
            return
        async with self.engine.connect() as conn:
            self._rehearsal = conn
            try:
                yield
            finally:
                self._rehearsal = None
                await conn.rollback()

    async def _rehearse(self, migration: Migration, direction: str) -> list[str]:
        """Run the step for real inside a transaction that is rolled back, recording the SQL."""
        conn = self._rehearsal
        statements: list[str] = []

        def capture(_conn: Any, _cursor: Any, stmt: str, params: Any, _ctx: Any, _many: bool) -> None:
            if not stmt.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "BEGIN")):
                statements.append(f"{stmt.strip()}  -- params: {params!r}" if params else stmt.strip())

        sa.event.listen(conn.sync_connection, "before_cursor_execute", capture)
        try:
            async with conn.begin_nested():
                await strategies.run_with_context(self, conn, migration, direction)
        except Exception as exc:
            statements.append(f"-- dry run stopped here: {describe(exc)}")
        finally:
            sa.event.remove(conn.sync_connection, "before_cursor_execute", capture)
        return statements

    async def dry_run(self, migration: Migration, direction: str) -> list[str]:
        if self._rehearsal is not None and migration.transactional:
            return await self._rehearse(migration, direction)
        step = migration.step(direction)
        if step.form is StepForm.SQL:
            return list(step.statements)
        ctx = RecordingContext(self, migration)
        try:
            await migration.run(direction, ctx)
        except Exception as exc:
            ctx.statements.append(f"-- dry run stopped here: {describe(exc)}")
        return ctx.statements

    # -- models and Alembic adoption -------------------------------------------------
    def models_reference(self) -> str | None:
        return self.config.section("sql").target_metadata

    async def autogenerate(self, metadata_ref: str) -> GeneratedSteps | None:
        from ncm_sql import autogenerate

        metadata = autogenerate.load_metadata(metadata_ref)
        async with self.engine.connect() as conn:
            return await conn.run_sync(autogenerate.generate, metadata)

    async def drift(self, metadata_ref: str) -> list[str]:
        from ncm_sql import autogenerate

        metadata = autogenerate.load_metadata(metadata_ref)
        async with self.engine.connect() as conn:
            return await conn.run_sync(autogenerate.differences, metadata)

    async def alembic_heads(self) -> list[str]:
        from ncm_sql import alembic_adoption

        async with self.engine.connect() as conn:
            return await conn.run_sync(alembic_adoption.current_heads)

    async def flyway_history(self) -> FlywayHistory:
        from ncm_sql import flyway_adoption

        async with self.reading() as conn:
            return await conn.run_sync(flyway_adoption.history)

    async def golang_migrate_version(self) -> int:
        from ncm_sql import golang_migrate_adoption

        async with self.reading() as conn:
            return await conn.run_sync(golang_migrate_adoption.current_version)


def _intercepts_exec() -> bool:
    from ncm_sql import alembic_impl

    return alembic_impl.INTERCEPTS_EXEC
