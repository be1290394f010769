"""ncm_postgres.asyncpg_adapter: DDL and a migration's batch take asyncpg's simple query
protocol where SQLAlchemy's adapter has what that needs, and where it has not, SQLAlchemy
executes them as usual, with the same result."""

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from ncm_core.history import APPLIED, FAILED
from ncm_postgres import asyncpg_adapter

USERS = '''
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100)))
    op.create_index("ix_users_email", "users", ["email"])


def downgrade():
    op.drop_table("users")
'''

ASYNC_STEP = '''
async def upgrade(ctx):
    await ctx.execute("INSERT INTO users (id, email) VALUES (1, 'a@x')")


async def downgrade(ctx):
    await ctx.execute("DELETE FROM users WHERE id = 1")
'''

BROKEN = '''
from alembic import op


def upgrade():
    op.execute("CREATE TABLE half (id INTEGER)")
    op.execute("INSERT INTO nowhere VALUES (1)")
'''


@pytest.fixture
def simple_queries(monkeypatch):
    """The SQL sent through asyncpg's simple query protocol (``Connection.execute``)."""
    sent: list[str] = []
    execute = asyncpg.connection.Connection.execute

    async def recording(self, query, *args, **kwargs):
        sent.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "execute", recording)
    return sent


async def tables(runner) -> set[str]:
    async with runner.db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


def test_the_adapter_internals_are_found_on_the_installed_sqlalchemy():
    assert asyncpg_adapter.AVAILABLE


def test_without_the_adapters_start_transaction_the_fast_paths_are_off(monkeypatch):
    monkeypatch.delattr(AsyncAdapt_asyncpg_connection, "_start_transaction")
    assert not asyncpg_adapter.has_adapter_internals()


async def test_a_migration_and_its_revert_take_the_simple_protocol(database_url, write_migration, runner_factory,
                                                                   simple_queries):
    write_migration("001_users", USERS)
    write_migration("002_first_user", ASYNC_STEP)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED, APPLIED]
        assert any("CREATE TABLE users" in q and "ncm_step" in q for q in simple_queries)
        assert any(q.startswith("SAVEPOINT sa_savepoint") for q in simple_queries)
        assert not any(q.startswith("INSERT") for q in simple_queries)
        assert [r["status"] for r in await runner.rollback_migration(steps=2)] == ["reverted", "reverted"]
        assert any("DROP TABLE users" in q for q in simple_queries)


async def test_without_the_internals_sqlalchemy_runs_every_statement(database_url, write_migration,
                                                                     runner_factory, simple_queries, monkeypatch):
    monkeypatch.setattr(asyncpg_adapter, "AVAILABLE", False)
    write_migration("001_users", USERS)
    write_migration("002_first_user", ASYNC_STEP)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED, APPLIED]
        async with runner.db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT email FROM users"))).scalar() == "a@x"
        assert [r["status"] for r in await runner.rollback_migration(steps=2)] == ["reverted", "reverted"]
        assert "users" not in await tables(runner)
    assert not any("users" in q or "savepoint" in q.lower() for q in simple_queries)


async def test_without_the_internals_a_failing_migration_leaves_nothing(database_url, write_migration,
                                                                        runner_factory, monkeypatch):
    monkeypatch.setattr(asyncpg_adapter, "AVAILABLE", False)
    write_migration("001_broken", BROKEN)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        assert result["status"] == FAILED and "nowhere" in result["error"]
        assert "half" not in await tables(runner)


@pytest.fixture
def transactions_opened(monkeypatch):
    """How many times SQLAlchemy's adapter opened a transaction (a ``BEGIN`` round trip each)."""
    opened: list[int] = []
    start = AsyncAdapt_asyncpg_connection._start_transaction

    async def counting(self):
        opened.append(1)
        return await start(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_start_transaction", counting)
    return opened


def numbered_tables(count: int) -> list[tuple[str, str]]:
    return [(f"{i:03d}_t{i}", f"from alembic import op\n\n\ndef upgrade():\n    op.execute('CREATE TABLE t{i} (id INTEGER)')\n")
            for i in range(1, count + 1)]


async def test_a_migration_committed_alone_is_one_query_from_begin_to_commit(database_url, write_migration,
                                                                            runner_factory, simple_queries):
    write_migration("001_users", USERS)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
    (query,) = [q for q in simple_queries if "CREATE TABLE users" in q]
    assert query.startswith("BEGIN") and query.endswith("COMMIT") and "ncm_migrations" in query


async def test_migrations_committed_alone_open_no_transaction_of_the_adapters_each(
        database_url, write_migration, runner_factory, transactions_opened):
    """The run's own work (its lock, history read, session settings) opens the same number
    of transactions whether 1 or 5 migrations follow; the migrations open none."""
    steps = numbered_tables(6)
    opened = []
    for chunk in (steps[:1], steps[1:]):
        for name, source in chunk:
            write_migration(name, source)
        async with runner_factory(database_url) as runner:
            before = len(transactions_opened)
            assert [r["status"] for r in await runner.run_migrations()] == [APPLIED] * len(chunk)
            opened.append(len(transactions_opened) - before)
    assert opened[0] == opened[1]


async def test_a_migration_failing_in_its_own_transaction_leaves_nothing_of_it(database_url, write_migration,
                                                                           runner_factory, simple_queries):
    write_migration("001_users", USERS)
    write_migration("002_broken", BROKEN)
    async with runner_factory(database_url) as runner:
        results = await runner.run_migrations()
        assert [r["status"] for r in results] == [APPLIED, FAILED]
        assert "nowhere" in results[1]["error"]
        assert "half" not in await tables(runner) and "users" in await tables(runner)
        async with runner.db.engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT version, status FROM ncm_migrations ORDER BY version"))).all()
    assert [tuple(r) for r in rows] == [("001_users", APPLIED), ("002_broken", FAILED)]
    assert any(q.startswith("BEGIN") and "CREATE TABLE half" in q for q in simple_queries)
