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

    # -- faults: what a migration's own code can do wrong --------------------------------
    async def test_sys_exit_in_a_migration_fails_it_and_the_run_stops(
            self, database_url, write_migration, runner_factory):
        write_migration("001_exits", self.create_source("ncm_c_exits").replace(
            "def upgrade():\n", "def upgrade():\n    import sys\n    sys.exit(0)\n"))
        write_migration("002_after", self.create_source("ncm_c_after"))
        async with runner_factory(database_url) as runner:
            results = await runner.run_migrations()
            assert [(r["version"], r["status"]) for r in results] == [("001_exits", FAILED)]
            assert "SystemExit" in results[0]["error"]
            assert [(r.version, r.status) for r in await runner.db.read_history()] == [("001_exits", FAILED)]
            assert not await self.exists(runner, "ncm_c_after")

    async def test_keyboard_interrupt_raised_by_a_migration_fails_it(
            self, database_url, write_migration, runner_factory):
        write_migration("001_interrupts", "async def upgrade(ctx):\n    raise KeyboardInterrupt\n")
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations()
            assert result["status"] == FAILED and "KeyboardInterrupt" in result["error"]

    async def test_commit_sent_by_a_migration_is_refused_naming_the_file(
            self, database_url, write_migration, runner_factory):
        path = write_migration("001_commits", self.create_source("ncm_c_commits").replace(
            "sa.Column(\"label\", sa.String(50)))\n", "sa.Column(\"label\", sa.String(50)))\n    op.execute(\"COMMIT\")\n"))
        write_migration("002_after", self.create_source("ncm_c_after"))
        async with runner_factory(database_url) as runner:
            atomic = runner.db.is_atomic(runner.load().order[0])
            results = await runner.run_migrations()
            assert [(r["version"], r["status"]) for r in results] == [("001_commits", FAILED)]
            assert f"{path}: runs COMMIT itself" in results[0]["error"] and results[0]["statement"] == "COMMIT"
            assert await self.exists(runner, "ncm_c_commits") is not atomic

    async def test_rollback_sent_by_an_async_step_is_refused(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_rolls_back", "async def upgrade(ctx):\n    await ctx.execute(\"ROLLBACK\")\n")
        async with runner_factory(database_url) as runner:
            results = await runner.run_migrations()
            assert [(r["version"], r["status"]) for r in results] == [("001_first", APPLIED), ("002_rolls_back", FAILED)]
            assert "runs ROLLBACK itself" in results[1]["error"]
            assert await self.exists(runner, "ncm_c_first")
            history = {r.version: r.status for r in await runner.db.read_history()}
            assert history == {"001_first": APPLIED, "002_rolls_back": FAILED}

    async def test_a_failure_names_the_line_of_the_migration_that_raised(
            self, database_url, write_migration, runner_factory):
        path = write_migration("001_broken", self.failing_source("ncm_c_broken"))
        line = path.read_text().splitlines().index('    raise RuntimeError("boom")') + 1
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations()
            assert result["error"].endswith(f"RuntimeError: boom ({path}:{line})")
