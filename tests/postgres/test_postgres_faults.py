"""Killed, signalled, interrupted and cut-off runs on PostgreSQL (tests/faults.py)."""

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
