"""On a replica set a migration's writes and its history entry commit together, or not at all."""

import pytest
from pymongo import MongoClient

from ncm_core.errors import MigrationFileError
from ncm_core.history import FAILED

FAILS_AFTER_WRITING = '''"""Write to an existing and a new collection, then fail."""


async def upgrade(ctx):
    await ctx.db.accounts.insert_many([{"n": i} for i in range(100)], session=ctx.session)
    await ctx.db.accounts.update_many({}, {"$set": {"touched": True}}, session=ctx.session)
    await ctx.db.create_collection("ledger", session=ctx.session)
    await ctx.db.ledger.insert_one({"entry": 1}, session=ctx.session)
    raise RuntimeError("boom after writing")
'''


def documents(url, collection):
    with MongoClient(url) as client:
        return list(client.get_default_database()[collection].find({}, {"_id": 0}))


async def test_failed_transactional_migration_leaves_no_write_behind(mongo_url, write_migration, runner_factory):
    with MongoClient(mongo_url) as client:
        client.get_default_database().accounts.insert_one({"n": -1})
    write_migration("001_fails", FAILS_AFTER_WRITING)
    async with runner_factory(mongo_url) as runner:
        assert runner.db.is_atomic(runner.load().order[0])
        (result,) = await runner.run_migrations()
        assert result["status"] == FAILED and "boom after writing" in result["error"]
        assert "ledger" not in await runner.db.db.list_collection_names()
        assert [(r.version, r.status) for r in await runner.db.read_history()] == [("001_fails", FAILED)]
    assert documents(mongo_url, "accounts") == [{"n": -1}]


async def test_validate_false_rolls_back_the_writes_and_the_history_entry(mongo_url, write_migration, runner_factory):
    write_migration("001_invalid", '''"""Insert, then refuse."""


async def upgrade(ctx):
    await ctx.db.accounts.insert_one({"n": 1}, session=ctx.session)


async def validate(ctx):
    return await ctx.db.accounts.count_documents({}, session=ctx.session) == 2
''')
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations()
        assert result["status"] == FAILED and "validate() returned False" in result["error"]
    assert documents(mongo_url, "accounts") == []


async def test_validate_sees_the_uncommitted_writes_of_its_transaction(mongo_url, write_migration, runner_factory):
    write_migration("001_checked", '''"""Insert and check."""


async def upgrade(ctx):
    await ctx.db.accounts.insert_one({"n": 1}, session=ctx.session)


async def validate(ctx):
    return await ctx.db.accounts.count_documents({"n": 1}, session=ctx.session) == 1
''')
    async with runner_factory(mongo_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
    assert documents(mongo_url, "accounts") == [{"n": 1}]


async def test_ddl_refused_in_a_transaction_says_to_mark_the_migration(mongo_url, write_migration, runner_factory):
    with MongoClient(mongo_url) as client:
        client.get_default_database().accounts.insert_one({"email": "a@example.com"})
    write_migration("001_index", '''"""Index an existing collection inside a transaction."""


async def upgrade(ctx):
    await ctx.db.accounts.create_index("email", session=ctx.session)
''')
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations()
    assert result["status"] == FAILED
    assert "code 263" in result["error"] and "set `transactional = False`" in result["error"]


async def test_non_transactional_migration_builds_the_index_outside(mongo_url, write_migration, runner_factory):
    with MongoClient(mongo_url) as client:
        client.get_default_database().accounts.insert_one({"email": "a@example.com"})
    write_migration("001_index", '''"""Index an existing collection."""
type = "index"
transactional = False


async def upgrade(ctx):
    await ctx.db.accounts.create_index("email", unique=True, name="accounts_email", session=ctx.session)
''')
    async with runner_factory(mongo_url) as runner:
        assert not runner.db.is_atomic(runner.load().order[0])
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
        assert "accounts_email" in await runner.db.db.accounts.index_information()


@pytest.mark.parametrize("source", [
    "def upgrade():\n    pass\n",
    "async def upgrade(ctx):\n    pass\n\n\ndef validate(ctx):\n    return True\n",
])
async def test_a_synchronous_step_is_refused_before_anything_runs(mongo_url, write_migration, runner_factory, source):
    write_migration("001_sync", '"""Written for SQL."""\n\n' + source)
    async with runner_factory(mongo_url) as runner:
        with pytest.raises(MigrationFileError, match=r"001_sync.py: \w+\(\) is not async; MongoDB migrations"):
            await runner.run_migrations()
        assert await runner.db.read_history() == []
