"""ncm_sql.alembic_impl: DDL is deferred through Alembic's private ``_exec`` where this Alembic
has it, and where it has not, each statement runs when ``op`` calls it, with the same result."""

import sqlalchemy as sa
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext

from ncm_core.history import APPLIED, FAILED
from ncm_sql import alembic_impl
from sqlite_schema import BROKEN
from sqlite_schema import tables_and_indexes as tables

USERS = '''
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
    op.create_index("ix_users_id", "users", ["id"])
'''

def test_the_installed_alembics_exec_can_be_intercepted():
    assert alembic_impl.INTERCEPTS_EXEC


def test_an_alembic_without_exec_is_not_intercepted(monkeypatch):
    monkeypatch.delattr(DefaultImpl, "_exec")
    assert not alembic_impl.intercepts_exec()


def test_an_exec_with_other_arguments_is_not_intercepted():
    class Renamed(DefaultImpl):
        def _exec(self, construct, options=None):
            return None

    assert not alembic_impl.intercepts_exec(Renamed)


def test_mixins_reach_one_context_and_not_the_dialects_registry():
    class Marker:
        pass

    context = alembic_impl.with_mixins(MigrationContext.configure(dialect_name="sqlite"), (Marker,))
    assert isinstance(context.impl, Marker) and context.impl.dialect.name == "sqlite"
    assert not issubclass(DefaultImpl.get_by_dialect(context.impl.dialect), Marker)
    assert not isinstance(MigrationContext.configure(dialect_name="sqlite").impl, Marker)


async def test_without_exec_ddl_runs_as_op_calls_it(url, write_migration, runner_factory, monkeypatch):
    monkeypatch.setattr(alembic_impl, "INTERCEPTS_EXEC", False)
    write_migration("001_users", USERS)
    seen: list[str] = []
    async with runner_factory(url) as runner:
        assert runner.db.defers_ddl is False
        sa.event.listen(runner.db.engine.sync_engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_: seen.append(statement.strip()))
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
    assert any(s.startswith("CREATE TABLE users") for s in seen)
    assert not any("ncm_step" in s for s in seen)
    assert {"users", "ix_users_id"} <= tables(url)


async def test_without_exec_a_failing_migration_leaves_nothing(url, write_migration, runner_factory, monkeypatch):
    monkeypatch.setattr(alembic_impl, "INTERCEPTS_EXEC", False)
    write_migration("001_broken", BROKEN)
    async with runner_factory(url) as runner:
        (result,) = await runner.run_migrations()
    assert result["status"] == FAILED and "nowhere" in result["error"]
    assert "half" not in tables(url)
