"""On MariaDB a plain migration's statements, each followed by its statement-journal count,
and its history row go to the server as one multi-statement query (ncm_sql.strategies.
multi_statement); a failure in it is met again statement by statement, where the migration
expects it, and the journal says what ran."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.history import RUNNING, HistoryRecord

THREE = '''"""Three tables."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("ncm_m_one", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("ncm_m_two", sa.Column("id", sa.Integer, primary_key=True))
    op.create_index("ix_ncm_m_two_id", "ncm_m_two", ["id"])
'''

FAILS_IN_THE_MIDDLE = '''"""The second statement fails: ncm_m_one exists already."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("ncm_m_one", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("ncm_m_one", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("ncm_m_three", sa.Column("id", sa.Integer, primary_key=True))
'''

CATCHES = '''"""A statement the migration expects may fail."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    try:
        op.execute("DROP TABLE ncm_m_never_made")
    except Exception:
        pass
    op.create_table("ncm_m_after", sa.Column("id", sa.Integer, primary_key=True))
'''


async def execute(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set((await conn.execute(sa.text(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"))).scalars())
    finally:
        await engine.dispose()


async def test_a_migration_s_statements_and_history_row_go_in_one_query(
        database_url, write_migration, runner_factory, queries):
    write_migration("001_three", THREE)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        (record,) = await runner.db.read_history()
    assert result["status"] == "applied" and record.status == "applied" and record.statements_done == 3
    (batch,) = [q for q in queries if "CREATE TABLE ncm_m_one" in q]
    assert [line.split()[0] for line in batch.split(";\n")] == [  # the running record first
        "DELETE", "INSERT", "CREATE", "UPDATE", "COMMIT", "CREATE", "UPDATE", "COMMIT", "CREATE", "UPDATE",
        "DELETE", "INSERT", "COMMIT"]
    assert [q for q in queries if q.startswith("CREATE") or "ncm_migrations.version = '001_three'" in q] == [batch]
    assert {"ncm_m_one", "ncm_m_two"} <= await tables(database_url)


async def test_a_failing_statement_in_the_middle_is_named_and_nothing_after_it_ran(
        database_url, write_migration, runner_factory):
    write_migration("001_fails", FAILS_IN_THE_MIDDLE)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        (record,) = await runner.db.read_history()
    assert result["status"] == "failed" and "already exists" in result["error"]
    assert result["statement"].startswith("CREATE TABLE ncm_m_one")
    assert record.status == "failed" and record.statements_done == 1
    assert "ncm_m_three" not in await tables(database_url)


async def test_a_statement_whose_failure_the_migration_catches_fails_where_it_expects(
        database_url, write_migration, runner_factory):
    write_migration("001_catches", CATCHES)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        (record,) = await runner.db.read_history()
    assert result["status"] == "applied", result
    assert record.status == "applied" and record.statements_done == 1
    assert "ncm_m_after" in await tables(database_url)


async def test_a_resumed_migration_sends_only_what_its_journal_says_did_not_run(
        database_url, write_migration, runner_factory, queries):
    write_migration("001_three", THREE)
    async with runner_factory(database_url) as runner:  # a run killed after the first statement
        m = runner.load().order[0]
        await runner.db.write_history(HistoryRecord(m.version, m.description, m.type, m.checksum, RUNNING,
                                                    runner="pid 1 on elsewhere, ncm 0", statements_done=1))
    await execute(database_url, "CREATE TABLE ncm_m_one (id INTEGER PRIMARY KEY)")
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        (record,) = await runner.db.read_history()
    assert result["status"] == "applied" and record.status == "applied" and record.statements_done == 3
    assert [q for q in queries if "CREATE TABLE ncm_m_one" in q] == ["CREATE TABLE ncm_m_one (id INTEGER PRIMARY KEY)"]
    assert {"ncm_m_one", "ncm_m_two"} <= await tables(database_url)


ROWS = '''"""Two rows with one key: the second INSERT fails."""
from alembic import op


def upgrade():
    op.execute("INSERT INTO ncm_m_rows VALUES (1)")
    op.execute("INSERT INTO ncm_m_rows VALUES (1)")
'''


async def test_data_changes_of_a_failed_migration_are_rolled_back(database_url, write_migration, runner_factory):
    await execute(database_url, "CREATE TABLE ncm_m_rows (id INTEGER PRIMARY KEY)")
    write_migration("001_rows", ROWS)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
    assert result["status"] == "failed" and "Duplicate entry" in result["error"]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM ncm_m_rows")) == 0
    finally:
        await engine.dispose()
