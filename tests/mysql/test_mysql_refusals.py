"""A user without the privileges ncm needs: exit 4 and one line saying what ncm was doing
and what is missing, before any migration runs; on the real server."""

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
            return {row[0] for row in await conn.execute(sa.text("SHOW TABLES"))}
    finally:
        await engine.dispose()


@pytest.fixture
async def user_with(admin, database_url):
    """``await user_with("SELECT, INSERT")``: the URL of a new user with those privileges on the database."""
    made: list[str] = []

    async def make(privileges: str) -> str:
        name = f"ncm_u_{uuid.uuid4().hex[:8]}"
        database = sa.make_url(database_url).database
        async with admin.connect() as conn:
            await conn.execute(sa.text(f"CREATE USER '{name}'@'%'"))
            await conn.execute(sa.text(f"GRANT {privileges} ON `{database}`.* TO '{name}'@'%'"))
        made.append(name)
        return sa.make_url(database_url).set(username=name, password=None).render_as_string(False)

    yield make
    async with admin.connect() as conn:
        for name in made:
            await conn.execute(sa.text(f"DROP USER '{name}'@'%'"))


async def test_a_user_without_create_is_exit_4_naming_the_privilege(user_with, database_url, write_migration, ncm):
    url = await user_with("SELECT, INSERT, DELETE")
    write_migration("001_a", TABLE.format(name="a"))
    done = ncm(url, "run")
    user = sa.make_url(url).username
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(f"error: cannot create ncm's history tables in {sa.make_url(url).database}: "
                                  f"OperationalError: (1142, \"CREATE command denied to user '{user}'@")
    assert done.stderr.endswith(f"(the user {user} needs CREATE on the database)\n")
    assert await tables_of(database_url) == set()


async def test_a_user_without_insert_and_delete_is_refused_before_the_first_migration(
        user_with, database_url, write_migration, ncm):
    url = await user_with("SELECT, CREATE")
    write_migration("001_a", TABLE.format(name="a"))
    done = ncm(url, "run")
    user = sa.make_url(url).username
    assert done.returncode == 4, done.stderr
    assert "cannot write ncm's history in " in done.stderr and "command denied to user" in done.stderr
    assert done.stderr.endswith(f"(the user {user} needs SELECT, INSERT and DELETE on ncm_migrations)\n")
    assert "a" not in await tables_of(database_url)
