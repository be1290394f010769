"""On MariaDB each ALTER TABLE asks for ALGORITHM=INSTANT, then INPLACE with LOCK=NONE, then
the server's default ([mysql] online_alter), and says which it used."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

USERS = '''"""Users."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("age", sa.Integer))
'''

ADD_COLUMN = '''"""Add users.email."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(100)))
'''

ADD_COLUMN_BY_CTX = '''"""Add users.phone with the context's execute."""


async def upgrade(ctx):
    await ctx.execute("ALTER TABLE users ADD COLUMN phone VARCHAR(20)")
'''

CHANGE_TYPE = '''"""users.age becomes text: no server can do that in place."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.alter_column("users", "age", type_=sa.String(20), existing_type=sa.Integer)
'''


async def column_type(url: str, column: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                                             "DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = :c"), {"c": column})
    finally:
        await engine.dispose()


def alters(queries: list[str]) -> list[str]:
    return [q for q in queries if q.startswith("ALTER TABLE users")]


async def test_an_added_column_goes_instant_and_the_log_says_so(
        database_url, write_migration, runner_factory, queries, caplog):
    write_migration("001_users", USERS)
    write_migration("002_email", ADD_COLUMN)
    with caplog.at_level(logging.INFO, logger="ncm"):
        async with runner_factory(database_url) as runner:
            assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
    assert alters(queries) == ["ALTER TABLE users ALGORITHM=INSTANT, ADD COLUMN email VARCHAR(100)"]
    assert "ALTER TABLE users: ALGORITHM=INSTANT" in caplog.messages
    assert await column_type(database_url, "email") == "varchar"


async def test_a_type_change_falls_back_to_the_server_s_default_and_warns_of_the_copy(
        database_url, write_migration, runner_factory, queries, caplog):
    write_migration("001_users", USERS)
    write_migration("002_age", CHANGE_TYPE)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
    assert [q.split(",")[0] for q in alters(queries)] == [
        "ALTER TABLE users ALGORITHM=INSTANT", "ALTER TABLE users ALGORITHM=INPLACE", "ALTER TABLE users MODIFY age VARCHAR(20) NULL"]
    assert any(r.levelno == logging.WARNING and "ALTER TABLE users: the server's default algorithm, a table copy" in r.message
               for r in caplog.records)
    assert await column_type(database_url, "age") == "varchar"


async def test_online_alter_off_leaves_the_statements_as_written(
        database_url, write_migration, runner_factory, queries):
    write_migration("001_users", USERS)
    write_migration("002_email", ADD_COLUMN)
    write_migration("003_phone", ADD_COLUMN_BY_CTX)
    async with runner_factory(database_url, mysql={"online_alter": False}) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"] * 3
    assert not [q for q in queries if "ALGORITHM=" in q]
    assert any("\nALTER TABLE users ADD COLUMN email VARCHAR(100);" in q for q in queries)  # in its step's batch
    assert "ALTER TABLE users ADD COLUMN phone VARCHAR(20)" in queries
