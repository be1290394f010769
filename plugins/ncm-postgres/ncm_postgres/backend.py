"""PostgreSQL through asyncpg: transactional DDL, a session advisory lock, a configurable schema.

PostgreSQL runs DDL inside transactions, so each migration and its history row commit
together, each in its own transaction (``transaction_mode = "migration"``) or in a savepoint of
the run's one transaction (``"run"``); every step has a lock_timeout, and is retried past it.
``transactional = False`` migrations (``CREATE INDEX CONCURRENTLY``) run on an autocommit
connection; the lock lives on its own connection so that it survives them. Backups are
``pg_dump -Fc`` archives (:mod:`ncm_postgres.dump`).
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import AbstractAsyncContextManager
from typing import Any, BinaryIO

import sqlalchemy as sa

from ncm_core.errors import BackupError
from ncm_postgres import SCHEMES, asyncpg_adapter, lock
from ncm_postgres import dump as pgdump
from ncm_postgres.dump import quote_ident
from ncm_sql import SQLBackend
from ncm_sql.backend import PRIVILEGE, READ_ONLY
from ncm_sql.clitools import describe, dump_to, load_from

REFUSALS = {"25006": READ_ONLY, "42501": PRIVILEGE}
"""SQLSTATEs of a refused write: read_only_sql_transaction, insufficient_privilege."""


class PostgresBackend(SQLBackend):
    PLUGIN_NAME = "postgresql"
    DATABASE_TYPE = "postgresql"
    URL_SCHEMES = SCHEMES
    DRIVER = "postgresql+asyncpg"
    STARTER_URL = "postgresql+asyncpg://app@localhost:5432/app"
    batches_ddl = True
    lazy_commit = "SET LOCAL synchronous_commit TO OFF"
    """Each migration's commit returns without waiting for its WAL flush; a server crash can
    then lose whole migrations with their history rows, never half of one."""
    flush_statement = "SELECT txid_current()"  # an xid, so the commit writes (and flushes) WAL
    read_only_reason = ("the transaction is read-only: default_transaction_read_only is on for this database "
                        "or user, or the server is a standby; ncm needs a writable primary")
    tables_live_in = "schema"

    async def trace(self, migrations: list[Any]) -> list[Any]:
        from ncm_postgres.trace import trace

        return await trace(self, migrations)

    def refusal(self, exc: BaseException) -> str | None:
        return REFUSALS.get(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")

    @property
    def schema(self) -> str | None:
        return self.config.section("postgresql").schema_name

    def send_batch(self, sync_conn: Any, statements: list[str]) -> None:
        """The batch as one simple-protocol query: one round trip for the whole migration
        (statement by statement where SQLAlchemy's adapter lacks what that needs)."""
        if not asyncpg_adapter.send_batch(sync_conn, statements):
            super().send_batch(sync_conn, statements)

    def committing_sender(self, sync_conn: Any) -> Any:
        return asyncpg_adapter.own_transaction_sender(sync_conn)

    def engine_options(self) -> dict[str, Any]:
        """asyncpg's own connect timeout, the schema as every connection's search_path, and
        the process as its application_name, which is how ``lock_holder`` names the holder
        (server_settings are sent in the startup packet: no extra round trip)."""
        settings = {"application_name": f"ncm pid {os.getpid()} on {socket.gethostname()}"[:63]}
        if self.schema:
            settings["search_path"] = quote_ident(self.schema)
        return {"connect_args": {"timeout": self.config.connect_timeout, "server_settings": settings}}

    def lock_not_granted(self, exc: BaseException) -> bool:
        return getattr(getattr(exc, "orig", None), "sqlstate", None) == "55P03"  # lock_not_available

    def session_settings(self) -> dict[str, str]:
        """lock_timeout and statement_timeout for every step, in milliseconds, where set."""
        sql = self.config.section("sql")
        timeouts = {"lock_timeout": sql.ddl_lock_timeout, "statement_timeout": sql.statement_timeout}
        return {name: str(int(seconds * 1000)) for name, seconds in timeouts.items() if seconds}

    def step_session(self) -> tuple[list[str], list[str]]:
        settings = self.session_settings()
        return [f"SET {name} = {value}" for name, value in settings.items()], [f"RESET {name}" for name in settings]

    def prepare_engine(self, engine: Any) -> None:
        sa.event.listen(engine.sync_engine, "do_execute", asyncpg_adapter.ddl_in_one_round_trip)

    async def _ensure_tables(self) -> None:
        """Create the configured schema before the history table that lives in it."""
        schema = self.schema
        if schema and not self._tables_ready:
            with self.refused(f"cannot create the schema {schema} for ncm's history", "CREATE on the database"):
                async with self.engine.begin() as conn:
                    await conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        await super()._ensure_tables()

    def tables_sql(self, dialect: sa.Dialect) -> list[str]:
        schema = [str(sa.schema.CreateSchema(self.schema, if_not_exists=True).compile(dialect=dialect))] if self.schema else []
        return [*schema, *super().tables_sql(dialect)]

    def lock(self) -> AbstractAsyncContextManager[None]:
        """A session-level advisory lock on the run's connection (ncm_sql's ``session_lock``):
        session-level, not transaction-level, so that it outlives the commits around
        non-transactional steps; released explicitly, and by the server if the session ends."""
        return self.session_lock(*self._advisory(self._key()), self._where())

    def _advisory(self, key: int) -> tuple[Any, str, dict[str, int], Any]:
        """How ``session_claim`` takes, releases and names the holder of the advisory lock ``key``."""
        return (lambda conn: conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}),
                "SELECT pg_advisory_unlock(:k)", {"k": key}, lambda conn: self._holder(conn, key))

    def backfill_claim(self, version: str, timeout: float) -> AbstractAsyncContextManager[Any]:
        """A session advisory lock of the backfill's own, freed by the server when its holder's
        session ends (a killed worker's, at once)."""
        return self.session_claim(*self._advisory(self._key(version)), self._where(),
                                  f"the backfill of {version}", timeout)

    async def backfill_claimant(self, version: str) -> str | None:
        async with self.engine.connect() as conn:
            return await self._holder(conn, self._key(version))

    def _key(self, backfill: str | None = None) -> int:
        return lock.lock_key(self.sqlalchemy_url().database or "", self.schema, backfill)

    async def lock_holder(self) -> str | None:
        async with self.engine.connect() as conn:
            return await self._holder(conn, self._key())

    def _where(self) -> str:
        schema = self.schema
        return f"{self.sqlalchemy_url().database}" + (f" (schema {schema})" if schema else "")

    async def _holder(self, conn: Any, key: int, terminate: bool = False) -> str | None:
        """Who holds the advisory lock; with ``terminate``, also end that session, which frees
        the lock (``ncm unlock``)."""
        row = (await conn.exec_driver_sql(lock.holder_sql(), lock.halves(key))).first()
        if row is None:
            return None
        if terminate:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": row.pid})
        return lock.holder_text(row._mapping)

    async def break_lock(self) -> str | None:
        async with self.engine.connect() as conn:
            return await self._holder(conn, self._key(), terminate=True)

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
