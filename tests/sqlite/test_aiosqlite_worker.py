"""ncm_sqlite.aiosqlite_worker: a migration's batch goes to aiosqlite's worker thread in one
call, and where aiosqlite lacks the private queue that needs, one statement at a time through
SQLAlchemy, with the same result."""

import aiosqlite
import sqlalchemy as sa

from ncm_core.history import APPLIED, FAILED
from ncm_sqlite import aiosqlite_worker
from sqlite_schema import BROKEN
from sqlite_schema import tables_and_indexes as tables

USERS = '''
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100)))
    op.create_index("ix_users_email", "users", ["email"])
'''

async def run_recording_sqlalchemy(url, runner_factory):
    """Run the pending migrations; return their statuses and what passed through SQLAlchemy."""
    seen: list[str] = []
    async with runner_factory(url) as runner:
        sa.event.listen(runner.db.engine.sync_engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_: seen.append(statement))
        statuses = [r["status"] for r in await runner.run_migrations()]
    return statuses, seen


def test_the_worker_queue_is_found_on_the_installed_aiosqlite():
    assert aiosqlite_worker.AVAILABLE


def test_without_aiosqlites_execute_the_queue_is_not_used(monkeypatch):
    monkeypatch.delattr(aiosqlite.Connection, "_execute")
    assert not aiosqlite_worker.has_worker_queue()


async def test_the_batch_bypasses_sqlalchemy_in_one_call(url, write_migration, runner_factory):
    write_migration("001_users", USERS)
    statuses, seen = await run_recording_sqlalchemy(url, runner_factory)
    assert statuses == [APPLIED]
    assert not any("ncm_step" in s or "CREATE TABLE users" in s for s in seen)
    assert {"users", "ix_users_email"} <= tables(url)


async def test_without_the_queue_the_batch_runs_statement_by_statement(url, write_migration, runner_factory,
                                                                        monkeypatch):
    monkeypatch.setattr(aiosqlite_worker, "AVAILABLE", False)
    write_migration("001_users", USERS)
    statuses, seen = await run_recording_sqlalchemy(url, runner_factory)
    assert statuses == [APPLIED]
    assert "SAVEPOINT ncm_step" in seen and any(s.strip().startswith("CREATE TABLE users") for s in seen), seen
    assert {"users", "ix_users_email"} <= tables(url)


async def test_without_the_queue_a_failing_batch_still_leaves_nothing(url, write_migration, runner_factory,
                                                                      monkeypatch):
    monkeypatch.setattr(aiosqlite_worker, "AVAILABLE", False)
    write_migration("001_broken", BROKEN)
    async with runner_factory(url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [FAILED]
    assert "half" not in tables(url)
