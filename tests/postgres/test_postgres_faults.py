"""Killed, signalled, interrupted and cut-off runs on PostgreSQL (tests/faults.py)."""

import asyncio
import os
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from faults import Child, InterruptedSQLRuns, LostConnections, ncm, sql_execute, sql_names, states


class TestPostgresInterruptedRuns(InterruptedSQLRuns, LostConnections):
    @pytest.fixture
    def url(self, database_url):
        return database_url

    def cut(self, url):
        database = sa.make_url(url).database
        sql_execute(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE datname = '{database}' AND application_name LIKE 'ncm pid %'")


async def test_a_failure_never_overwrites_an_applied_record(database_url, write_migration, runner_factory):
    """As if a second runner, which had somehow got past the lock, recorded the migration
    applied while this one was failing on it."""
    write_migration("001_raced", f'''
        """Recorded as applied by someone else, then fails here."""
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine


        async def upgrade(ctx):
            other = create_async_engine({database_url!r})
            async with other.begin() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO ncm_migrations (version, description, type, checksum, status, applied_at, "
                    "execution_ms, applied_by) VALUES ('001_raced', '', 'schema', 'x', 'applied', now(), 1, 'other')"))
            await other.dispose()
            raise RuntimeError("relation already exists")
        ''')
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        assert result["status"] == "failed"
        (record,) = await runner.db.read_history()
        assert (record.status, record.applied_by) == ("applied", "other")


async def hold_lock_as(database_url, application_name):
    """A session holding ncm's advisory lock, as a runner elsewhere (or stuck) would."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from ncm_postgres.lock import lock_key

    engine = create_async_engine(database_url, connect_args={"server_settings": {"application_name": application_name}})
    conn = await engine.connect()
    key = lock_key(sa.make_url(database_url).database, None)
    await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
    await conn.commit()
    return engine, conn


async def test_unlock_ends_the_session_of_a_stuck_holder(database_url, ncm, migrations_dir):
    engine, conn = await hold_lock_as(database_url, "ncm pid 4242 on crashed-pod")
    try:
        assert "lock: held by ncm pid 4242 on crashed-pod" in ncm(database_url, "status").stdout
        refused = ncm(database_url, "unlock")
        assert refused.returncode == 2 and "run again with --yes" in refused.stderr
        done = ncm(database_url, "unlock", "--yes")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("broke the migration lock held by ncm pid 4242 on crashed-pod")
        assert "lock: held" not in ncm(database_url, "status").stdout
    finally:
        await conn.close()
        await engine.dispose()


async def test_unlock_refuses_a_holder_that_is_a_live_process_of_this_host(database_url, ncm):
    import socket

    engine, conn = await hold_lock_as(database_url, f"ncm pid {os.getpid()} on {socket.gethostname()}")
    try:
        refused = ncm(database_url, "unlock", "--yes")
        assert refused.returncode == 2 and f"stop it (kill {os.getpid()})" in refused.stderr
    finally:
        await conn.close()
        await engine.dispose()


IN_ONE_QUERY = '''"""A table, then a statement the server takes its time over: one query, BEGIN to COMMIT."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("slow", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT pg_sleep(1.5)")


def downgrade():
    op.drop_table("slow")
'''


def server_query(url: str, pattern: str, timeout: float = 30) -> str:
    """The text of the active query like ``pattern`` once the server is running it."""
    async def find() -> str:
        engine = create_async_engine(url)
        try:
            deadline = time.monotonic() + timeout
            async with engine.connect() as conn:
                while time.monotonic() < deadline:
                    found = (await conn.execute(sa.text(
                        "SELECT query FROM pg_stat_activity WHERE state = 'active' AND query LIKE :p "
                        "AND pid <> pg_backend_pid()"), {"p": pattern})).scalar()
                    if found:
                        return found
                    await conn.rollback()
                    await asyncio.sleep(0.02)
        finally:
            await engine.dispose()
        raise AssertionError(f"no query like {pattern} reached the server")

    return asyncio.run(find())


def test_a_run_killed_while_its_one_query_is_on_the_server_leaves_the_truth(database_url, migrations_dir):
    """The migration, its history row and its COMMIT go as one query: whether the server ends
    it or the lost client aborts it, the table and the record stand or fall together."""
    (migrations_dir / "001_slow.py").write_text(IN_ONE_QUERY)
    child = Child(database_url, migrations_dir, "run")
    query = server_query(database_url, "%pg_sleep(1.5)%")
    child.kill_group()
    child.finish()
    assert "COMMIT" in query and "ncm_migrations" in query, query
    state, exists = states(database_url, migrations_dir)["001_slow"], "slow" in sql_names(database_url)
    assert (state, exists) in {("applied", True), ("pending", False)}, (state, exists)
    done = ncm(database_url, migrations_dir, "run")
    assert done.returncode == 0, done.stderr
    assert states(database_url, migrations_dir) == {"001_slow": "applied"} and "slow" in sql_names(database_url)
