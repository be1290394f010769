"""kill -9 of ``ncm restore`` part way, on MongoDB: the archive fills temporary collections,
which are renamed in only once it has been read whole, so the database is exactly as before or
exactly the backup, and the next restore drops what a killed one left."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from interrupt import environment, kill_restores, kill_when, run

BIG = '''
"""A collection big enough that a restore takes a second or two, and a view of it."""
transactional = False


async def upgrade(ctx):
    for start in range(0, 100_000, 20_000):
        await ctx.db.big.insert_many([{"_id": i, "payload": f"{i:0128d}"} for i in range(start, start + 20_000)])
    await ctx.db.create_collection("even", viewOn="big", pipeline=[{"$match": {"_id": {"$mod": [2, 0]}}}])
'''

LATER = '''
"""A collection made after the backup."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("made_later")
'''


def state(url: str) -> tuple[object, ...]:
    """Documents of ``big``, the collections and views by name and type, and the history's
    versions; a killed restore's temporary collections are left out (:func:`leftovers`)."""
    with MongoClient(url) as client:
        db = client.get_default_database()
        kinds = tuple(sorted((info["name"], info["type"]) for info in db.list_collections()
                             if "ncm_restore." not in info["name"]))
        return db.big.count_documents({}), kinds, tuple(sorted(db.ncm_migrations.distinct("_id")))


def leftovers(url: str) -> list[str]:
    with MongoClient(url) as client:
        return [name for name in client.get_default_database().list_collection_names() if "ncm_restore." in name]


@pytest.fixture
def backups(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
async def backed_up(mongo_url, write_migration, runner_factory, backups) -> str:
    """100,000 documents, a view and their history, backed up as big.ncmbak; then a
    migration made later."""
    write_migration("001_big", BIG)
    async with runner_factory(mongo_url, backup_directory=backups) as runner:
        await runner.run_migrations()
        await runner.backup_database("big.ncmbak")
    write_migration("002_later", LATER)
    return mongo_url


@pytest.mark.parametrize("whole_group", [False, True], ids=["ncm-alone", "process-group"])
async def test_a_killed_restore_leaves_the_database_as_before_or_as_the_backup(
    backed_up, runner_factory, migrations_dir, backups, whole_group
):
    async def make_before() -> None:
        async with runner_factory(backed_up, backup_directory=backups) as runner:
            await runner.run_migrations()
        with MongoClient(backed_up) as client:
            client.get_default_database().big.delete_many({"_id": {"$gte": 1000}})

    async def now() -> tuple[object, ...]:
        """What the next command that takes the lock sees (it finishes a swap a kill interrupted)."""
        async with runner_factory(backed_up, backup_directory=backups) as runner:
            async with runner.db.lock():
                return state(backed_up)

    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    trials = await kill_restores("big.ncmbak", env, migrations_dir.parent, whole_group=whole_group,
                                 fractions=(0.5, 0.7, 0.9), make_before=make_before, state=now)
    assert any(seen == "before" and not kill.finished_first for kill, seen in trials.outcomes), trials.summary()

    run(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent)
    assert state(backed_up) == trials.backup
    assert leftovers(backed_up) == []


def test_the_next_restore_drops_the_collections_a_killed_one_left(backed_up, migrations_dir, backups):
    env = environment(backed_up, migrations_dir, MIGRATION_BACKUP_DIRECTORY=str(backups))
    before = state(backed_up)
    kill_when(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent,
              lambda pid: leftovers(backed_up) != [], whole_group=False)
    assert state(backed_up) == before
    assert leftovers(backed_up) != []

    run(["restore", "big.ncmbak", "--yes"], env, migrations_dir.parent)
    assert leftovers(backed_up) == []
