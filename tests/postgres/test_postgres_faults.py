"""Killed, signalled, interrupted and cut-off runs on PostgreSQL (tests/faults.py)."""

import os

import pytest
import sqlalchemy as sa

from faults import InterruptedSQLRuns, LostConnections, sql_execute


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
