"""The statement journal of a step the database cannot roll back (MySQL's DDL, a
``transactional = False`` migration), so that an interrupted one can be resumed.

After each statement Alembic's ``op`` sends for the step, its ``running`` history row is told
how many have completed, on a connection of its own in autocommit: the count is on disk
before the next statement starts, whatever kills the run. A resumed step runs the same
``def upgrade()`` again and skips that many statements. Only a plain ``op`` migration is
resumed: its statements are the same each time it runs, which code that reads the database
to decide what to do cannot promise. One window remains: a kill after a statement
completed and before its count was written makes the resumed step repeat that statement,
which then fails ("already exists") and leaves a ``failed`` record naming it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ncm_sql import deferred

if TYPE_CHECKING:
    from ncm_core.history import HistoryRecord
    from ncm_sql.backend import SQLBackend


class Journal:
    def __init__(self, connection: sa.Connection, table: sa.Table, record: HistoryRecord) -> None:
        self.connection = connection
        self.update = sa.update(table).where(table.c.version == record.version)
        self.record = record
        self.to_skip = record.statements_done or 0

    def skips(self) -> bool:
        """Whether the next statement completed before the step was interrupted."""
        if self.to_skip:
            self.to_skip -= 1
            return True
        return False

    def completed(self, construct: Any = None) -> None:
        self.record.statements_done = (self.record.statements_done or 0) + 1
        self.connection.execute(self.update.values(statements_done=self.record.statements_done))


class Batched(Journal):
    """The journal of a step sent as one multi-statement query (``strategies.multi_statement``):
    each statement's count follows it in the query, committed with it, so the server writes them in order, and
    when the query stops at a failing statement the counts stop with it. ``done`` is how many
    statements were queued (a resumed step's count starts at what its journal says); what
    completed is read back from the history row."""

    _MARK = "__ncm_done__"
    COMMIT = "COMMIT /* ncm: the statement journal's count */"
    """After a DDL statement's count (the DDL committed itself): a run killed while the server
    goes on with the query leaves no count behind what ran. A data change's count commits
    with the change, at the next DDL statement or the end, or is rolled back with it."""

    def __init__(self, batch: deferred.Batch, table: sa.Table, record: HistoryRecord, dialect: sa.Dialect) -> None:
        self.batch, self.record = batch, record
        self.to_skip = self.done = record.statements_done or 0
        self.update = deferred.literal(sa.update(table).where(table.c.version == record.version)
                                       .values(statements_done=sa.literal_column(self._MARK)), dialect)

    def completed(self, construct: Any = None) -> None:
        """A statement that ran on its own (the queue was sent before it) has its count sent at once."""
        alone = not self.batch.pending
        self.done += 1
        self.batch.pending.append(self.update.replace(self._MARK, str(self.done), 1))
        if is_ddl(construct):
            self.batch.pending.append(self.COMMIT)
        if alone:
            self.batch.flush()


DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)


def is_ddl(construct: Any) -> bool:
    """Whether an ``op`` statement is DDL, which MySQL commits by itself."""
    if isinstance(construct, sa.schema.ExecutableDDLElement):
        return True
    text = construct if isinstance(construct, str) else getattr(construct, "text", "")
    return bool(DDL.match(text))


@asynccontextmanager
async def kept(backend: SQLBackend, record: HistoryRecord) -> AsyncIterator[Journal]:
    """A journal for ``record``'s step, on an autocommit connection held while the step runs."""
    async with backend.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield Journal(conn.sync_connection, backend.history_table, record)


class JournalingImpl:
    """Mixed into Alembic's DDL impl (see :mod:`ncm_sql.alembic_impl`): while ``journal`` is
    set, each statement ``op`` sends is skipped if it completed before, else journaled."""

    journal: Journal | None = None

    def _exec(self, construct: Any, execution_options: Mapping[str, Any] | None = None,
              multiparams: Sequence[Mapping[str, Any]] | None = None,
              params: Mapping[str, Any] = sa.util.immutabledict()) -> Any:
        journal = self.journal
        if journal is not None and journal.skips():
            return None
        result = super()._exec(construct, execution_options, multiparams, params)  # type: ignore[misc]
        if journal is not None:
            journal.completed(construct)
        return result
