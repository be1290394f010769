"""The backend contract: the behaviour every backend must show against its real database.

A backend's test module subclasses a family's contract (``BackendContract`` for the whole
of it; ``CoreContract`` plus ``AuditContract`` or ``BackupContract`` for a backend with
only some of the optional capabilities) and provides two fixtures:
``database_url`` (an empty database, fresh for each test) and ``unreachable_url``::

    class TestSQLiteContract(SQLContract):
        @pytest.fixture
        def database_url(self, tmp_path):
            return f"sqlite+aiosqlite:///{tmp_path}/test.db"

The family's subclass says how a migration creates and drops a named object (a table, a
collection) and how to see whether it exists; every test below is written with those.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from ncm_core.capabilities import SupportsStepNote
from ncm_core.errors import DatabaseUnavailable, LockTimeout, ValidationFailed
from ncm_core.history import APPLIED, FAILED, RUNNING, HistoryRecord
from ncm_core.reader import HistorySnapshot, read_light


class CoreContract:
    """What every backend must show: only the required part of the Backend interface is used."""

    # -- what a family provides ------------------------------------------------------
    def create_source(self, name: str) -> str:
        """A migration file whose up step creates object ``name`` and down step drops it."""
        raise NotImplementedError

    def failing_source(self, name: str) -> str:
        """A migration that creates ``name`` and then raises RuntimeError('boom')."""
        raise NotImplementedError

    def invalid_source(self, name: str) -> str:
        """A migration that creates ``name`` and whose validate() returns False."""
        raise NotImplementedError

    def class_source(self, name: str) -> str:
        """An AbstractMigration class creating ``name`` in up() and dropping it in down()."""
        raise NotImplementedError

    async def exists(self, runner: Any, name: str) -> bool:
        raise NotImplementedError

    # -- the contract ----------------------------------------------------------------
    async def test_applies_pending_migrations_in_order(self, database_url, write_migration, runner_factory):
        write_migration("002_second", self.create_source("ncm_c_second"))
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            results = await runner.run_migrations()
            assert [(r["version"], r["status"]) for r in results] == [("001_first", APPLIED), ("002_second", APPLIED)]
            assert await self.exists(runner, "ncm_c_first") and await self.exists(runner, "ncm_c_second")

    async def test_history_records_checksum_status_and_time(self, database_url, write_migration, runner_factory):
        path = write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            (record,) = await runner.db.read_history()
        from ncm_core.migration import checksum

        assert (record.version, record.status, record.checksum) == ("001_first", APPLIED, checksum(path))
        assert record.execution_ms >= 0 and "@" in record.applied_by and record.applied_at.tzinfo is not None

    async def test_second_run_applies_nothing(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            assert await runner.run_migrations() == []

    async def test_target_version_stops_there(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_second", self.create_source("ncm_c_second"))
        async with runner_factory(database_url) as runner:
            results = await runner.run_migrations(target_version="001")
            assert [r["version"] for r in results] == ["001_first"]
            assert not await self.exists(runner, "ncm_c_second")

    async def test_rollback_reverts_and_forgets(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_second", self.create_source("ncm_c_second"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            results = await runner.rollback_migration(steps=1)
            assert [(r["version"], r["status"]) for r in results] == [("002_second", "reverted")]
            assert not await self.exists(runner, "ncm_c_second") and await self.exists(runner, "ncm_c_first")
            assert [r.version for r in await runner.db.read_history()] == ["001_first"]

    async def test_rollback_version_reverts_its_dependents_first(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_second", self.create_source("ncm_c_second") + '\ndepends_on = ["001_first"]\n')
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            results = await runner.rollback_migration(version="001_first")
            assert [r["version"] for r in results] == ["002_second", "001_first"]
            assert await runner.db.read_history() == []

    async def test_rollback_version_reverts_every_migration_applied_after_it(self, database_url, write_migration,
                                                                            runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_second", self.create_source("ncm_c_second"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            results = await runner.rollback_migration(version="001_first")
            assert [(r["version"], r["status"]) for r in results] == [("002_second", "reverted"),
                                                                      ("001_first", "reverted")]
            assert not await self.exists(runner, "ncm_c_second")

    async def test_class_form_applies_and_reverts(self, database_url, write_migration, runner_factory):
        write_migration("001_class", self.class_source("ncm_c_class"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            assert await self.exists(runner, "ncm_c_class")
            await runner.rollback_migration(version="001")
            assert not await self.exists(runner, "ncm_c_class")

    async def test_failure_is_recorded_and_blocks_the_next_run(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_broken", self.failing_source("ncm_c_broken"))
        write_migration("003_third", self.create_source("ncm_c_third"))
        async with runner_factory(database_url) as runner:
            results = await runner.run_migrations()
            assert [(r["version"], r["status"]) for r in results] == [("001_first", APPLIED), ("002_broken", FAILED)]
            assert "boom" in results[-1]["error"]
            history = {r.version: r.status for r in await runner.db.read_history()}
            assert history == {"001_first": APPLIED, "002_broken": FAILED}
            with pytest.raises(ValidationFailed, match="002_broken"):
                await runner.run_migrations()
            assert not await self.exists(runner, "ncm_c_third")

    async def test_failure_leaves_nothing_where_atomic_and_a_failed_record_otherwise(
            self, database_url, write_migration, runner_factory):
        write_migration("001_broken", self.failing_source("ncm_c_broken"))
        async with runner_factory(database_url) as runner:
            atomic = runner.db.is_atomic(runner.load().order[0])
            await runner.run_migrations()
            assert await self.exists(runner, "ncm_c_broken") is not atomic
            (record,) = await runner.db.read_history()
            assert (record.version, record.status) == ("001_broken", FAILED) and "boom" in record.error

    async def test_repair_clears_a_failed_record(self, database_url, write_migration, runner_factory):
        path = write_migration("001_broken", self.failing_source("ncm_c_broken"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            assert await runner.repair() == [{"version": "001_broken", "action": "removed failed record"}]
            path.write_text(self.create_source("ncm_c_fixed"))
            assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]

    async def test_validate_returning_false_fails_the_migration(self, database_url, write_migration, runner_factory):
        write_migration("001_invalid", self.invalid_source("ncm_c_invalid"))
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations()
            assert result["status"] == FAILED and "validate() returned False" in result["error"]

    async def test_auto_rollback_undoes_the_whole_run(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_broken", self.failing_source("ncm_c_broken") + "\n\ndef downgrade(*args):\n    pass\n")
        async with runner_factory(database_url, auto_rollback_on_failure=True) as runner:
            results = await runner.run_migrations()
            assert ("001_first", "reverted") in [(r["version"], r["status"]) for r in results]
            assert not await self.exists(runner, "ncm_c_first")
            assert "001_first" not in {r.version for r in await runner.db.read_history()}

    async def test_dry_run_lists_statements_and_changes_nothing(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            (result,) = await runner.run_migrations(dry_run=True)
            assert result["status"] == "dry-run" and any("ncm_c_first" in s for s in result["statements"])
            assert not await self.exists(runner, "ncm_c_first")
            assert await runner.db.read_history() == []

    async def test_edited_applied_migration_blocks_run_until_repaired(self, database_url, write_migration, runner_factory):
        path = write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            await runner.run_migrations()
            path.write_text(path.read_text() + "\n# edited\n")
            write_migration("002_second", self.create_source("ncm_c_second"))
            assert not await runner.validate_migrations()
            with pytest.raises(ValidationFailed, match="001_first.py: changed since it was applied"):
                await runner.run_migrations()
            await runner.repair()
            assert [r["version"] for r in await runner.run_migrations()] == ["002_second"]

    async def test_concurrent_runners_apply_each_migration_once(self, database_url, write_migration, runner_factory):
        for i in range(1, 6):
            write_migration(f"00{i}_m{i}", self.create_source(f"ncm_c_m{i}"))
        async with runner_factory(database_url) as a, runner_factory(database_url) as b, \
                runner_factory(database_url) as c:
            outcomes = await asyncio.gather(a.run_migrations(), b.run_migrations(), c.run_migrations())
            applied = sorted(r["version"] for results in outcomes for r in results)
            assert applied == [f"00{i}_m{i}" for i in range(1, 6)]
            assert all(r["status"] == APPLIED for results in outcomes for r in results)

    async def test_lock_wait_past_timeout_is_an_error(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as holder, runner_factory(database_url, lock_timeout=0.5) as waiter:
            async with holder.db.lock():
                with pytest.raises(LockTimeout, match="lock"):
                    await waiter.run_migrations()
            assert [r["version"] for r in await waiter.run_migrations()] == ["001_first"]

    async def test_unreachable_database_is_one_line_without_password(self, unreachable_url, runner_factory):
        with pytest.raises(DatabaseUnavailable) as info:
            async with runner_factory(unreachable_url, connect_timeout=5):
                pass
        message = str(info.value)
        assert "\n" not in message and "s3cr3t-pw" not in message


class AuditContract(CoreContract):
    """For a backend with ncm_core.capabilities.SupportsAudit."""

    async def test_audit_log_records_each_action(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url, audit_enabled=True) as runner:
            await runner.run_migrations()
            await runner.rollback_migration(steps=1)
            actions = [(e.action, e.version, e.outcome) for e in await runner.db.read_audit()]
        assert actions == [("migrate", "001_first", "ok"), ("run", None, "ok"), ("rollback", "001_first", "ok")]


class BackupContract(CoreContract):
    """For a backend with ncm_core.capabilities.SupportsBackup."""

    async def test_restore_brings_back_objects_and_history_of_the_backup(
        self, database_url, write_migration, runner_factory, tmp_path
    ):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url, backup_directory=tmp_path / "backups") as runner:
            await runner.run_migrations()
            history = sorted(await runner.db.read_history(), key=lambda r: r.version)
            made = await runner.backup_database()
            assert made["history_head"] == "001_first" and made["size"] > 0
            write_migration("002_second", self.create_source("ncm_c_second"))
            await runner.run_migrations()
            await runner.rollback_migration(only="001_first")
            assert not await self.exists(runner, "ncm_c_first") and await self.exists(runner, "ncm_c_second")

            await runner.restore_database(made["location"])
            assert await self.exists(runner, "ncm_c_first") and not await self.exists(runner, "ncm_c_second")
            assert sorted(await runner.db.read_history(), key=lambda r: r.version) == history
            states = [(m["version"], m["state"]) for m in (await runner.get_status())["migrations"]]
            assert states == [("001_first", APPLIED), ("002_second", "pending")]
            assert [r["version"] for r in await runner.run_migrations()] == ["002_second"]


class HistoryReaderContract:
    """For a backend that registers a history reader (``ncm_register_history_readers``):
    what ``ncm status`` reads through it is what the backend reads, record for record, lock
    holder and noted step included. Mixed into a backend's contract class beside a family's."""

    @staticmethod
    def comparable(snapshot: HistorySnapshot) -> HistorySnapshot:
        """The snapshot with the holder named up to its "since": a server may give the time
        its session started as seconds ago (MySQL's PROCESSLIST), which two reads can round
        to two seconds."""
        holder = snapshot.lock_holder
        return replace(snapshot, lock_holder=holder.partition(", since ")[0] if holder else holder)

    async def snapshots_agree(self, runner: Any) -> HistorySnapshot:
        light = await read_light(runner.config)
        assert light is not None, "the history reader gave up on the contract's database"
        assert self.comparable(light) == self.comparable(await runner.snapshot())
        return light

    async def test_history_reader_agrees_before_any_run(self, database_url, write_migration, runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner:
            await self.snapshots_agree(runner)

    async def test_history_reader_agrees_on_applied_and_failed_records(self, database_url, write_migration,
                                                                     runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        write_migration("002_broken", self.failing_source("ncm_c_broken"))
        async with runner_factory(database_url) as runner:
            assert [r["status"] for r in await runner.run_migrations()] == [APPLIED, FAILED]
            await self.snapshots_agree(runner)

    async def test_history_reader_agrees_while_a_run_holds_the_lock(self, database_url, write_migration,
                                                                   runner_factory):
        write_migration("001_first", self.create_source("ncm_c_first"))
        async with runner_factory(database_url) as runner, runner_factory(database_url) as holder:
            await runner.run_migrations()
            async with holder.db.lock():
                await holder.db.write_history(HistoryRecord("002_second", "Second.", "data", "d" * 64, RUNNING,
                                                            runner="pid 1 on elsewhere, ncm 0", statements_done=2))
                if isinstance(holder.db, SupportsStepNote):
                    await holder.db.note_step("002_second", "up")
                assert (await self.snapshots_agree(runner)).lock_holder


class BackendContract(AuditContract, BackupContract):
    """The whole contract, for a backend with every capability the runner checks for."""
