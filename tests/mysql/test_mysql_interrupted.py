"""kill -9 of ``ncm restore`` part way, on MariaDB/MySQL: the dump loads into a side database
and one RENAME TABLE swaps the tables in, so the live database is exactly as before or exactly
the backup once the next command that takes the lock has finished or undone the swap (the
triggers and views around the RENAME) and dropped what the killed restore left."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from interrupt import environment, kill_restores, kill_when, run, session
from ncm_mysql.names import side_prefix
from ncm_sql.tables import HISTORY_TABLE

BIG = '''
"""A table big enough that a restore takes a second or two, with a view and a trigger."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE big (id INT PRIMARY KEY, payload VARCHAR(200) NOT NULL)")
    op.execute("INSERT INTO big SELECT seq, LPAD(seq, 128, '0') FROM seq_1_to_200000")
    op.execute("CREATE TABLE changes (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(50))")
    op.execute("CREATE TRIGGER tr_big AFTER INSERT ON big FOR EACH ROW INSERT INTO changes (what) VALUES (NEW.id)")
    op.execute("CREATE VIEW v_percent AS SELECT id FROM big WHERE payload LIKE '%1'")
'''

LATER = '''
"""A table made after the backup."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE made_later (id INT)")
'''


async def query(url: str, statement: str, **params: object) -> list[sa.Row]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(sa.text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        await engine.dispose()


async def state(url: str) -> tuple[object, ...]:
    """Rows of ``big``, whether ``made_later`` exists, the history's versions (None: no
    table), and the view and trigger."""
    database = sa.make_url(url).database
    tables = {name for (name,) in await query(
        url, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db", db=database)}
    count = tuple((await query(url, "SELECT count(*), sum(length(payload)) FROM big"))[0]) if "big" in tables else None
    history = (tuple(v for (v,) in await query(url, f"SELECT version FROM {HISTORY_TABLE} ORDER BY 1"))
               if HISTORY_TABLE in tables else None)
    triggers = await query(url, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :db",
                           db=database)
    return count, "made_later" in tables, history, "v_percent" in tables, [tuple(t) for t in triggers]


async def leftovers(url: str) -> list[str]:
    """Databases and views a restore of the test database made and did not drop."""
    database = sa.make_url(url).database
    names = [name for (name,) in await query(url, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
             if name.startswith(side_prefix(database))]
    return names + [name for (name,) in await query(
        url, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db AND TABLE_NAME LIKE 'ncm\\_old\\_%'",
        db=database)]


@pytest.fixture
def backups(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
async def backed_up(database_url, write_migration, runner_factory, backups) -> str:
    """200,000 rows, a view, a trigger and their history, backed up as big.ncmbak; then a
    migration made later."""
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
                                 state=lambda: state(backed_up), tool="mariadb",
                                 recover=lambda: run(["repair"], env, migrations_dir.parent))
    assert any(seen == "before" and "mariadb" in kill.running for kill, seen in trials.outcomes), trials.summary()

    run(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent)
    assert await state(backed_up) == trials.backup
    assert await leftovers(backed_up) == []


async def test_the_next_run_drops_the_side_database_of_a_killed_restore(backed_up, migrations_dir, backups):
    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    before = await state(backed_up)
    kill = kill_when(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent,
                     lambda pid: "mariadb" in session(pid), whole_group=True)
    assert "mariadb" in kill.running
    assert await state(backed_up) == before
    assert len(await leftovers(backed_up)) == 1

    done = run(["run"], env, migrations_dir.parent)
    assert "left by an interrupted restore" in done.stderr
    assert await leftovers(backed_up) == []
