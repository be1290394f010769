"""The backend contract for SQL backends: migrations written with Alembic's op."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ncm_core.history import APPLIED, FAILED
from ncm_core.testing.contract import BackendContract


class SQLContract(BackendContract):
    def create_source(self, name: str) -> str:
        return f'''"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(50)))


def downgrade():
    op.drop_table("{name}")
'''

    def failing_source(self, name: str) -> str:
        return f'''"""Create {name}, then fail."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))
    raise RuntimeError("boom")
'''

    def invalid_source(self, name: str) -> str:
        return self.create_source(name) + "\n\ndef validate():\n    return False\n"

    def class_source(self, name: str) -> str:
        return f'''"""Create {name} from a class."""
from ncm_core import AbstractMigration


class Create(AbstractMigration):
    async def up(self, session):
        await session.execute("CREATE TABLE {name} (id INTEGER PRIMARY KEY)")

    async def down(self, session):
        await session.execute("DROP TABLE {name}")

    async def validate(self, session):
        return (await session.execute("SELECT COUNT(*) FROM {name}")).scalar() == 0
'''

    async def exists(self, runner: Any, name: str) -> bool:
        schema = runner.db.schema
        async with runner.db.engine.connect() as conn:
            return await conn.run_sync(lambda sync: sa.inspect(sync).has_table(name, schema=schema))

    # -- Alembic's op as Alembic users know it (ncm defers DDL where it can; they must not notice)
    async def test_a_migration_reads_what_it_just_created(self, database_url, write_migration, runner_factory):
        write_migration("001_fill", '''"""Create and fill ncm_c_filled, then count."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    table = op.create_table("ncm_c_filled", sa.Column("id", sa.Integer, primary_key=True))
    op.bulk_insert(table, [{"id": 1}, {"id": 2}])
    op.execute("INSERT INTO ncm_c_filled (id) VALUES (3)")
    count = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM ncm_c_filled")).scalar()
    assert count == 3, count
''')
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations()
            assert result["status"] == APPLIED, result.get("error")

    async def test_an_error_the_migration_catches_does_not_fail_it(self, database_url, write_migration, runner_factory):
        write_migration("001_tolerant", '''"""Drop a table that may not exist, then create one."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    try:
        with op.get_bind().begin_nested():
            op.drop_table("ncm_c_never_created")
    except sa.exc.DBAPIError:
        pass
    op.create_table("ncm_c_after", sa.Column("id", sa.Integer, primary_key=True))
''')
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations()
            assert result["status"] == APPLIED, result.get("error")
            assert await self.exists(runner, "ncm_c_after")

    async def test_a_failing_statement_is_named_with_the_database_error(
            self, database_url, write_migration, runner_factory):
        write_migration("001_twice", '''"""Create ncm_c_twice twice."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("ncm_c_twice", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("ncm_c_twice", sa.Column("id", sa.Integer, primary_key=True))
''')
        async with runner_factory(database_url) as runner:
            atomic = runner.db.is_atomic(runner.load().order[0])
            (result,) = await runner.run_migrations()
            assert result["status"] == FAILED
            assert "ncm_c_twice" in result["error"] and "CREATE TABLE ncm_c_twice" in result["statement"]
            assert await self.exists(runner, "ncm_c_twice") is not atomic

    async def test_description_is_recorded_exactly(self, database_url, write_migration, runner_factory):
        description = "It's a back\\slash, a \"quote\", 100% ü and :colon $1."
        write_migration("001_quoted", f'"""{description.replace(chr(92), chr(92) * 2)}"""\n'
                                      + self.create_source("ncm_c_quoted").split("\n", 1)[1])
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            (record,) = await runner.db.read_history()
            assert record.description == description
