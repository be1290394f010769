"""SQLite through aiosqlite: transactional DDL and savepoints, a file lock.

ALTERs that SQLite cannot do run through Alembic's batch mode, as Alembic users write them:
``with op.batch_alter_table("users") as batch: batch.alter_column(...)``.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from ncm_core.errors import LockTimeout
from ncm_sql import SQLBackend


class SQLiteBackend(SQLBackend):
    PLUGIN_NAME = "sqlite"
    DATABASE_TYPE = "sqlite"
    URL_SCHEMES = ("sqlite+aiosqlite", "sqlite")
    DRIVER = "sqlite+aiosqlite"

    def engine_options(self) -> dict[str, Any]:
        return {"connect_args": {"timeout": self.config.lock_timeout}}

    def prepare_engine(self, engine: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and skips it for DDL; take it over
        # (SQLAlchemy's documented recipe) so DDL, savepoints and history commit together.
        @event.listens_for(engine.sync_engine, "connect")
        def _autocommit_driver(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    @property
    def path(self) -> Path | None:
        database = self.sqlalchemy_url().database
        return None if database in (None, "", ":memory:") else Path(database)

    async def server_info(self) -> dict[str, str]:
        info = await super().server_info()
        info["database"] = str(self.path.resolve()) if self.path else ":memory:"
        return info

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """An exclusive flock on ``<database>.ncm-lock``: held for the whole run, including
        steps that run outside a transaction, and released by the OS if the process dies."""
        if self.path is None:
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".ncm-lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.config.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = lock_path.read_text(errors="replace").strip() or "another process"
                        raise LockTimeout(
                            f"{self.path}: the migration lock is held by {holder}; "
                            f"gave up after {self.config.lock_timeout:g} s"
                        ) from None
                    await asyncio.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
