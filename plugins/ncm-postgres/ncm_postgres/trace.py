"""``ncm lint --trace`` on PostgreSQL: the pending migrations' statements run one by one in a
single transaction that is always rolled back. After each, ``pg_locks`` says which locks this
backend now holds on tables that existed before (PostgreSQL keeps every lock to the end of the
transaction, so the new ones are the statement's), ``pg_class.relfilenode`` which of those
tables got a new file (a rewrite), and the clock how long it took.

``CREATE/DROP INDEX CONCURRENTLY`` cannot run in a transaction. Such a statement runs on an
empty copy of its table (``CREATE TABLE ... (LIKE ... INCLUDING ALL)`` in a scratch schema,
dropped afterwards), on its own connection, while another connection holds the lock a writer
holds (ROW EXCLUSIVE) on the copy: the statement then takes its lock and waits for that
"writer" to finish, and while it waits its granted locks are read. So the trace shows the lock
the statement takes while writes go on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ncm_core.lint.trace import Lock, Traced
from ncm_sql.backend import describe
from ncm_sql.lint.capture import Capture
from ncm_sql.lint.statements import read

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ncm_core.migration import Migration
    from ncm_postgres.backend import PostgresBackend

WRITE_BLOCKING = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
"""The table lock modes that conflict with ROW EXCLUSIVE, the lock INSERT, UPDATE and DELETE take."""
LOCK_TIMEOUT = "5s"
"""How long a traced statement waits for a lock another session holds before the trace gives
up on it: the trace must not queue the application's queries behind it for long."""
LOCKS = sa.text("""
    SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.pid = :pid AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p')
      AND n.nspname = :schema""")
FILES = sa.text("""
    SELECT c.relname, c.relfilenode FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname = :schema""")
WAITING = sa.text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")


async def trace(backend: PostgresBackend, migrations: list[Migration]) -> list[Traced]:
    planned = [item for m in migrations for item in _planned(backend, m)]
    traced: list[Traced] = []
    async with backend.engine.connect() as conn:
        schema = await conn.scalar(sa.text("SELECT current_schema()"))
        pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        existing = dict((await conn.execute(FILES, {"schema": schema})).all())
        try:  # in the transaction SQLAlchemy began with the first query, rolled back whatever happens
            await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            failed = False
            for item in planned:
                traced.append(item)
                if item.note is not None:
                    continue
                if failed:
                    item.note = "not traced: an earlier statement failed"
                elif _concurrent(item.statement):
                    await _trace_concurrent(backend, item, schema, existing)
                else:
                    failed = not await _trace_one(conn, item, pid, schema, existing)
        finally:
            await conn.rollback()
    return traced


def _planned(backend: PostgresBackend, migration: Migration) -> list[Traced]:
    """A statement each, or one entry saying why the migration's SQL is not known before it runs."""
    try:
        return [Traced(migration.version, sql, line) for sql, line in Capture(backend, migration).statements()]
    except Exception as exc:
        return [Traced(migration.version, "(the whole migration)", None, note=f"not traced: {exc}")]


def _concurrent(sql: str) -> bool:
    return any(op.details.get("concurrently") for op in read(sql, "postgresql", None))


async def _locks(conn: AsyncConnection, pid: int, schema: str) -> set[tuple[str, str]]:
    return {tuple(row) for row in (await conn.execute(LOCKS, {"pid": pid, "schema": schema})).all()}


async def _trace_one(conn: AsyncConnection, item: Traced, pid: int, schema: str, existing: dict[str, int]) -> bool:
    before = await _locks(conn, pid, schema)
    started = time.perf_counter()
    try:
        await conn.exec_driver_sql(item.statement)
    except Exception as exc:
        item.note = f"failed here: {describe(exc)}"
        return False
    item.duration_ms = (time.perf_counter() - started) * 1000
    files = dict((await conn.execute(FILES, {"schema": schema})).all())
    item.locks = [Lock(table, mode, mode in WRITE_BLOCKING)
                  for table, mode in sorted(await _locks(conn, pid, schema) - before) if table in existing]
    item.rewrote = sorted(t for t, node in existing.items() if files.get(t) not in (None, node))
    item.code = _code(item)
    return True


async def _trace_concurrent(backend: PostgresBackend, item: Traced, schema: str, existing: dict[str, int]) -> None:
    """The statement on an empty copy of its table, while a writer's lock is held on the copy."""
    op = next(o for o in read(item.statement, "postgresql", None) if o.details.get("concurrently"))
    if op.kind != "create_index":
        item.note = "not traced: DROP INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which lets writes go on"
        return
    table = op.table
    if table not in existing:
        item.note = "not traced: CONCURRENTLY needs its table committed, and this one is created by the plan"
        return
    scratch = f"ncm_trace_{uuid.uuid4().hex[:10]}"
    engine = backend.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as admin, engine.connect() as runner, engine.connect() as writer:
        await admin.exec_driver_sql(f'CREATE SCHEMA "{scratch}"')
        try:
            await admin.exec_driver_sql(f'CREATE TABLE "{scratch}"."{table}" (LIKE "{schema}"."{table}" INCLUDING ALL)')
            await _observe_concurrent(admin, runner, writer, item, scratch, table)
        finally:
            await admin.exec_driver_sql(f'DROP SCHEMA "{scratch}" CASCADE')
    item.note = "traced on an empty copy of the table: CONCURRENTLY cannot run inside the rolled-back transaction"
    item.code = _code(item)


async def _observe_concurrent(admin: AsyncConnection, runner: AsyncConnection, writer: AsyncConnection,
                              item: Traced, scratch: str, table: str) -> None:
    pid = await runner.scalar(sa.text("SELECT pg_backend_pid()"))
    await runner.exec_driver_sql(f'SET search_path = "{scratch}"')
    await runner.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    await writer.exec_driver_sql("BEGIN")
    await writer.exec_driver_sql(f'LOCK TABLE "{scratch}"."{table}" IN ROW EXCLUSIVE MODE')
    started = time.perf_counter()
    statement = asyncio.ensure_future(runner.exec_driver_sql(item.statement))
    try:
        while not statement.done() and not await admin.scalar(WAITING, {"pid": pid}):
            await asyncio.sleep(0.01)  # until it waits for the writer: its own lock is granted by then
        item.locks = [Lock(t, mode, mode in WRITE_BLOCKING) for t, mode in sorted(await _locks(admin, pid, scratch))]
    finally:
        await writer.exec_driver_sql("COMMIT")
        try:
            await statement
        except Exception as exc:
            item.note = f"failed here: {describe(exc)}"
    item.duration_ms = (time.perf_counter() - started) * 1000


def _code(item: Traced) -> str | None:
    """The static rule's code for what the statement was seen to do (LK100 when none fits)."""
    if not item.blocking and not item.rewrote:
        return None
    ops = read(item.statement, "postgresql", None)
    kinds = {(op.kind, op.details.get("constraint"), "type" in op.details, "nullable" in op.details) for op in ops}
    for (kind, constraint, typed, nulls), code in CODES.items():
        if any(k == kind and (constraint is None or c == constraint) and (not typed or t) and (not nulls or n)
               for k, c, t, n in kinds):
            return code
    return "LK100"


CODES = {
    ("add_column", None, False, False): "LK107",
    ("alter_column", None, True, False): "LK106",
    ("alter_column", None, False, True): "LK108",
    ("create_index", None, False, False): "LK101",
    ("drop_index", None, False, False): "LK102",
    ("add_constraint", "foreign_key", False, False): "LK104",
    ("add_constraint", "check", False, False): "LK105",
}
