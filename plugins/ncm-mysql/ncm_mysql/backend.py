"""MySQL and MariaDB through aiomysql: GET_LOCK, and DDL that commits implicitly.

MySQL commits before and after every DDL statement, so a migration cannot be rolled back as a
whole: each runs in its own transaction (``transactional_ddl = False``), a failure is recorded
as ``failed`` with the statement that failed, and ``run`` refuses to go on until ``ncm repair``
or a rollback (docs/backends/mysql.md says exactly what is and is not atomic). Backups are
mariadb-dump/mysqldump SQL (:mod:`ncm_mysql.dump`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.util.concurrency import await_

from ncm_core.errors import BackupError
from ncm_mysql import SCHEMES, names, online_alter, swap
from ncm_mysql import dump as mydump
from ncm_sql import SQLBackend
from ncm_sql.backend import PRIVILEGE, READ_ONLY
from ncm_sql.clitools import describe, dump_to, load_from

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

log = logging.getLogger("ncm")


class TableDefaults:
    """Mixed into Alembic's MySQL DDL impl: ``op.create_table`` gets the ``[mysql]`` charset and
    engine unless the migration names its own (``op.create_table(..., mysql_engine="MyISAM")``).

    A per-context impl rather than a global SQLAlchemy event, so that nothing else in the
    process (the user's own metadata.create_all) is touched."""

    table_defaults: dict[str, str]

    def create_table(self, table: sa.Table, **kw: Any) -> None:
        for option, value in self.table_defaults.items():
            if option not in table.dialect_kwargs:
                table.dialect_kwargs[option] = value
        super().create_table(table, **kw)  # type: ignore[misc]


SELECT = re.compile(r"^\s*\(?\s*SELECT\b", re.IGNORECASE)
READ_ONLY_ERRORS = {1036, 1290, 1792, 1836}
"""Table is read only; the server's --read-only option; a READ ONLY transaction; read-only mode.
1290 is any option that prevents a statement, so its message is checked too."""
PRIVILEGE_ERRORS = {1044, 1142, 1143, 1227, 1370}
"""Access denied to the database; to a table (1142: "INSERT command denied"); to a column;
a privilege such as SUPER is needed; to a routine."""


async def _send(connection: Any, sql: str) -> None:
    async with connection.cursor() as cursor:
        await cursor.execute(sql, ())
        while await cursor.nextset():
            pass


def _every_result(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """A ``do_execute`` listener: the driver sends several statements as one query
    (``op.execute("A; B")``) and leaves the results after the first unread, so an error of B
    would be dropped when the cursor closes and the step reported as applied. Each further
    result is read here, so B's error is raised; a ``;`` in a string costs a no-op call."""
    cursor.execute(statement, parameters)
    if cursor.description is None:
        for _ in range(statement.count(";")):
            cursor.nextset()
    return True


class MySQLBackend(SQLBackend):
    PLUGIN_NAME = "mysql"
    DATABASE_TYPE = "mysql"
    URL_SCHEMES = SCHEMES
    DRIVER = "mysql+aiomysql"
    STARTER_URL = "mysql+aiomysql://app@localhost:3306/app"
    transactional_ddl = False
    batches_ddl = True
    overlaps_commits = False
    """At REPEATABLE READ a batch's UPDATE holds a next-key lock on the key after its range,
    so the next batch would wait for its commit anyway."""
    requires_database = True
    read_only_reason = ("the server is read-only (read_only, super_read_only or innodb_read_only is on, "
                        "or it is a replica), or the transaction is READ ONLY")

    def lock_not_granted(self, exc: BaseException) -> bool:
        args = getattr(getattr(exc, "orig", None), "args", ())
        return bool(args) and args[0] == 1205  # ER_LOCK_WAIT_TIMEOUT, a metadata lock's included

    def send_batch(self, sync_conn: Any, statements: list[str]) -> None:
        """One multi-statement query (aiomysql connects with CLIENT.MULTI_STATEMENTS), every
        result read: the first failing statement raises, and the server runs none after it.
        No parameters, yet formatted as SQLAlchemy's own statements are (its ``%%`` become ``%``)."""
        await_(_send(sync_conn.connection.driver_connection, ";\n".join(statements)))

    def prepare_engine(self, engine: Any) -> None:
        if self.config.section("mysql").online_alter:
            sa.event.listen(engine.sync_engine, "do_execute", online_alter.execute)
        sa.event.listen(engine.sync_engine, "do_execute", _every_result)

    def batchable(self, statement: str) -> bool:
        """Through SQLAlchemy instead: an ALTER TABLE, for ``online_alter`` to choose its
        algorithm; a SELECT, whose rows (a SLEEP, a check) a query would leave unread."""
        return not (SELECT.match(statement) or self.config.section("mysql").online_alter
                    and online_alter.ALTER.match(statement))

    def step_session(self) -> tuple[list[str], list[str]]:
        """lock_wait_timeout (whole seconds, at least 1: the metadata lock an ALTER waits for)
        and the statement timeout, which MariaDB applies to every statement (max_statement_time)
        and MySQL only to SELECTs (max_execution_time)."""
        sql, settings, resets = self.config.section("sql"), [], []
        if sql.ddl_lock_timeout:
            settings.append(f"SET SESSION lock_wait_timeout = {max(1, math.ceil(sql.ddl_lock_timeout))}")
            resets.append("SET SESSION lock_wait_timeout = DEFAULT")
        if sql.statement_timeout:
            name, value = (("max_statement_time", f"{sql.statement_timeout:g}") if self.engine.dialect.is_mariadb
                           else ("max_execution_time", str(int(sql.statement_timeout * 1000))))
            settings.append(f"SET SESSION {name} = {value}")
            resets.append(f"SET SESSION {name} = DEFAULT")
        return settings, resets

    def refusal(self, exc: BaseException) -> str | None:
        args = getattr(getattr(exc, "orig", None), "args", ())
        code, message = (args[0], str(args[1:])) if args and isinstance(args[0], int) else (None, "")
        if code in READ_ONLY_ERRORS and (code != 1290 or "read" in message.lower()):
            return READ_ONLY
        return PRIVILEGE if code in PRIVILEGE_ERRORS else None

    def impl_mixins(self) -> tuple[type, ...]:
        return (*super().impl_mixins(), TableDefaults)

    def migration_context(self, **kwargs: Any) -> MigrationContext:
        context = super().migration_context(**kwargs)
        settings = self.config.section("mysql")
        context.impl.table_defaults = {"mysql_charset": settings.charset, "mysql_engine": settings.engine}
        return context

    def engine_options(self) -> dict[str, Any]:
        """aiomysql's connect timeout, the connection charset, and the engine that tables
        created with plain SQL get (``CREATE TABLE`` without ``ENGINE=``)."""
        settings = self.config.section("mysql")
        return {"connect_args": {
            "connect_timeout": self.config.connect_timeout,
            "charset": settings.charset,
            "init_command": f"SET SESSION default_storage_engine = {settings.engine}",
        }}

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """GET_LOCK on the run's connection (ncm_sql's ``session_lock``); the server releases
        it if the session ends (the lock belongs to the connection). Once it is held, what a
        killed restore left is dropped (:func:`ncm_mysql.swap.sweep`)."""
        name = names.lock_name(self.sqlalchemy_url().database or "")
        async with self.session_lock(*self._get_lock(name), f"{self.sqlalchemy_url().database} (lock {name!r})"):
            await swap.sweep(self._lock_conn, self.sqlalchemy_url().database or "")
            await self._lock_conn.commit()
            yield

    def _get_lock(self, name: str) -> tuple[Any, str, dict[str, str], Any]:
        """How ``session_claim`` takes, releases and names the holder of GET_LOCK's ``name``."""
        return (lambda conn: conn.scalar(sa.text("SELECT GET_LOCK(:n, 0) = 1"), {"n": name}),
                "SELECT RELEASE_LOCK(:n)", {"n": name}, lambda conn: self._holder(conn, name))

    def backfill_claim(self, version: str, timeout: float) -> Any:
        """GET_LOCK of the backfill's own, freed by the server when its holder's session ends."""
        name = names.lock_name(self.sqlalchemy_url().database or "", version)
        return self.session_claim(*self._get_lock(name), f"{self.sqlalchemy_url().database} (lock {name!r})",
                                  f"the backfill of {version}", timeout)

    async def backfill_claimant(self, version: str) -> str | None:
        async with self.engine.connect() as conn:
            return await self._holder(conn, names.lock_name(self.sqlalchemy_url().database or "", version))

    def batch_session(self) -> tuple[list[str], list[str]]:
        """A step's timeouts, and innodb_lock_wait_timeout: a batch waits for rows, not tables."""
        settings, resets = self.step_session()
        timeout = self.config.section("sql").ddl_lock_timeout
        if timeout:
            settings.append(f"SET SESSION innodb_lock_wait_timeout = {max(1, math.ceil(timeout))}")
            resets.append("SET SESSION innodb_lock_wait_timeout = DEFAULT")
        return settings, resets

    async def lock_holder(self) -> str | None:
        async with self.engine.connect() as conn:
            return await self._holder(conn, names.lock_name(self.sqlalchemy_url().database or ""))

    async def break_lock(self) -> str | None:
        """End the connection holding GET_LOCK's lock, which frees it."""
        name = names.lock_name(self.sqlalchemy_url().database or "")
        async with self.engine.connect() as conn:
            holder = await self._holder(conn, name)
            owner = await conn.scalar(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": name})
            if owner is not None:
                await conn.execute(sa.text(f"KILL CONNECTION {int(owner)}"))
            return holder

    async def _holder(self, conn: Any, name: str) -> str | None:
        owner = await conn.scalar(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": name})
        if owner is None:
            return None
        row = (await conn.exec_driver_sql(names.PROCESS, (owner,))).first()
        return names.holder_text(owner, *(row or (None, None, None)))

    # -- backup and restore ----------------------------------------------------------
    async def _client(self) -> mydump.Client:
        async with self.engine.connect() as conn:
            version = str(await conn.scalar(sa.text("SELECT VERSION()")))
        return await mydump.client(mariadb="mariadb" in version.lower())

    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """The database's dump (``--single-transaction``: consistent, writers not blocked)."""
        tools = await self._client()
        url = self.sqlalchemy_url()
        connection, env = mydump.connection_args(url)
        await dump_to(mydump.dump_command(tools, connection, url.database or ""), env, out, self.config.mask)
        return {"format": mydump.FORMAT, "tool": tools.version}

    async def restore(self, source: BinaryIO) -> None:
        """Load the dump into a side database, then swap its tables in with one RENAME TABLE
        (:mod:`ncm_mysql.swap`). Runs under the migration lock, whose taking drops what a
        killed restore left. A failure or an interrupt says what the live database holds."""
        tools = await self._client()
        url = self.sqlalchemy_url()
        restore = swap.SideRestore(url.database or "")
        connection, env = mydump.connection_args(url)
        try:
            async with self._autocommit() as conn:
                await self._create_side(conn, restore)
            await load_from(source, [mydump.restore_command(tools, connection)], env, self.config.mask,
                            prelude=f"USE {mydump.quote_ident(restore.side)};\n".encode())
            async with self._autocommit() as conn:
                await swap.swap_in(conn, restore)
        except Exception as exc:
            raise BackupError(f"{describe(exc)}; {restore.state(await self._drop_side(restore))}") from exc
        except BaseException:
            log.error("restore interrupted: %s", restore.state(side_dropped=False))
            raise
        finally:
            await self.engine.dispose()
            self._tables_ready = False

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[Any]:
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _create_side(self, conn: Any, restore: swap.SideRestore) -> None:
        try:
            await swap.create_side(conn, restore.database, restore.side)
        except swap.ERRORS as exc:
            raise BackupError(f"cannot create the side database {restore.side} that a restore loads into "
                              f"({getattr(exc, 'orig', exc)}): grant CREATE and DROP on `{names.side_prefix(restore.database)}%`.*"
                              ) from None

    async def _drop_side(self, restore: swap.SideRestore) -> bool:
        """Drop the side database of a restore that failed while loading; False when that
        failed too, or the restore was past loading (the next run drops what is left)."""
        if restore.stage != "loading":
            return False
        try:
            async with self._autocommit() as conn:
                await swap.drop_side(conn, restore.side)
            return True
        except swap.ERRORS:
            return False
