"""Deferred DDL: a plain migration's statements reach the database in one go.

Alembic's ``op`` executes each statement when it is called. For a migration that creates a
table and an index that is, with the savepoint and the history row around it, five trips
through SQLAlchemy and the driver (on aiosqlite, fifteen hand-overs to its worker thread),
where one is enough. So, while a plain ``def upgrade()`` runs, statements that need no
parameters and whose result nobody can see (DDL, ``op.execute("...")``) are queued and sent
together with the history row when the migration ends. Anything else that reaches the
connection first (a query of the migration's own, a reflection for batch mode, a commit)
sends the queue before it, so the database sees the same statements in the same order.

The price is that a failing queued statement is reported when the queue is sent, not where
``op`` was called. Where that could change what the migration does (it caught the error),
the backend rolls back to the migration's savepoint and runs it again the usual way, one
statement at a time. Where DDL commits implicitly (MySQL) there is no savepoint: the queue is
one multi-statement query with the statement journal's counts in it, and a failed step runs
again skipping what the journal says completed (``ncm_sql.strategies.multi_statement``). The queueing itself
overrides a private method of Alembic's, so it lives in :mod:`ncm_sql.alembic_impl`, which
also says when this Alembic does not allow it (then nothing is deferred).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from ncm_sql.alembic_impl import DeferringImpl

SAVEPOINT = "ncm_step"


class Batch:
    """The queued statements of one migration, and what became of sending them."""

    def __init__(self, send: Callable[[list[str]], None],
                 check: Callable[[list[str]], None] | None = None, savepoint: bool = True,
                 accepts: Callable[[str], bool] = lambda statement: True) -> None:
        self.pending: list[str] = [f"SAVEPOINT {SAVEPOINT}"] if savepoint else []
        self.accepts = accepts
        """Whether a statement may be queued; one that may not runs when ``op`` calls it."""
        self._send = send
        self._check = check
        """Refuses statements before any is sent: its error is the migration's, not the batch's."""
        self.sent = False
        """Whether anything (so the savepoint) may have reached the database."""
        self.error: BaseException | None = None
        """The first failure of queued SQL; the migration may have caught it, ncm does not."""
        self.own_transaction = False
        """Whether the batch went as a transaction of its own, which its sender ended."""

    def flush(self, alone: Callable[[list[str]], None] | None = None) -> None:
        """Send what is queued. ``alone``, for a migration's last flush, sends it as its own
        transaction, commit included, if nothing of the migration was sent before it."""
        if not self.pending or self.error is not None:
            return
        if self._check is not None:
            self._check(self.pending)
        statements, self.pending = self.pending, []
        self.own_transaction, self.sent = alone is not None and not self.sent, True
        try:
            (alone if self.own_transaction else self._send)(statements)
        except Exception as exc:
            self.error = exc
            raise


def flush_before_use(sync_connection: sa.Connection, impl: DeferringImpl) -> None:
    """Send the queue before anything else the connection does while a migration runs."""

    def flush(*_args: Any, **_kwargs: Any) -> None:
        if impl.batch is not None:
            impl.batch.flush()

    for name in ("before_cursor_execute", "commit", "rollback", "savepoint", "rollback_savepoint",
                 "release_savepoint"):
        sa.event.listen(sync_connection, name, flush)


def literal(statement: sa.Executable, dialect: sa.Dialect) -> str:
    """A history statement with its values inline, so it travels in the batch. The
    connection's dialect knows how this server wants quotes and backslashes escaped."""
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


class LiteralInsert:
    """``literal(insert(table).values(row))`` at a fraction of the cost: the statement is
    compiled once per dialect and each row's values rendered by that compilation's own
    literal renderer, which escapes as the server wants (MySQL's backslashes included).
    Compiling the INSERT anew was a third of ncm's CPU per migration."""

    _MARK = "__ncm_value_{}__"

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        columns = list(table.c)
        marks = {c.name: sa.literal_column(self._MARK.format(i)) for i, c in enumerate(columns)}
        self.compiled = sa.insert(table).inline().values(marks).compile(dialect=dialect)
        self.columns = [(c.name, c.type) for c in columns]
        self.parts = re.split(r"__ncm_value_\d+__", str(self.compiled))

    def render(self, row: Mapping[str, Any]) -> str:
        values = ["NULL" if row[name] is None else self.compiled.render_literal_value(row[name], type_)
                  for name, type_ in self.columns]
        return "".join(part + value for part, value in zip(self.parts, [*values, ""], strict=True))
