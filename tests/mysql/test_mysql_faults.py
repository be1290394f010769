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
