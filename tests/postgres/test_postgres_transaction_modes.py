"""transaction_mode on PostgreSQL: a migration committed with its history row releases its
locks at once (the default); ``run`` keeps them until the run ends; ``none`` runs outside a
transaction. What a later migration of the same run sees in pg_locks tells them apart."""

from __future__ import annotations

import sqlalchemy as sa

CREATE_USERS = '''"""Create users."""
{mode}import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
'''
SEE_LOCKS = '''"""Count the run's own exclusive locks on users."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE seen AS SELECT count(*) AS held FROM pg_locks WHERE pid = pg_backend_pid() "
               "AND relation = 'users'::regclass AND mode = 'AccessExclusiveLock'")
'''
CONCURRENT_INDEX = '''"""Index users concurrently."""
transaction_mode = "none"
from alembic import op


def upgrade():
    op.execute("CREATE INDEX CONCURRENTLY ix_users_id ON users (id)")
'''


async def held(database_url: str) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(sa.make_url(database_url).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text("SELECT held FROM seen"))
    finally:
        await engine.dispose()


async def test_by_default_each_migration_commits_and_releases_its_locks(database_url, write_migration, runner_factory):
    write_migration("001_users", CREATE_USERS.format(mode=""))
    write_migration("002_see", SEE_LOCKS)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
    assert await held(database_url) == 0


async def test_transaction_mode_run_holds_every_lock_until_the_run_ends(database_url, write_migration, runner_factory):
    write_migration("001_users", CREATE_USERS.format(mode=""))
    write_migration("002_see", SEE_LOCKS)
    async with runner_factory(database_url, transaction_mode="run") as runner:
        await runner.run_migrations()
    assert await held(database_url) == 1


async def test_a_migration_s_own_transaction_mode_wins_over_the_setting(database_url, write_migration, runner_factory):
    write_migration("001_users", CREATE_USERS.format(mode='transaction_mode = "migration"\n'))
    write_migration("002_see", SEE_LOCKS)
    async with runner_factory(database_url, transaction_mode="run") as runner:
        await runner.run_migrations()
    assert await held(database_url) == 0


async def test_transaction_mode_none_runs_a_step_outside_any_transaction(database_url, write_migration, runner_factory):
    write_migration("001_users", CREATE_USERS.format(mode=""))
    write_migration("002_index", CONCURRENT_INDEX)
    async with runner_factory(database_url, transaction_mode="run") as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
        assert [r.version for r in await runner.db.read_history()] == ["001_users", "002_index"]
