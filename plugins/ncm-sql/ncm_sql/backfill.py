"""``ctx.backfill`` on SQL databases: key ranges, a transaction per batch, a checkpoint in it.

Each batch runs on a connection of the backfill's own, in its own transaction, which also
updates the backfill's row in ``ncm_backfills``: on PostgreSQL, SQLite and MariaDB/MySQL
(InnoDB) the batch and its checkpoint commit together, so a batch is done exactly once however
the process dies. The batch is committed when the loop asks for the next one (or ends). On
PostgreSQL (the backend's ``overlaps_commits``) that commit ends while the next batch runs: two
connections take turns, and a batch's checkpoint is written only once the commit before it
has succeeded, so at most one batch is committing and the checkpoint in the table is always
that of the last batch done; that checkpoint's write too runs beside the next batch. (So a
batch must not read what the batch before it wrote, which it may not see yet; its own key
range is its own.) On PostgreSQL a batch's
commit does not wait for its WAL flush (the backend's ``lazy_commit``); the last one, which
marks the backfill done, does, and flushes them all: a crash of the server itself can lose
the last batches, but only with their checkpoints, so they are done again, never twice.

The backfill's connection has a step's lock and statement timeouts (``[sql] ddl_lock_timeout``,
``statement_timeout``; the backend's ``batch_session``): a batch that is not granted a row
lock in time is rolled back and run again after a pause, ``ddl_lock_retries`` times in all,
so it never queues the application behind it. A checkpoint is only moved on from the one its
batch started at, so a batch some other process already did is rolled back, never done twice.

On a server (the backend's ``reads_ahead``), the next batch's bounds are read on a second
connection while the batch runs (:class:`ncm_core.backfill.ReadAhead`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ncm_core.backfill import (DONE, NOT_READ, RUNNING, BackfillStopped, Checkpoint, Clock, LeftCount, ReadAhead,
                               decode_key, encode_key)
from ncm_core.errors import UsageError
from ncm_core.step import FAILURES
from ncm_core.history import now
from ncm_core.progress import Progress
from ncm_sql import tables

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

    from ncm_sql.backend import SQLBackend
    from ncm_sql.context import SQLStepContext


NAME_LENGTH = tables.BACKFILL_NAME_LENGTH
log = logging.getLogger("ncm")


class Batch:
    """One key range: ``lo`` to ``hi`` inclusive, ``count`` rows. Its statements run in the
    batch's transaction with ``:lo`` and ``:hi`` bound."""

    def __init__(self, backfill: SQLBackfill, lo: Any, hi: Any, count: int) -> None:
        self.backfill, self.lo, self.hi, self.count = backfill, lo, hi, count
        self.rows = 0
        """Rows the batch's statements changed (a WHERE that skips done rows may change fewer)."""
        self.sent: list[tuple[Any, dict[str, Any]]] = []
        """Its statements so far, to run again in a new transaction when one waited too long for a lock."""

    async def execute(self, sql: Any, params: dict[str, Any] | None = None) -> sa.Result[Any]:
        from ncm_sql.context import statement

        self.sent.append((statement(sql), {"lo": self.lo, "hi": self.hi, **(params or {})}))
        return await self.backfill.run(self)


class PreviewBatch:
    """The one batch a dry run or ``ncm lint`` sees: its statements go to ``record``, unrun."""

    lo = hi = None
    count = rows = 0

    def __init__(self, record: Callable[[Any, Any], Awaitable[Any]]) -> None:
        self.record = record

    async def execute(self, sql: Any, params: dict[str, Any] | None = None) -> Any:
        return await self.record(sql, params)


async def preview(record: Callable[[Any, Any], Awaitable[Any]]) -> AsyncIterator[PreviewBatch]:
    yield PreviewBatch(record)


def checkpoint_of(row: sa.Row) -> Checkpoint:
    data = dict(row._mapping)
    return Checkpoint(data["version"], data["name"], decode_key(data["key_done"]), data["rows_done"],
                      data["rows_total"], data["seconds"], data["state"],
                      tables.aware(data["started_at"]), tables.aware(data["updated_at"]))


def checkpoint_row(point: Checkpoint) -> dict[str, Any]:
    return {"version": point.version, "name": point.name, "key_done": encode_key(point.key_done),
            "rows_done": point.rows_done, "rows_total": point.rows_total, "seconds": point.seconds,
            "state": point.state, "started_at": tables.naive_utc(point.started_at),
            "updated_at": tables.naive_utc(point.updated_at)}


