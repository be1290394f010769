"""aiosqlite's worker thread, reached directly: the one place ncm_sqlite relies on more than
the public APIs of aiosqlite and SQLAlchemy. Written against aiosqlite 0.22.1 and
SQLAlchemy 2.1.9.

SQLAlchemy's aiosqlite adapter hands each statement to aiosqlite's worker thread three times;
a migration's deferred batch (:mod:`ncm_sql.deferred`) needs one hand-over. aiosqlite has no
public call for "run this function on the connection's thread": ``Connection._execute`` is
its queue (SQLAlchemy's adapter queues work there too) and ``Connection._conn`` its sqlite3
connection; SQLAlchemy's adapted connection keeps the aiosqlite one in ``_connection``.
``AVAILABLE`` says, checked once at import, whether all three are there. Where they are not,
``send_batch`` declines and the backend runs the statements one by one through SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.util.concurrency import await_


def has_worker_queue(worker_class: type = aiosqlite.Connection,
                     adapter_class: type = AsyncAdapt_aiosqlite_connection) -> bool:
    """Whether aiosqlite's connection has ``_execute`` and ``_conn``, and SQLAlchemy's adapter
    ``_connection``."""
    return (callable(getattr(worker_class, "_execute", None)) and hasattr(worker_class, "_conn")
            and hasattr(adapter_class, "_connection"))


AVAILABLE = has_worker_queue()


def send_batch(sync_conn: Any, statements: list[str]) -> bool:
    """Run ``statements`` in order in one hand-over to the worker thread; False (nothing
    sent) where this aiosqlite or SQLAlchemy lacks what that needs."""
    if not AVAILABLE:
        return False
    worker = sync_conn.connection.dbapi_connection._connection
    await_(worker._execute(_execute_each, worker._conn, statements))
    return True


def _execute_each(connection: sqlite3.Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.execute(statement)
