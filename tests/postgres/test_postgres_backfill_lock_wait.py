"""A backfill's batch never queues the application behind it: on PostgreSQL each batch waits at
most ddl_lock_timeout for a row lock, is rolled back, and runs again once the lock is free."""

from __future__ import annotations

import asyncio

import asyncpg

from test_postgres_lock_wait import plain, releasing_after_two

FILL = '''"""Add one to every item's counter, ten rows a batch."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("items", key="id", size=10):
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
'''


async def make_items(url: str) -> None:
    conn = await asyncpg.connect(plain(url))
    try:
        await conn.execute("CREATE TABLE items (id integer PRIMARY KEY, n integer NOT NULL)")
        await conn.execute("INSERT INTO items SELECT i, 0 FROM generate_series(1, 100) AS i")
    finally:
        await conn.close()


async def holding_a_row(url: str, started: asyncio.Event, release: asyncio.Event) -> None:
    """An open transaction that has locked item 55 (an application's UPDATE under way)."""
    conn = await asyncpg.connect(plain(url))
    try:
        async with conn.transaction():
            await conn.fetch("SELECT * FROM items WHERE id = 55 FOR UPDATE")
            started.set()
            await asyncio.wait_for(release.wait(), 30)
    finally:
        await conn.close()


async def test_a_batch_behind_a_row_lock_gives_way_retries_and_updates_each_row_once(
        database_url, write_migration, runner_factory, caplog):
    await make_items(database_url)
    write_migration("001_fill", FILL)
    started, release = asyncio.Event(), asyncio.Event()
    blocker = asyncio.create_task(holding_a_row(database_url, started, release))
    await started.wait()

    with releasing_after_two(caplog, "trying it again", release):
        try:
            async with runner_factory(database_url, sql={"ddl_lock_timeout": 0.2, "ddl_lock_retries": 10}) as runner:
                results = await runner.run_migrations()
        finally:
            release.set()
    await blocker
    assert [r["status"] for r in results] == ["applied"], results
    retries = [r.getMessage() for r in caplog.records if "trying it again" in r.getMessage()]
    assert retries and "keys 51 to 60" in retries[0], retries
    conn = await asyncpg.connect(plain(database_url))
    try:
        assert {n for (n,) in await conn.fetch("SELECT n FROM items")} == {1}
    finally:
        await conn.close()