class SQLBackfill:
    """``async for batch in ctx.backfill(table, key="id", size=10_000)``."""

    def __init__(self, ctx: SQLStepContext, table: str, key: str, size: int, name: str | None) -> None:
        self.backend: SQLBackend = ctx.backend
        self.options = self.backend.backfill_options
        tbl = sa.table(table, sa.column(key), schema=self.backend.schema)
        self.table, self.key = tbl, tbl.c[key]
        self.throttle = self.options.throttle(size)
        self.point = Checkpoint(ctx.migration.version, name or table)
        if len(self.point.name) > NAME_LENGTH:
            raise UsageError(f"{ctx.migration.path}: a backfill's name is at most {NAME_LENGTH} characters: "
                             f"give ctx.backfill a shorter name= than {self.point.name!r}")
        self.conn: AsyncConnection | None = None
        """The connection of the batch under way: one of ``conns``."""
        self.conns: list[AsyncConnection] = []
        """One, or two taking turns while a batch's commit ends during the next batch."""
        self.opening: asyncio.Future[AsyncConnection] | None = None
        """The second connection, opened while the count and the first batch run."""
        self.committing: asyncio.Future[None] | None = None
        """The last batch's checkpoint and commit, under way on the other connection."""
        self.counting = LeftCount()
        self.ahead = ReadAhead(self.backend.reads_ahead)
        self.reader: AsyncConnection | None = None
        """Opened by the first read ahead, so that its connecting too is done during a batch."""
        self.resets: list[str] = []
        self.transaction: AsyncTransaction | None = None
        self.batch: Batch | None = None
        self.clock = Clock()
        self.progress: Progress | None = None

    def __aiter__(self) -> SQLBackfill:
        return self

    async def __anext__(self) -> Batch:
        if self.conn is None:
            await self._start()
        elif self.batch is not None:
            await self._commit()
            if self.options.stop_requested:
                await self.close(ok=True)
                raise BackfillStopped(f"{self.point.version}: backfill of {self.point.name} stopped after "
                                      f"{self.point.rows_done} rows; the next run resumes after key {self.point.key_done}")
            if self.throttle.pause:
                await asyncio.sleep(self.throttle.pause)
        if self.point.state == DONE:
            await self.close(ok=True)
            raise StopAsyncIteration
        return await self._next_batch()

    async def run(self, batch: Batch) -> sa.Result[Any]:
        """The batch's last statement; when a lock was not granted within the timeout, the batch
        rolled back and its statements run again in a new transaction, after a growing pause."""
        tries = self.backend.config.section("sql").ddl_lock_retries
        for attempt in range(1, tries + 1):
            try:
                if attempt > 1:
                    batch.rows = 0
                for sql, params in batch.sent if attempt > 1 else batch.sent[-1:]:
                    result = await self.conn.execute(sql, params)
                    batch.rows += max(result.rowcount or 0, 0)
                return result
            except FAILURES as exc:
                if not self.backend.lock_not_granted(exc) or attempt == tries:
                    raise
                pause = min(0.5 * 2 ** (attempt - 1), 10.0)
                log.warning("%s: a batch of %s (keys %s to %s) was not granted a lock within %gs (ddl_lock_timeout); "
                            "trying it again in %gs (try %d of %d)", self.point.version, self.point.name, batch.lo,
                            batch.hi, self.backend.config.section("sql").ddl_lock_timeout, pause, attempt + 1, tries)
                await self.transaction.rollback()
                await asyncio.sleep(pause)
                self.transaction = await self.conn.begin()
        raise AssertionError("unreachable")

    async def _connect(self) -> AsyncConnection:
        """A connection with the batches' timeouts (``resets`` undo them)."""
        conn = await self.backend.engine.connect()
        settings, self.resets = self.backend.batch_session()
        for setting in settings:
            await conn.exec_driver_sql(setting)
        await conn.commit()
        return conn

    async def _start(self) -> None:
        """The checkpoint read (or made), and the rows left counted for the ETA: on a server
        (``reads_ahead``) on a connection of its own, while the first batch runs."""
        self.conn = await self._connect()
        self.conns.append(self.conn)
        if self.backend.overlaps_commits:
            self.opening = asyncio.ensure_future(self._connect())
        table = self.backend.backfill_table
        async with self.conn.begin():
            where = (table.c.version == self.point.version) & (table.c.name == self.point.name)
            row = (await self.conn.execute(sa.select(table).where(where))).first()
            if row is None:
                await self.conn.execute(sa.insert(table), checkpoint_row(self.point))
            else:
                self.point = checkpoint_of(row)
            if self.point.state != DONE:
                self.point.state = RUNNING
                if self.backend.reads_ahead:
                    self.counting.start(self.point, self._count_aside(self.point.key_done))
                else:
                    self.point.rows_total = self.point.rows_done + await self._count(self.conn, self.point.key_done)
                await self._save(self.conn, self._row())
        self.progress = Progress(self.point.rows_total - self.point.rows_done if self.point.rows_total else None,
                                 f"{self.point.version} {self.point.name}")

    async def _count(self, conn: AsyncConnection, key: Any) -> int:
        """The rows after ``key``."""
        count = sa.select(sa.func.count()).select_from(self.table)
        return int(await conn.scalar(self._after(count, key)) or 0)

    async def _count_aside(self, key: Any) -> int:
        """:meth:`_count` on a connection of its own, with the batches' timeouts (a count cut
        off by the backfill's end is discarded with its connection)."""
        conn = await self._connect()
        try:
            left = await self._count(conn, key)
        except BaseException:
            await conn.invalidate()
            raise
        await self._release(conn)
        return left

    def _after(self, query: sa.Select, key: Any) -> sa.Select:
        return query if key is None else query.where(self.key > key)

    async def _next_batch(self) -> Batch:
        self.clock = Clock()
        if self.committing is not None:
            self.conn = await self._other_connection()
        self.transaction = await self.conn.begin()
        lo, hi, count = await self._bounds()
        if not count:
            await self._settle()
            self.point.state = DONE
            await self.counting.join(self.point, self.progress)
            await self._save(self.conn, self._row())
            await self.transaction.commit()
            self.transaction = None
            await self.close(ok=True)
            raise StopAsyncIteration
        self.batch = Batch(self, lo, hi, count)
        return self.batch

    async def _other_connection(self) -> AsyncConnection:
        """The connection that is not committing."""
        if self.opening is not None:
            opening, self.opening = self.opening, None
            self.conns.append(await opening)
        return self.conns[1] if self.conn is self.conns[0] else self.conns[0]

    async def _bounds(self) -> tuple[Any, Any, int]:
        """The next batch's first and last key and its size: read ahead during the batch before,
        or now."""
        after, size = self.point.key_done, self.throttle.size
        bounds = await self.ahead.take(after, size)
        if bounds is NOT_READ:
            bounds = await self._read_bounds(self.conn, after, size)
        if bounds[2] == size:
            self.ahead.start(bounds[1], size, self._read_ahead)
        return bounds

    async def _read_ahead(self, after: Any, size: int) -> tuple[Any, Any, int]:
        """The bounds on the read-ahead connection, which a failed read discards."""
        try:
            if self.reader is None:
                self.reader = await (await self._connect()).execution_options(isolation_level="AUTOCOMMIT")
            return await self._read_bounds(self.reader, after, size)
        except Exception:
            reader, self.reader = self.reader, None
            if reader is not None:
                await reader.invalidate()
            raise

    async def _read_bounds(self, conn: AsyncConnection, after: Any, size: int) -> tuple[Any, Any, int]:
        """The first and last key of the ``size`` keys after ``after``. The last is found by
        skipping along the key's index (``OFFSET size - 1``), which reads no row; counting the
        keys of a full batch instead would cost, on MariaDB, a twentieth of the backfill. Only
        the final batch, shorter than the rest, is counted."""
        keys = self._after(sa.select(self.key), after).order_by(self.key)
        lo, hi = (await conn.execute(sa.select(keys.limit(1).scalar_subquery(),
                                               keys.offset(size - 1).limit(1).scalar_subquery()))).one()
        if hi is not None:
            return lo, hi, size
        rest = sa.select(sa.func.min(self.key), sa.func.max(self.key), sa.func.count()).select_from(self.table)
        lo, hi, count = (await conn.execute(self._after(rest, after))).one()
        return lo, hi, count

    async def _commit(self) -> None:
        """Once the commit before it has succeeded, the batch's checkpoint written in its
        transaction and the transaction committed; where the backend ``overlaps_commits``
        both run while the next batch does, on the other connection."""
        batch, elapsed, started_at = self.batch, self.clock.elapsed(), self.point.rows_done
        await self._settle()
        self.point.key_done, self.point.rows_done = batch.hi, self.point.rows_done + batch.count
        self.point.seconds += elapsed
        await self.counting.join(self.point, self.progress)
        ending = self._end(self.conn, self.transaction, batch, self._row(), started_at)
        self.transaction, self.batch = None, None
        if self.backend.overlaps_commits:
            self.committing = asyncio.ensure_future(ending)
        else:
            await ending
        self.throttle.after(elapsed)
        if self.progress is not None:
            self.progress.advance(batch.count)

    async def _end(self, conn: AsyncConnection, transaction: AsyncTransaction, batch: Batch, row: dict[str, Any],
                   started_at: int) -> None:
        """The checkpoint ``row`` written over the one the batch started at, and the batch
        committed; rolled back when another process moved that checkpoint on (a claim lost)."""
        if not await self._save(conn, row, started_at):
            await transaction.rollback()
            raise BackfillStopped(f"{self.point.version}: the checkpoint of {self.point.name} was moved on by another "
                                  f"process; this batch (keys {batch.lo} to {batch.hi}) was rolled back")
        if self.backend.lazy_commit is not None:
            await conn.exec_driver_sql(self.backend.lazy_commit)
        await transaction.commit()

    async def _settle(self, ok: bool = True) -> None:
        """The last batch's commit ended; its error raised, or only logged when the step
        failed anyway (``ok`` false)."""
        committing, self.committing = self.committing, None
        if committing is None:
            return
        try:
            await committing
        except FAILURES:
            if ok:
                raise
            log.debug("%s: the commit of a batch of %s failed", self.point.version, self.point.name, exc_info=True)

    def _row(self) -> dict[str, Any]:
        """The checkpoint as it is now, stamped, to be written."""
        self.point.updated_at = now()
        return checkpoint_row(self.point)

    async def _save(self, conn: AsyncConnection, row: dict[str, Any], rows_done: int | None = None) -> bool:
        """The checkpoint ``row`` written; with ``rows_done``, only over the one the batch
        started at (False when another process moved it on: a claim lost, say)."""
        table = self.backend.backfill_table
        where = (table.c.version == self.point.version) & (table.c.name == self.point.name)
        if rows_done is not None:
            where &= table.c.rows_done == rows_done
        result = await conn.execute(sa.update(table).where(where).values(
            {k: v for k, v in row.items() if k not in ("version", "name")}))
        return rows_done is None or result.rowcount == 1

    async def close(self, ok: bool) -> None:
        """End the backfill: a batch the loop left (``break``) is committed when the step
        succeeded, rolled back (and done again next time) when it failed."""
        if self.conn is None:
            return
        try:
            await self._close_reader()
            await self.counting.stop()
            if self.transaction is not None:
                if ok and self.batch is not None:
                    await self._commit()
                else:
                    await self.transaction.rollback()
            await self._settle(ok)
        finally:
            if self.opening is not None:
                with contextlib.suppress(Exception):
                    self.conns.append(await self.opening)
                self.opening = None
            conns, self.conns, self.conn, self.transaction, self.batch = self.conns, [], None, None, None
            async with contextlib.AsyncExitStack() as stack:
                for conn in conns:
                    stack.push_async_callback(self._release, conn)

    async def _close_reader(self) -> None:
        """The read-ahead connection closed; one whose read was cut off is discarded."""
        cut = await self.ahead.stop()
        reader, self.reader = self.reader, None
        if reader is not None:
            await (reader.invalidate() if cut else self._release(reader))

    async def _release(self, conn: AsyncConnection) -> None:
        """A connection's timeouts reset and it is closed (after the rollback that one whose
        commit failed needs before it runs anything)."""
        try:
            if self.resets and not conn.invalidated:
                await conn.rollback()
                for reset in self.resets:
                    await conn.exec_driver_sql(reset)
                await conn.commit()
        finally:
            await conn.close()


async def read_checkpoints(backend: SQLBackend) -> list[Checkpoint]:
    """Every backfill's checkpoint; none where the table does not exist yet."""
    async with backend.reading() as conn:
        if not await conn.run_sync(lambda c: sa.inspect(c).has_table(tables.BACKFILL_TABLE, schema=backend.schema)):
            return []
        return [checkpoint_of(row) for row in await conn.execute(sa.select(backend.backfill_table))]
