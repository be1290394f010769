"""kill -9 of ``ncm restore`` and ``ncm backup`` part way, on PostgreSQL: a restore leaves the
database exactly as before or exactly the backup, and a backup leaves nothing usable.

The restore's transaction is committed only once ncm has seen pg_restore read the whole
archive; killing ncm alone leaves psql at the end of a truncated input, which used to be
committed (``psql --single-transaction`` commits at the end of its input).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from interrupt import environment, kill_restores, kill_when, run, timed
from ncm_sql.tables import HISTORY_TABLE

BIG = '''
"""A table big enough that a restore takes a second or two."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE big (id integer PRIMARY KEY, payload text NOT NULL)")
    op.execute("INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 200000) g")
'''

LATER = '''
"""A table made after the backup."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE made_later (id integer)")
'''


async def query(url: str, statement: str) -> list[sa.Row]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(sa.text(statement))
            return result.all() if result.returns_rows else []
    finally:
        await engine.dispose()


async def state(url: str) -> tuple[object, ...]:
    """Rows of ``big``, whether ``made_later`` exists, and the history's versions (None: no table)."""
    tables = {name for (name,) in await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    count = (await query(url, "SELECT count(*), sum(length(payload)) FROM big"))[0] if "big" in tables else None
    history = (tuple(v for (v,) in await query(url, f"SELECT version FROM {HISTORY_TABLE} ORDER BY 1"))
               if HISTORY_TABLE in tables else None)
    return tuple(count or ()), "made_later" in tables, history


@pytest.fixture
def backups(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
async def backed_up(database_url, write_migration, runner_factory, backups) -> str:
    """200,000 rows and their history, backed up as big.ncmbak; then a migration made later."""
    write_migration("001_big", BIG)
    async with runner_factory(database_url, backup_directory=backups) as runner:
        await runner.run_migrations()
        await runner.backup_database("big.ncmbak")
    write_migration("002_later", LATER)
    return database_url


@pytest.mark.parametrize("whole_group", [False, True], ids=["ncm-alone", "process-group"])
async def test_a_killed_restore_leaves_the_database_as_before_or_as_the_backup(
    backed_up, runner_factory, migrations_dir, backups, whole_group
):
    async def make_before() -> None:
        async with runner_factory(backed_up, backup_directory=backups) as runner:
            await runner.run_migrations()
        await query(backed_up, "DELETE FROM big WHERE id > 1000")

    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    trials = await kill_restores("big.ncmbak", env, migrations_dir.parent, whole_group=whole_group,
                                 fractions=(0.1, 0.5, 0.9), make_before=make_before,
                                 state=lambda: state(backed_up), tool="psql")
    assert any(seen == "before" and "psql" in kill.running for kill, seen in trials.outcomes), trials.summary()

    timed(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent)
    assert await state(backed_up) == trials.backup
    assert sorted(p.name for p in backups.iterdir()) == ["big.ncmbak", "big.ncmbak.manifest.json"]


def test_a_killed_backup_is_neither_listed_nor_restorable_and_the_next_backup_removes_it(
    backed_up, migrations_dir, backups
):
    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    cwd = migrations_dir.parent

    def dumping(pid: int) -> bool:
        partial = [p for p in backups.iterdir() if p.name.startswith(".ncm-partial-killed")]
        return bool(partial) and partial[0].stat().st_size > 0

    kill = kill_when(["backup", "killed.ncmbak"], env, cwd, dumping, whole_group=False)
    assert "pg_dump" in kill.running
    listed = json.loads(run(["backup", "list", "--json"], env, cwd).stdout)["backups"]
    assert [b["archive"] for b in listed] == ["big.ncmbak"]
    refused = run(["restore", "killed.ncmbak", "--yes"], env, cwd, check=6)
    assert "not found" in refused.stderr

    again = run(["backup", "killed.ncmbak"], env, cwd)
    assert "left by an interrupted ncm backup or restore" in again.stderr
    assert sorted(p.name for p in backups.iterdir()) == [
        "big.ncmbak", "big.ncmbak.manifest.json", "killed.ncmbak", "killed.ncmbak.manifest.json"]

