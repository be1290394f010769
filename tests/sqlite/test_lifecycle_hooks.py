"""Lifecycle hooks are called at each step, with what their specs promise."""

from ncm_core import hookimpl

TABLE = '''"""Create {name}."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE {name} (id INTEGER PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE {name}")
'''


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def ncm_before_run(self, plan, direction):
        self.calls.append(("before_run", direction, [m.version for m in plan]))

    @hookimpl
    def ncm_before_migration(self, migration, direction):
        self.calls.append(("before_migration", direction, migration.version))

    @hookimpl
    def ncm_after_migration(self, migration, direction, result):
        self.calls.append(("after_migration", direction, result["status"]))

    @hookimpl
    def ncm_on_failure(self, migration, direction, error):
        self.calls.append(("on_failure", direction, error.version))

    @hookimpl
    def ncm_after_run(self, results, direction):
        self.calls.append(("after_run", direction, [r["status"] for r in results]))

    @hookimpl
    def ncm_on_refused(self, direction, error):
        self.calls.append(("on_refused", direction, str(error).split(":")[0]))


async def test_hooks_are_called_around_a_run_and_a_rollback(tmp_path, write_migration, runner_factory, register_plugin):
    recorder = register_plugin(Recorder())
    write_migration("001_a", TABLE.format(name="a"))
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as runner:
        await runner.run_migrations()
        await runner.rollback_migration(steps=1)
    assert recorder.calls == [
        ("before_run", "up", ["001_a"]), ("before_migration", "up", "001_a"), ("after_migration", "up", "applied"),
        ("after_run", "up", ["applied"]),
        ("before_run", "down", ["001_a"]), ("before_migration", "down", "001_a"),
        ("after_migration", "down", "reverted"), ("after_run", "down", ["reverted"]),
    ]


async def test_on_failure_is_called_and_after_migration_is_not(tmp_path, write_migration, runner_factory,
                                                               register_plugin):
    recorder = register_plugin(Recorder())
    write_migration("001_broken", 'def upgrade():\n    raise RuntimeError("boom")\n')
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as runner:
        await runner.run_migrations()
    assert [c[0] for c in recorder.calls] == ["before_run", "before_migration", "on_failure", "after_run"]
    assert recorder.calls[2] == ("on_failure", "up", "001_broken")


async def test_no_hooks_for_a_dry_run_or_when_nothing_is_pending(tmp_path, write_migration, runner_factory,
                                                                 register_plugin):
    recorder = register_plugin(Recorder())
    write_migration("001_a", TABLE.format(name="a"))
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as runner:
        await runner.run_migrations(dry_run=True)
        assert recorder.calls == []
        await runner.run_migrations()
        recorder.calls.clear()
        await runner.run_migrations()
    assert recorder.calls == []


async def test_on_refused_alone_is_called_when_a_failed_record_blocks_the_run(tmp_path, write_migration,
                                                                              runner_factory, register_plugin):
    import pytest

    from ncm_core.errors import ValidationFailed

    write_migration("001_broken", 'def upgrade():\n    raise RuntimeError("boom")\n')
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as runner:
        await runner.run_migrations()
        recorder = register_plugin(Recorder())
        with pytest.raises(ValidationFailed):
            await runner.run_migrations()
    assert recorder.calls == [("on_refused", "up", "refusing to run")]
