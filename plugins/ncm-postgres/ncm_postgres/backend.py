"""PostgreSQL through asyncpg: transactional DDL, a session advisory lock, a configurable schema.

PostgreSQL runs DDL inside transactions, so ``SQLBackend``'s default (one transaction per run,
a savepoint per migration) makes each migration and its history row commit together.
``transactional = False`` migrations (``CREATE INDEX CONCURRENTLY``) run on an autocommit
connection; the lock lives on its own connection so that it survives them. Backups are
``pg_dump -Fc`` archives (:mod:`ncm_postgres.dump`).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, BinaryIO

import sqlalchemy as sa

from ncm_core.errors import BackupError
from ncm_core.locking import wait_for
from ncm_postgres import SCHEMES, asyncpg_adapter
from ncm_postgres import dump as pgdump
from ncm_postgres.dump import quote_ident
from ncm_sql import SQLBackend
from ncm_sql.clitools import describe, dump_to, load_from
from ncm_sql.sqlfiles import read_sql

def lock_key(database: str, schema: str | None) -> int:
    """The advisory lock's 64-bit key: one lock per database and schema, same on every machine."""
    digest = hashlib.sha256(f"ncm:{database}:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresBackend(SQLBackend):
    PLUGIN_NAME = "postgresql"
    DATABASE_TYPE = "postgresql"
    URL_SCHEMES = SCHEMES
    DRIVER = "postgresql+asyncpg"
    defers_ddl = True

    @property
    def schema(self) -> str | None:
        return self.config.section("postgresql").schema_name

    def send_batch(self, sync_conn: Any, statements: list[str]) -> None:
        """The batch as one simple-protocol query: one round trip for the whole migration
        (statement by statement where SQLAlchemy's adapter lacks what that needs)."""
        if not asyncpg_adapter.send_batch(sync_conn, statements):
            super().send_batch(sync_conn, statements)

    def engine_options(self) -> dict[str, Any]:
        """asyncpg's own connect timeout, and the schema as every connection's search_path
        (server_settings are sent in the startup packet: no extra round trip)."""
        settings = {"application_name": "ncm"}
        if self.schema:
            settings["search_path"] = quote_ident(self.schema)
        return {"connect_args": {"timeout": self.config.connect_timeout, "server_settings": settings}}

    def prepare_engine(self, engine: Any) -> None:
        sa.event.listen(engine.sync_engine, "do_execute", asyncpg_adapter.ddl_in_one_round_trip)

    async def _ensure_tables(self) -> None:
        """Create the configured schema before the history table that lives in it."""
        schema = self.schema
        if schema and not self._tables_ready:
            async with self.engine.begin() as conn:
                await conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        await super()._ensure_tables()

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """A session-level advisory lock on a connection of its own, held for the whole run.

        Session-level (not transaction-level) so that it outlives the commits around
        non-transactional steps; released explicitly, and by the server if this process dies.
        """
        key = lock_key(self.sqlalchemy_url().database or "", self.schema)
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")

            async def take() -> bool:
                return bool(await conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))

            await wait_for(take, self.config.lock_timeout, self._where(), lambda: self._holder(conn, key))
            me = f"ncm pid {os.getpid()} on {socket.gethostname()}"[:63]
            await conn.execute(sa.text("SELECT set_config('application_name', :me, false)"), {"me": me})
            try:
                yield
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    def _where(self) -> str:
        schema = self.schema
        return f"{self.sqlalchemy_url().database}" + (f" (schema {schema})" if schema else "")

    async def _holder(self, conn: Any, key: int) -> str | None:
        row = (await conn.execute(sa.text(read_sql("ncm_postgres", "lock_holder.sql")), {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF})).first()
        if row is None:
            return None
        since = row.state_change.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if row.state_change else "?"
        return (f"{row.application_name or 'a session'} (server pid {row.pid}, user {row.usename}, "
                f"client {row.client or 'local socket'}, since {since})")

    # -- backup and restore ----------------------------------------------------------
    async def _client(self) -> pgdump.Client:
        async with self.engine.connect() as conn:
            version_num = int(await conn.scalar(sa.text("SHOW server_version_num")))
        return await pgdump.client(version_num)

    def _environment(self) -> dict[str, str]:
        return pgdump.environment(self.sqlalchemy_url(), self.config.connect_timeout)

    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """``pg_dump -Fc`` of the database (or of the ``[postgresql]`` schema), streamed into ``out``."""
        tools = await self._client()
        schema = self.schema
        await dump_to(pgdump.dump_command(tools, schema), self._environment(), out, self.config.mask)
        return {"format": pgdump.FORMAT, "tool": tools.version, "schema": schema}

    async def restore(self, source: BinaryIO) -> None:
        """Replace every schema (or the ``[postgresql]`` schema) with the archive's, in one
        transaction committed only once the whole archive has been restored
        (:mod:`ncm_postgres.dump`); a failure says whether the database is as it was.

        The pooled connections are closed afterwards: their cached statements refer to the
        tables that were dropped."""
        tools = await self._client()
        commands = pgdump.restore_commands(tools, self.schema)
        committing = threading.Event()
        try:
            await load_from(source, commands, self._environment(), self.config.mask,
                            postlude=pgdump.COMMIT, on_postlude=committing)
        except Exception as exc:
            raise BackupError(f"{describe(exc)}; {_state_after_failure(committing.is_set())}") from exc
        finally:
            await self.engine.dispose()
            self._tables_ready = False


def _state_after_failure(committing: bool) -> str:
    if committing:
        return ("it failed as the restore was being committed: if the connection was lost then, the "
                "database holds either the backup or what it held before; check, and restore again if unsure")
    return "the database is as it was (the restore's one transaction was rolled back)"
