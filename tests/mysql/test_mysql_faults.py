"""Killed, signalled, interrupted and cut-off runs on MariaDB (tests/faults.py): its DDL
commits implicitly, so every migration is one the database cannot roll back."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from faults import InterruptedSQLRuns, LostConnections


class TestMySQLInterruptedRuns(InterruptedSQLRuns, LostConnections):
    atomic = False

    @pytest.fixture
    def url(self, database_url):
        return database_url

    def names_holder(self, holder, pid):
        """MySQL knows a lock's connection, not the process: its id, user, client host and port."""
        return holder is not None and holder.startswith("connection ") and "@127.0.0.1:" in holder

    def cut(self, url):
        async def kill() -> None:
            engine = create_async_engine(url)
            async with engine.connect() as conn:
                ids = (await conn.execute(sa.text("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :db "
                                                  "AND ID <> CONNECTION_ID()"), {"db": sa.make_url(url).database})).scalars()
                for connection in list(ids):
                    await conn.execute(sa.text(f"KILL CONNECTION {int(connection)}"))
            await engine.dispose()

        asyncio.run(kill())


async def test_unlock_ends_the_connection_of_a_stuck_holder(database_url, ncm):
    from ncm_mysql.names import lock_name

    engine = create_async_engine(database_url)
    conn = await engine.connect()
    try:
        await conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": lock_name(sa.make_url(database_url).database)})
        assert "lock: held by connection " in ncm(database_url, "status").stdout
        done = ncm(database_url, "unlock", "--yes")
        assert done.returncode == 0 and done.stdout.startswith("broke the migration lock held by connection "), done
        assert "lock: held" not in ncm(database_url, "status").stdout
    finally:
        await conn.invalidate()  # the server ended it
        await engine.dispose()
