"""kill -9 of ``ncm restore`` and ``ncm backup`` part way, on SQLite: a restore leaves the
database exactly as before or exactly the backup, and the scratch copies a killed command
left beside the database are removed by the next command."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from interrupt import environment, kill_restores, kill_when, run
from ncm_sql.tables import HISTORY_TABLE

BIG = '''
"""A table big enough that a restore takes a second or two."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE big (id integer PRIMARY KEY, payload text NOT NULL)")
    op.execute("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 400000) "
               "INSERT INTO big SELECT i, printf('%0128d', i) FROM g")
'''

LATER = '''
"""A table made after the backup."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE made_later (id integer)")
'''


def query(db: Path, statement: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn, conn:
        return conn.execute(statement).fetchall()


def state(db: Path) -> tuple[object, ...]:
    """Rows of ``big``, whether ``made_later`` exists, and the history's versions (None: no table)."""
    tables = {name for (name,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    count = query(db, "SELECT count(*), sum(length(payload)) FROM big")[0] if "big" in tables else None
    history = (tuple(v for (v,) in query(db, f"SELECT version FROM {HISTORY_TABLE} ORDER BY 1"))
               if HISTORY_TABLE in tables else None)
    return count, "made_later" in tables, history


def scratch_entries(directory: Path) -> list[str]:
    """What ncm left in ``directory`` besides the database and its lock file."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".ncm-"))


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture
def backups(tmp_path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
async def backed_up(url, write_migration, runner_factory, backups) -> str:
    """400,000 rows and their history, backed up as big.ncmbak; then a migration made later."""
    write_migration("001_big", BIG)
    async with runner_factory(url, backup_directory=backups) as runner:
        await runner.run_migrations()
        await runner.backup_database("big.ncmbak")
    write_migration("002_later", LATER)
    return url


@pytest.mark.parametrize("whole_group", [False, True], ids=["ncm-alone", "process-group"])
async def test_a_killed_restore_leaves_the_database_as_before_or_as_the_backup(
    backed_up, db, runner_factory, migrations_dir, backups, whole_group
):
    async def make_before() -> None:
        async with runner_factory(backed_up, backup_directory=backups) as runner:
            await runner.run_migrations()
        query(db, "DELETE FROM big WHERE id > 1000")

    async def now() -> tuple[object, ...]:
        return state(db)

    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    trials = await kill_restores("big.ncmbak", env, migrations_dir.parent, whole_group=whole_group,
                                 fractions=(0.5, 0.7, 0.9), make_before=make_before, state=now)
    assert any(seen == "before" and not kill.finished_first for kill, seen in trials.outcomes), trials.summary()

    run(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent)
    assert state(db) == trials.backup
    assert scratch_entries(db.parent) == []


def test_the_next_command_removes_what_a_killed_restore_left(backed_up, db, migrations_dir, backups):
    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))

    def copying(pid: int) -> bool:
        return any((entry / db.name).exists() for entry in db.parent.glob(".ncm-restore-*"))

    kill_when(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent, copying, whole_group=False)
    assert scratch_entries(db.parent) != [], "the kill came while the restore's copy was being written"
    done = run(["status"], env, migrations_dir.parent)
    assert "left by an interrupted ncm backup or restore" in done.stderr
    assert scratch_entries(db.parent) == []


def test_a_killed_backup_is_not_listed_and_its_copies_are_removed(backed_up, db, migrations_dir, backups):
    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))

    def streaming(pid: int) -> bool:
        return any(p.stat().st_size > 0 for p in backups.glob(".ncm-partial-killed*"))

    kill_when(["backup", "killed.ncmbak"], env, migrations_dir.parent, streaming, whole_group=True)
    assert [p.name for p in backups.glob(".ncm-partial-*")] != []
    assert "killed.ncmbak" not in run(["backup", "list"], env, migrations_dir.parent).stdout
    run(["restore", "killed.ncmbak", "--yes"], env, migrations_dir.parent, check=6)
    run(["backup", "killed.ncmbak"], env, migrations_dir.parent)
    assert sorted(p.name for p in backups.iterdir()) == [
        "big.ncmbak", "big.ncmbak.manifest.json", "killed.ncmbak", "killed.ncmbak.manifest.json"]
    assert scratch_entries(db.parent) == []
