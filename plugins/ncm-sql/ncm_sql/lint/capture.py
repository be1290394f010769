"""A SQL migration's operations, captured without a database: its up step runs with Alembic's
``op`` in offline mode, and each operation object ``op`` builds (``DropTableOp``,
``AlterColumnOp`` ...) is recorded with the line of its call before Alembic renders it to a
buffer nobody reads. Raw SQL (``op.execute``, ``ctx.execute``, SQL files) goes to sqlglot.

This relies on Alembic 1.20.1's ``Operations.invoke`` (every ``op`` call ends in it) and on
``_install_proxy``/``_remove_proxy``, which ``Operations.context`` uses to make ``op`` the
given object; both are old and stable, and ``alembic_impl`` is where ncm's other reliance on
Alembic's internals is written down.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ncm_core.lint import calls
from ncm_core.lint.operations import Operation
from ncm_core.progress import progress
from ncm_core.step import StepForm
from ncm_sql.lint import convert, statements

if TYPE_CHECKING:
    from ncm_core.migration import Migration
    from ncm_sql.backend import SQLBackend


class Capture:
    """The operations of one migration, in the order its up step makes them."""

    def __init__(self, backend: SQLBackend, migration: Migration) -> None:
        self.backend = backend
        self.migration = migration
        self.operations: list[Operation] = []
        self.rendered: list[tuple[str, int | None]] = []
        """Each statement Alembic rendered, with the line of the ``op`` call it came from."""

    def sql(self, text: str, line: int | None) -> None:
        self.operations += statements.read(text, self.backend.dialect_name, line)

    def alembic(self, operation: Any) -> None:
        line = calls.caller_line(self.migration.path)
        if type(operation).__name__ == "ExecuteSQLOp":
            self.sql(convert.sql_text(operation.sqltext, self.backend.dialect()), line)
            return
        self.operations += convert.operations(operation, self.backend.dialect(), line)

    @contextmanager
    def recording_op(self) -> Iterator[Any]:
        """Alembic's ``op`` in offline mode, each of its operations recorded here first."""
        from alembic.operations import Operations

        buffer = io.StringIO()
        context = self.backend.migration_context(
            dialect_name=self.backend.dialect_name,
            opts={**self.backend.alembic_options(), "as_sql": True, "output_buffer": buffer, "literal_binds": True})
        op = Operations(context)
        invoke = op.invoke
        batch_alter_table = op.batch_alter_table

        def recorded(operation: Any) -> Any:
            self.alembic(operation)
            start = buffer.tell()
            try:
                return invoke(operation)
            finally:
                line = calls.caller_line(self.migration.path)
                text = buffer.getvalue()[start:]
                self.rendered += [(s.strip(), line) for s in text.split(";\n") if s.strip()]

        @contextmanager
        def recorded_batch(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with batch_alter_table(*args, **kwargs) as batch:
                batch.invoke = self.alembic  # recorded only: a batch's table may need reflecting
                yield batch

        op.invoke = recorded
        op.batch_alter_table = recorded_batch
        op._install_proxy()
        try:
            yield op
        finally:
            op._remove_proxy()

    def run_plain(self, fn: Callable[..., Any], ctx: Any = None) -> Any:
        with self.recording_op():
            return fn(ctx) if ctx is not None else fn()

    def statements(self) -> list[tuple[str, int | None]]:
        """The up step's SQL, statement by statement with its line, for ``ncm lint --trace``:
        only a SQL file or a plain ``def upgrade()`` has SQL that is known before it runs."""
        step = self.migration.step("up")
        if step.form is StepForm.SQL:
            return [(text, calls.statement_line(self.migration.path, text)) for text in step.statements]
        if step.form is not StepForm.PLAIN:
            raise ValueError(f"its upgrade is written as `{step.form.value}`, which may read rows and decide")
        self.run_plain(step.fn)
        return self.rendered

    async def run(self) -> list[Operation]:
        step = self.migration.step("up")
        if step.form is StepForm.SQL:
            for text in step.statements:
                self.sql(text, calls.statement_line(self.migration.path, text))
        elif step.form is StepForm.PLAIN:
            self.run_plain(step.fn)
        else:
            await self.migration.run("up", LintContext(self))
        return self.operations


class LintContext:
    """``ctx`` (and the class form's ``session``) for a step that is not plain ``op`` calls:
    its SQL is read, nothing runs, and every read returns no rows."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self.backend = capture.backend
        self.migration = capture.migration
        self.config = capture.backend.config
        self.dialect = capture.backend.dialect_name
        self.session = self
        self.progress = progress

    async def execute(self, sql: Any, params: Any = None) -> Any:
        from ncm_sql.context import _NoRows

        self.capture.sql(convert.sql_text(sql, self.backend.dialect()), calls.caller_line(self.migration.path))
        return _NoRows()

    async def scalar(self, sql: Any, params: Any = None) -> None:
        await self.execute(sql, params)

    async def batches(self, *args: Any, **kwargs: Any) -> AsyncIterator[list[Any]]:
        return
        yield

    def backfill(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """One batch whose statements are captured, so lint reads what each batch runs."""
        from ncm_sql.backfill import preview

        return preview(self.execute)

    async def run_sync(self, fn: Callable[..., Any], wants_ctx: bool = False) -> Any:
        return self.capture.run_plain(fn, self if wants_ctx else None)


def live_schema(connection: Any, schema: str | None) -> dict[str, dict[str, str]]:
    """Every table of ``schema`` with its columns' types, as the dialect writes them."""
    import sqlalchemy as sa

    inspector = sa.inspect(connection)
    return {table: {c["name"]: str(c["type"].compile(dialect=connection.dialect))
                    for c in inspector.get_columns(table, schema=schema)}
            for table in inspector.get_table_names(schema=schema)}
