"""What a SQL migration receives: a session for the class form, a context for functions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ncm_core.backfill import DEFAULT_SIZE
from ncm_core.progress import progress

if TYPE_CHECKING:
    from ncm_core.migration import Migration
    from ncm_sql.backend import SQLBackend
    from ncm_sql.backfill import SQLBackfill
    from ncm_sql.journal import Journal


def statement(sql: Any) -> Any:
    """Plain SQL strings (as the spec writes them) become text(); statements pass through."""
    return sa.text(sql) if isinstance(sql, str) else sql


class SQLSession:
    """``await session.execute("SELECT ...", {...})`` returning a SQLAlchemy result."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def execute(self, sql: Any, params: Any = None) -> sa.Result[Any]:
        return await self.connection.execute(statement(sql), params)

    async def scalar(self, sql: Any, params: Any = None) -> Any:
        return (await self.execute(sql, params)).scalar()


class SQLStepContext:
    """``ctx`` of ``async def upgrade(ctx)``: connection, execute, batches, progress."""

    def __init__(self, backend: SQLBackend, connection: AsyncConnection, migration: Migration,
                 journal: Journal | None = None) -> None:
        self.backend = backend
        self.journal = journal
        self.connection = connection
        self.migration = migration
        self.session = SQLSession(connection)
        self.config = backend.config
        self.dialect = connection.dialect.name
        self.progress = progress
        self.backfills: list[SQLBackfill] = []

    async def execute(self, sql: Any, params: Any = None) -> sa.Result[Any]:
        return await self.session.execute(sql, params)

    def backfill(self, table: str, key: str = "id", size: int = DEFAULT_SIZE, name: str | None = None) -> SQLBackfill:
        """Batches of ``table`` by ranges of ``key``, each committed with its checkpoint on a
        connection of its own (ncm_sql.backfill); ``name`` tells two backfills of one table apart."""
        from ncm_sql.backfill import SQLBackfill

        self.backfills.append(SQLBackfill(self, table, key, size, name))
        return self.backfills[-1]

    async def close_backfills(self, ok: bool) -> None:
        """After the step: what a backfill left open is committed if the step succeeded."""
        for backfill in self.backfills:
            await backfill.close(ok)

    async def batches(self, table: str, columns: Sequence[str], key: str = "id",
                      size: int = 1000) -> AsyncIterator[list[sa.Row[Any]]]:
        """Rows of ``table`` in ``key`` order, ``size`` at a time, read by key ranges (keyset
        pagination) so that memory stays flat and each read is an index range scan."""
        tbl = sa.table(table, *(sa.column(c) for c in {*columns, key}), schema=self.backend.schema)
        query = sa.select(*(tbl.c[c] for c in columns)).order_by(tbl.c[key]).limit(size)
        position = columns.index(key) if key in columns else None
        last = None
        while True:
            page = query if last is None else query.where(tbl.c[key] > last)
            if position is None:
                page = page.add_columns(tbl.c[key])
            rows = list(await self.connection.execute(page))
            if not rows:
                return
            yield rows
            last = rows[-1][position if position is not None else -1]

    async def run_sync(self, fn: Callable[..., Any], wants_ctx: bool = False) -> Any:
        """Run a plain ``def upgrade()`` with Alembic's ``op`` bound to this connection."""
        def call(sync_connection: sa.Connection) -> Any:
            with self.backend.operations(sync_connection, self.journal):
                return fn(self) if wants_ctx else fn()

        return await self.connection.run_sync(call)


class _NoRows:
    """The result a dry run hands back: nothing was executed, so there is nothing to read."""

    def scalar(self) -> None:
        return None

    def scalar_one(self) -> int:
        return 0

    def first(self) -> None:
        return None

    def all(self) -> list[Any]:
        return []

    fetchall = all

    def __iter__(self):
        return iter(())


class RecordingContext:
    """A step context that records each statement instead of executing it (dry runs)."""

    def __init__(self, backend: SQLBackend, migration: Migration) -> None:
        self.backend = backend
        self.migration = migration
        self.config = backend.config
        self.dialect = backend.dialect_name
        self.session = self
        self.statements: list[str] = []
        self.progress = progress

    async def execute(self, sql: Any, params: Any = None) -> _NoRows:
        text = str(statement(sql).compile(dialect=self.backend.dialect()))
        self.statements.append(f"{text}  -- params: {params!r}" if params else text)
        return _NoRows()

    async def scalar(self, sql: Any, params: Any = None) -> None:
        await self.execute(sql, params)

    async def batches(self, *args: Any, **kwargs: Any) -> AsyncIterator[list[Any]]:
        return
        yield

    def backfill(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """One batch, whose statements are recorded: a dry run shows what each batch runs."""
        from ncm_sql.backfill import preview

        return preview(self.execute)

    async def run_sync(self, fn: Callable[..., Any], wants_ctx: bool = False) -> Any:
        self.statements.extend(self.backend.offline_sql(fn, self if wants_ctx else None))
