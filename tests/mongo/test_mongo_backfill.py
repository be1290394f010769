"""Resumable batched backfills on a MongoDB replica set (tests/backfill_scenario.py): each batch
one bulk_write, committed with its checkpoint in one transaction."""

import pytest
from pymongo import AsyncMongoClient, MongoClient

from ncm_core.backfill import Checkpoint
from ncm_mongo.backfill import Count

from backfill_scenario import HEADER, KEYS, BackfillWorkers
from faults import ncm

ITEMS = '''"""Items with a counter."""


async def upgrade(ctx):
    await ctx.db.items.insert_many([{{"_id": k, "n": 0}} for k in {keys}], session=ctx.session)
'''.format(keys=KEYS)

BACKFILL = HEADER + '''
type = "data"


async def upgrade(ctx):
    stop_at, done = int(os.environ.get("NCM_TEST_STOP_AT", "0")), 0
    async for batch in ctx.backfill("items", size=10):
        with open(os.environ["NCM_TEST_LOG"], "a") as log:
            log.write(f"{batch.lo}\\n")
        await batch.update_many({"$inc": {"n": 1}})
        done += 1
        if done == stop_at:
            mark()
            await asyncio.sleep(pause())


async def downgrade(ctx):
    await ctx.db.items.update_many({}, {"$set": {"n": 0}}, session=ctx.session)
'''

MANY_ITEMS = '''"""20,000 items with a counter."""


async def upgrade(ctx):
    await ctx.db.items.insert_many([{"_id": k, "n": 0} for k in range(20_000)], session=ctx.session)
'''
COUNTING = '''"""Count each document's updates: no filter skips the done ones, so twice shows as 2."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("items", size=200):
        await batch.update_many({"$inc": {"n": 1}})
'''

LATER = '''"""A collection made after the backfill."""


async def upgrade(ctx):
    await ctx.db.create_collection("later", session=ctx.session)
'''


class TestMongoBackfill(BackfillWorkers):
    items_source, backfill_source, later_source = ITEMS, BACKFILL, LATER
    many_items_source, counting_source = MANY_ITEMS, COUNTING

    @pytest.fixture
    def url(self, mongo_url):
        return mongo_url

    def killed_at(self, url, project, monkeypatch, batch):
        """The killed run's transactions stay open on the server for a minute, and dropping the
        test's database would wait for them: their sessions (in the checkpoint's slots) are
        killed, as the next ncm run would kill them."""
        super().killed_at(url, project, monkeypatch, batch)
        with MongoClient(url) as client:
            slots = client.get_default_database().ncm_backfills.find({"version": "002_fill"})
            client.admin.command("killSessions", [slot["lsid"] for slot in slots])

    def counters(self, url):
        with MongoClient(url) as client:
            return {d["_id"]: d["n"] for d in client.get_default_database().items.find().sort("_id", 1)}

    def rows_done(self, url):
        """The more advanced of the checkpoint's two slots."""
        with MongoClient(url) as client:
            return max((slot["rows_done"] for slot in client.get_default_database().ncm_backfills.find()), default=0)


def run_migrations(url, migrations_dir, sources):
    """``sources`` (file name: text) written beside the migrations already there, then ``ncm run``."""
    migrations_dir.mkdir(exist_ok=True)
    for name, source in sources.items():
        (migrations_dir / name).write_text(source)
    done = ncm(url, migrations_dir, "run")
    assert done.returncode == 0, done.stderr


def test_a_backfill_runs_on_a_standalone_server_without_transactions(standalone_url, migrations_dir, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("NCM_TEST_LOG", str(tmp_path / "batches.log"))
    run_migrations(standalone_url, migrations_dir, {"001_items.py": ITEMS, "002_fill.py": BACKFILL})
    with MongoClient(standalone_url) as client:
        assert {d["n"] for d in client.get_default_database().items.find()} == {1}


async def test_the_documents_left_are_counted_as_they_were_when_the_checkpoint_was_written(mongo_url):
    """The count runs beside the first batches, whose writes (here: documents the filter no
    longer matches) must not shrink the total."""
    client = AsyncMongoClient(mongo_url)
    try:
        items = client.get_default_database().items
        await items.insert_many([{"_id": k, "done": False} for k in range(100)])
        async with client.start_session() as session:
            await client.get_default_database().ncm_backfills.insert_one({"_id": "001/items"}, session=session)
            written = session.operation_time
        await items.update_many({"_id": {"$lt": 40}}, {"$set": {"done": True}})
        point, left = Checkpoint("001", "items"), Count(items, {"done": False})
        left.at(point, written)
        await left.task
        left.take(point, None)
        assert point.rows_total == 100
    finally:
        await client.close()


TALLYING = '''"""Each batch also counts itself in one document outside its range."""
type = "data"
from pymongo import UpdateMany, UpdateOne


async def upgrade(ctx):
    async for batch in ctx.backfill("items", size=10):
        await batch.bulk_write([UpdateOne({"_id": 0}, {"$inc": {"batches": 1}}, upsert=True),
                                UpdateMany(batch.range, {"$inc": {"n": 1}})])
'''


def test_a_bulk_write_outside_the_batch_s_range_waits_for_the_batch_before_to_commit(mongo_url, migrations_dir):
    """Two batches in flight at once would both write document 0: the second would conflict."""
    run_migrations(mongo_url, migrations_dir, {"001_items.py": ITEMS, "002_tally.py": TALLYING})
    with MongoClient(mongo_url) as client:
        items = client.get_default_database().items
        assert items.find_one({"_id": 0})["batches"] == 10
        assert {d["n"] for d in items.find({"_id": {"$gt": 0}})} == {1}
