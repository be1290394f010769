"""SQLAlchemy's asyncpg adapter, reached into: the one place ncm_postgres relies on more than
the public APIs of SQLAlchemy and asyncpg. Written against SQLAlchemy 2.1.9
(``sqlalchemy.dialects.postgresql.asyncpg``) and asyncpg 0.32.0.

asyncpg prepares every statement before running it: two round trips, where DDL and the
savepoints around each migration (no parameters, no rows) need one. asyncpg's public
``Connection.execute(sql)`` sends SQL with the simple query protocol, as psql does, and
several statements at once. But it must run as SQLAlchemy's adapter runs its own statements:
under the adapter's ``_execute_mutex``, inside the transaction it opens lazily
(``_transaction``, ``_start_transaction``), on the asyncpg connection it keeps in
``_connection``, with errors translated by ``_handle_exception``; a cursor reaches the adapter
as ``_adapt_connection``. ``AVAILABLE`` says, checked once at import, whether they are all
there. Where they are not, the fast paths decline and SQLAlchemy executes as usual. A
migration committed alone goes further: ``BEGIN``, its batch and ``COMMIT`` as one query,
with the adapter's transaction left unopened, so that its commit has nothing left to send.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, AsyncAdapt_asyncpg_cursor
from sqlalchemy.util.concurrency import await_

_ADAPTER_ATTRIBUTES = ("_execute_mutex", "_transaction", "_start_transaction", "_connection", "_handle_exception")
_SAVEPOINTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def has_adapter_internals(adapter_class: type = AsyncAdapt_asyncpg_connection,
                          cursor_class: type = AsyncAdapt_asyncpg_cursor) -> bool:
    """Whether SQLAlchemy's asyncpg adapter and its cursor have what the fast paths use."""
    return all(hasattr(adapter_class, name) for name in _ADAPTER_ATTRIBUTES) and hasattr(
        cursor_class, "_adapt_connection")


AVAILABLE = has_adapter_internals()


def ddl_in_one_round_trip(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """A ``do_execute`` listener: DDL and savepoints go with the simple query protocol, one
    round trip instead of two (on a 500-migration run, thousands fewer). None lets SQLAlchemy
    execute the statement itself: anything with parameters, or where AVAILABLE is False."""
    if not AVAILABLE or parameters or not (context.isddl or statement.startswith(_SAVEPOINTS)):
        return None
    await_(_simple_execute(cursor._adapt_connection, statement))
    return True


def send_batch(sync_conn: Any, statements: list[str]) -> bool:
    """``statements`` as one simple-protocol query: one round trip for a whole migration.
    False (nothing sent) where AVAILABLE is False."""
    if not AVAILABLE:
        return False
    await_(_simple_execute(sync_conn.connection.dbapi_connection, ";\n".join(statements)))
    return True


def own_transaction_sender(sync_conn: Any) -> Callable[[list[str]], None] | None:
    """A sender of ``statements`` as a transaction of their own, ``BEGIN`` and ``COMMIT`` in
    the same query, the adapter's transaction left unopened (its commit then has nothing to
    do); None where that is not the transaction the adapter would open: one is open already,
    or it would be read-only, deferrable or autocommit."""
    adapted = sync_conn.connection.dbapi_connection
    if (not AVAILABLE or adapted._transaction is not None or getattr(adapted, "readonly", True)
            or getattr(adapted, "deferrable", True)):
        return None
    level = adapted.isolation_level
    if level == "autocommit":
        return None
    begin = f"BEGIN ISOLATION LEVEL {level.replace('_', ' ').upper()}" if level else "BEGIN"

    def send(statements: list[str]) -> None:
        await_(_own_transaction(adapted, ";\n".join([begin, *statements, "COMMIT"])))

    return send


async def _own_transaction(adapted: Any, statement: str) -> None:
    """A failed statement leaves the transaction aborted and a cancelled one may leave it open:
    either way it is rolled back (asyncpg waits for a cancelled query's end first)."""
    async with adapted._execute_mutex:
        try:
            await adapted._connection.execute(statement)
        except BaseException as error:
            with contextlib.suppress(Exception):
                await adapted._connection.execute("ROLLBACK")
            if isinstance(error, Exception):
                adapted._handle_exception(error)
            raise


async def _simple_execute(adapted: Any, statement: str) -> None:
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            await adapted._connection.execute(statement)
        except Exception as error:
            adapted._handle_exception(error)
