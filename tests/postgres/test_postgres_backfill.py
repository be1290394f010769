"""Resumable batched backfills on PostgreSQL (tests/backfill_scenario.py): kill -9 of a real
``ncm run`` mid-backfill, every row updated exactly once, resumed at the checkpoint."""

import asyncpg
import pytest

from backfill_scenario import BackfillWorkers, sql_counters
from test_postgres_backfill_lock_wait import make_items
from test_postgres_lock_wait import plain


class TestPostgresBackfill(BackfillWorkers):
    @pytest.fixture
    def url(self, database_url):
        return database_url

    def counters(self, url):
        return sql_counters(url)


KILLING_THE_READER = '''"""Add one to every item's counter; the second batch ends the connection reading bounds ahead."""
type = "data"

READERS = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
           "AND pid <> pg_backend_pid() AND query LIKE '%OFFSET%'")


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE killed (n integer NOT NULL)")
    async for batch in ctx.backfill("items", key="id", size=10):
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
        if batch.lo == 11:
            await batch.execute(f"INSERT INTO killed {READERS}")
'''


async def test_a_backfill_whose_read_ahead_connection_is_killed_finishes_on_its_own(
        database_url, write_migration, runner_factory):
    await make_items(database_url)
    write_migration("001_fill", KILLING_THE_READER)
    async with runner_factory(database_url) as runner:
        results = await runner.run_migrations()
    assert [r["status"] for r in results] == ["applied"], results
    conn = await asyncpg.connect(plain(database_url))
    try:
        assert await conn.fetchval("SELECT n FROM killed") == 1
        assert {n for (n,) in await conn.fetch("SELECT n FROM items")} == {1}
    finally:
        await conn.close()
