"""A database that refuses ncm's writes (read-only, a missing privilege): exit 4 and one line
saying what ncm was doing and what is missing, with nothing changed; on the real server."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

TABLE = '''
"""Create {name}."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE {name} (id int)")
'''


async def tables_of(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


@pytest.fixture
async def plain_role(admin):
    """A login role with PostgreSQL 15's default rights: CONNECT, but no CREATE on schema public."""
    name = f"ncm_plain_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"CREATE ROLE {name} LOGIN"))
    yield name
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"DROP ROLE {name}"))


async def make_read_only(admin, database_url: str) -> None:
    database = sa.make_url(database_url).database
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on'))


async def test_a_role_without_create_on_the_schema_is_exit_4_naming_the_privilege(
        plain_role, database_url, write_migration, ncm):
    write_migration("001_a", TABLE.format(name="a"))
    done = ncm(sa.make_url(database_url).set(username=plain_role).render_as_string(False), "run")
    database = sa.make_url(database_url).database
    assert (done.returncode, done.stderr) == (4, (
        f"error: cannot create ncm's history tables in {database}: ProgrammingError: permission denied for "
        f"schema public (the user {plain_role} needs CREATE on the schema)\n"))
    assert await tables_of(database_url) == set()


async def test_a_read_only_database_is_exit_4_naming_the_setting(admin, database_url, write_migration, ncm):
    await make_read_only(admin, database_url)
    write_migration("001_a", TABLE.format(name="a"))
    done = ncm(database_url, "run")
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(f"error: cannot create ncm's history tables in {sa.make_url(database_url).database}: "
                                  "Error: cannot execute CREATE TABLE in a read-only transaction (the transaction "
                                  "is read-only: default_transaction_read_only is on")
    assert len(done.stderr.splitlines()) == 1 and await tables_of(database_url) == set()


async def test_a_database_made_read_only_after_a_run_refuses_before_the_next_step(
        admin, database_url, write_migration, ncm):
    write_migration("001_a", TABLE.format(name="a"))
    assert ncm(database_url, "run").returncode == 0
    await make_read_only(admin, database_url)
    write_migration("002_b", TABLE.format(name="b"))
    done = ncm(database_url, "run")
    assert done.returncode == 4, done.stderr
    assert "cannot write ncm's history in " in done.stderr and "cannot execute DELETE in a read-only transaction" \
        in done.stderr and "default_transaction_read_only" in done.stderr
    assert "internal error" not in done.stderr and "b" not in await tables_of(database_url)
    assert "pending: 1" in ncm(database_url, "status").stdout
