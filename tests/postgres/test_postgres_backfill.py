"""Resumable batched backfills on PostgreSQL (tests/backfill_scenario.py): kill -9 of a real
``ncm run`` mid-backfill, every row updated exactly once, resumed at the checkpoint."""

import asyncpg
import pytest

from backfill_scenario import BackfillWorkers, sql_counters, sql_rows_done
from test_postgres_backfill_lock_wait import make_items
from test_postgres_lock_wait import plain


async def run_in_batches_of_ten(runner_factory, url):
    """``run_migrations`` in process with the adaptive target off (batches of 10 keys however
    slow the machine): its results and the backfills' checkpoints after it."""
    async with runner_factory(url) as runner:
        runner.backfill_options.target_ms = 0
        return await runner.run_migrations(), await runner.db.read_backfills()


class TestPostgresBackfill(BackfillWorkers):
    @pytest.fixture
    def url(self, database_url):
        return database_url

    def counters(self, url):
        return sql_counters(url)

    def rows_done(self, url):
        return sql_rows_done(url)


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
    results, _ = await run_in_batches_of_ten(runner_factory, database_url)
    assert [r["status"] for r in results] == ["applied"], results
    conn = await asyncpg.connect(plain(database_url))
    try:
        assert await conn.fetchval("SELECT n FROM killed") == 1
        assert {n for (n,) in await conn.fetch("SELECT n FROM items")} == {1}
    finally:
        await conn.close()


BREAKING_A_COMMIT = '''"""Add one to every item's counter and give item 35 an owner that does not exist."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("items", key="id", size=10):
        await batch.execute("UPDATE items SET n = n + 1, owner = CASE WHEN id = 35 THEN 1 END "
                            "WHERE id BETWEEN :lo AND :hi")
'''


async def test_a_batch_whose_commit_fails_fails_the_backfill_with_the_batches_before_it_kept(
        database_url, write_migration, runner_factory):
    """The foreign key is checked at commit (deferred), which ends during the next batch: that
    batch must be rolled back and the commit's error reported, the checkpoint left at 30 rows."""
    await make_items(database_url)
    conn = await asyncpg.connect(plain(database_url))
    try:
        await conn.execute("CREATE TABLE owners (id integer PRIMARY KEY)")
        await conn.execute("ALTER TABLE items ADD COLUMN owner integer "
                           "REFERENCES owners DEFERRABLE INITIALLY DEFERRED")
        write_migration("001_fill", BREAKING_A_COMMIT)
        results, checkpoints = await run_in_batches_of_ten(runner_factory, database_url)
        assert [r["status"] for r in results] == ["failed"], results
        assert "items_owner_fkey" in str(results[0]), results
        assert [point.rows_done for point in checkpoints] == [30]
        counters = dict(await conn.fetch("SELECT id, n FROM items"))
        assert counters == {i: 1 if i <= 30 else 0 for i in range(1, 101)}
    finally:
        await conn.close()


TAKING_TURNS = '''"""Add one to every item's counter, noting the connection of each batch."""
type = "data"


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE turns (lo integer NOT NULL, pid integer NOT NULL)")
    async for batch in ctx.backfill("items", key="id", size=10):
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
        await batch.execute("INSERT INTO turns VALUES (:lo, pg_backend_pid())")
'''


async def test_the_batches_take_turns_on_two_connections_so_a_commit_ends_during_the_next_batch(
        database_url, write_migration, runner_factory):
    await make_items(database_url)
    write_migration("001_fill", TAKING_TURNS)
    results, _ = await run_in_batches_of_ten(runner_factory, database_url)
    assert [r["status"] for r in results] == ["applied"]
    conn = await asyncpg.connect(plain(database_url))
    try:
        pids = [pid for _, pid in await conn.fetch("SELECT lo, pid FROM turns ORDER BY lo")]
        assert {n for (n,) in await conn.fetch("SELECT n FROM items")} == {1}
    finally:
        await conn.close()
    assert len(pids) == 10 and len(set(pids)) == 2
    assert all(a != b for a, b in zip(pids, pids[1:])), pids


MOVING_THE_CHECKPOINT_ON = '''"""Add one to every item's counter; during the fourth batch another process moves the checkpoint on."""
type = "data"
import sqlalchemy as sa


async def upgrade(ctx):
    async for batch in ctx.backfill("items", key="id", size=10):
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
        if batch.lo == 31:
            async with ctx.backend.engine.connect() as other:
                await other.execute(sa.text("UPDATE ncm_backfills SET rows_done = rows_done + 1000"))
                await other.commit()
'''


async def test_a_batch_whose_checkpoint_another_process_moved_on_is_rolled_back_with_the_batch_after_it(
        database_url, write_migration, runner_factory):
    """The checkpoint is written beside the next batch, so the lost claim shows one batch late:
    that batch too must be rolled back, and the backfill left in progress."""
    await make_items(database_url)
    write_migration("001_fill", MOVING_THE_CHECKPOINT_ON)
    results, checkpoints = await run_in_batches_of_ten(runner_factory, database_url)
    assert [r["status"] for r in results] == ["in progress"], results
    assert [point.rows_done for point in checkpoints] == [1030]
    conn = await asyncpg.connect(plain(database_url))
    try:
        counters = dict(await conn.fetch("SELECT id, n FROM items"))
    finally:
        await conn.close()
    assert counters == {i: 1 if i <= 30 else 0 for i in range(1, 101)}
