"""A step must not end the transaction ncm runs it in.

ncm commits a migration together with its history row. A migration that sends COMMIT or
ROLLBACK itself splits the two: after a ROLLBACK the history would record work that was
undone, after a COMMIT a later failure could no longer undo it. So while a step's own code
runs, such a statement is refused before it reaches the database, and fails the migration.
Steps marked ``transactional = False`` run on an autocommit connection and are not guarded.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ncm_core.errors import MigrationFailed

if TYPE_CHECKING:
    from ncm_core.migration import Migration

_CONTROL = re.compile(r"^\s*(COMMIT|END|ROLLBACK(?!\s+(?:WORK\s+|TRANSACTION\s+)?TO\b))\b", re.I)


class TransactionGuard:
    """Listens on one connection for its lifetime; armed only while a step's code runs."""

    def __init__(self, sync_conn: sa.Connection) -> None:
        self.migration: Migration | None = None
        sa.event.listen(sync_conn, "before_cursor_execute", self._before_execute)

    @contextmanager
    def armed(self, migration: Migration) -> Iterator[None]:
        self.migration = migration
        try:
            yield
        finally:
            self.migration = None

    def check(self, statements: Iterable[str]) -> None:
        """Refuse the first transaction-control statement among ``statements``."""
        if self.migration is None:
            return
        for statement in statements:
            match = _CONTROL.match(statement)
            if match:
                raise MigrationFailed(
                    self.migration.version,
                    f"{self.migration.path}: runs {match.group(1).upper()} itself; ncm commits each migration "
                    "together with its history row: remove it (or set transactional = False)",
                    " ".join(statement.split())[:200], location=True)

    def _before_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.check([statement])


_guards: weakref.WeakKeyDictionary[sa.Connection, TransactionGuard] = weakref.WeakKeyDictionary()


def guard(sync_conn: sa.Connection) -> TransactionGuard:
    found = _guards.get(sync_conn)
    if found is None:
        found = _guards[sync_conn] = TransactionGuard(sync_conn)
    return found
