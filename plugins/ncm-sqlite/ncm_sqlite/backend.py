"""SQLite through aiosqlite: transactional DDL and savepoints, a file lock, backups through
SQLite's online backup API.

ALTERs that SQLite cannot do run through Alembic's batch mode, as Alembic users write them:
``with op.batch_alter_table("users") as batch: batch.alter_column(...)``.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, closing, nullcontext
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from sqlalchemy import event

from ncm_core import scratch
from ncm_core.errors import BackupError, DatabaseRefused, DatabaseUnavailable
from ncm_core.locking import wait_for
from ncm_sql import SQLBackend
from ncm_sql.backend import READ_ONLY
from ncm_sqlite import SCHEMES, aiosqlite_worker, sidefiles


class SQLiteBackend(SQLBackend):
    PLUGIN_NAME = "sqlite"
    DATABASE_TYPE = "sqlite"
    URL_SCHEMES = SCHEMES
    DRIVER = "sqlite+aiosqlite"
    STARTER_URL = "sqlite+aiosqlite:///app.db"
    rehearse_dry_run = True  # embedded and file-locked: a rolled-back rehearsal is exact and cheap
    batches_ddl = True
    reads_ahead = overlaps_commits = False
    default_transaction_mode = "run"
    """A migration locks the whole file whatever the mode, so a run is one transaction: one
    commit (one fsync) for the run rather than one per migration."""
    script_header = (".bail on",)
    """sqlite3 stops at the first failing statement, as a run does, instead of going on."""
    _lock_fd: int | None = None
    """The lock file while this process holds the lock, for :meth:`note_step` to write to."""
    _holder = ""
    read_only_reason = ("the database is read-only: the URL opens it with mode=ro, or the file, its directory "
                        "or its filesystem cannot be written")

    def refusal(self, exc: BaseException) -> str | None:
        """SQLITE_READONLY (any of its extended codes); SQLite has no privileges."""
        code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
        return READ_ONLY if code is not None and code & 0xFF == sqlite3.SQLITE_READONLY else None

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
            options = conn.get_execution_options()
            if options.get("isolation_level") != "AUTOCOMMIT":
                conn.exec_driver_sql("BEGIN" if options.get("ncm_reads") else "BEGIN IMMEDIATE")

    def send_batch(self, sync_conn: Any, statements: list[str]) -> None:
        """The whole batch in one hand-over to aiosqlite's worker thread, where SQLAlchemy's
        adapter makes three per statement (statement by statement where aiosqlite lacks what
        that needs: ncm_sqlite.aiosqlite_worker)."""
        if not aiosqlite_worker.send_batch(sync_conn, statements):
            super().send_batch(sync_conn, statements)

    @property
    def path(self) -> Path | None:
        """The database file; for a URI filename (``sqlite:///file:app.db?mode=ro&uri=true``)
        the file the URI names."""
        url = self.sqlalchemy_url()
        database = url.database
        if database in (None, "", ":memory:"):
            return None
        if url.query.get("uri") == "true" and database.startswith("file:"):
            return Path(unquote(urlsplit(database).path))
        return Path(database)

    def label(self) -> str:
        return str(self.path) if self.path is not None else ":memory:"

    async def probe(self) -> None:
        """Open the file with the standard library, as the driver will (a URI filename with
        ``mode=ro`` included), not through the engine: aiosqlite's worker thread outlives a
        failed open and prints a traceback at exit, where one line is what a user should see;
        and the engine's first statement would begin IMMEDIATE, waiting on a running
        migration's write lock and failing as "database is locked" (exit 4) where the run's
        wait for the migration lock (exit 5, naming the holder) is meant.

        Every command also removes the scratch copies a killed backup or restore left beside
        the database (:data:`ncm_sqlite.sidefiles.SCRATCH`); those of one still running are locked and kept."""
        if self.path is None:
            return
        args, kwargs = self.dialect().create_connect_args(self.sqlalchemy_url())
        try:
            await asyncio.to_thread(lambda: sqlite3.connect(*args, **kwargs).close())
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot connect to {self.config.safe_url}: {type(exc).__name__}: {exc}") from None
        sidefiles.sweep(self.path)

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
        async with self._flocked(sidefiles.lock_path(self.path), self.config.lock_timeout, "the migration lock") as fd:
            self._holder = sidefiles.lines(self.path)[0]
            self._lock_fd = fd
            try:
                yield
            finally:
                self._lock_fd = None

    def backfill_claim(self, version: str, timeout: float) -> AbstractAsyncContextManager[Any]:
        """A flock on ``<database>.ncm-backfill-<version>``, released by the OS if the worker dies."""
        if self.path is None:
            return nullcontext()
        return self._flocked(sidefiles.claim_path(self.path, version), timeout, f"the backfill of {version}")

    async def backfill_claimant(self, version: str) -> str | None:
        return sidefiles.holder(self.path, sidefiles.claim_path(self.path, version)) if self.path else None

    @asynccontextmanager
    async def _flocked(self, path: Path, timeout: float, what: str) -> AsyncIterator[int]:
        """An exclusive flock on ``path`` for the block, with this process's pid, host and start
        time written in it for ``status`` and a waiting run to name."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseRefused(f"cannot take {what}: cannot open {path}: {exc.strerror} "
                                  "(ncm writes its lock file beside the database)") from None
        try:
            async def take() -> bool:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    return False

            async def holder() -> str:
                return sidefiles.lines(self.path, path)[0]

            await wait_for(take, timeout, str(self.path), holder, what)
            sidefiles.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}")
            try:
                yield fd
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def note_step(self, version: str, direction: str) -> None:
        """A second line in the lock file: the step the run is on. SQLite runs every step in
        the run's one transaction, so until it commits nothing else tells ``ncm status``."""
        if self._lock_fd is not None:
            sidefiles.write(self._lock_fd, f"{self._holder}\n{'applying' if direction == 'up' else 'reverting'} "
                                            f"{version}")

    async def noted_step(self) -> str | None:
        return sidefiles.noted_step(self.path) if self.path is not None else None

    async def lock_holder(self) -> str | None:
        """What the holder wrote in the lock file (pid, host, since), while the lock is held."""
        return sidefiles.holder(self.path) if self.path is not None else None

    # -- backup and restore ----------------------------------------------------------
    def _file(self, doing: str) -> Path:
        if self.path is None:
            raise BackupError(f"cannot {doing} an in-memory SQLite database")
        return self.path

    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """Copy the database with the online backup API, then stream the copy into ``out``.

        The backup API copies a consistent snapshot while other connections keep reading
        (and, in WAL mode, writing); the copy goes to a temporary file beside the database
        so it never has to fit in memory.
        """
        path = self._file("back up")
        await asyncio.to_thread(_dump, path, out, self.config.lock_timeout)
        return {"format": "sqlite3 database file"}

    async def restore(self, source: BinaryIO) -> None:
        """Write the backup to a temporary file, check it is a SQLite database, then copy it
        into the live database with the backup API, which replaces every page in one
        transaction: other connections see the old database or the new one, never a mix,
        and a process killed during the copy leaves a hot journal that SQLite rolls back at
        the next open. The temporary file is removed by the next command if ncm is killed."""
        path = self._file("restore")
        if self.engine is not None:
            await self.engine.dispose()
        await asyncio.to_thread(_restore, source, path, self.config.lock_timeout)
        self._tables_ready = False


_COPY_SIZE = 1 << 20


def _dump(path: Path, out: BinaryIO, timeout: float) -> None:
    with scratch.scratch_dir(path.parent, sidefiles.SCRATCH[0]) as tmp:
        copy = tmp / path.name
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)) as src, \
                closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        with open(copy, "rb") as f:
            shutil.copyfileobj(f, out, _COPY_SIZE)


def _restore(source: BinaryIO, path: Path, timeout: float) -> None:
    with scratch.scratch_dir(path.parent, sidefiles.SCRATCH[1]) as tmp:
        copy = tmp / path.name
        with open(copy, "wb") as f:
            shutil.copyfileobj(source, f, _COPY_SIZE)
        with closing(sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)) as src:
            try:
                src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"the backup is not a SQLite database ({exc})") from None
            with closing(sqlite3.connect(path, timeout=timeout)) as dst:
                src.backup(dst)
