"""Resumable batched backfills on a MongoDB replica set (tests/backfill_scenario.py): each batch
one bulk_write, committed with its checkpoint in one transaction."""

import pytest
from pymongo import MongoClient

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

LATER = '''"""A collection made after the backfill."""


async def upgrade(ctx):
    await ctx.db.create_collection("later", session=ctx.session)
'''


class TestMongoBackfill(BackfillWorkers):
    items_source, backfill_source, later_source = ITEMS, BACKFILL, LATER

    @pytest.fixture
    def url(self, mongo_url):
        return mongo_url

    def killed_at(self, url, project, monkeypatch, batch):
        """The killed run's transaction stays open on the server for a minute, and dropping the
        test's database would wait for it: its session (in the checkpoint) is killed, as the
        next ncm run would kill it."""
        super().killed_at(url, project, monkeypatch, batch)
        with MongoClient(url) as client:
            lsid = client.get_default_database().ncm_backfills.find_one({"_id": "002_fill/items"})["lsid"]
            client.admin.command("killSessions", [lsid])

    def counters(self, url):
        with MongoClient(url) as client:
            return {d["_id"]: d["n"] for d in client.get_default_database().items.find().sort("_id", 1)}


def test_a_backfill_runs_on_a_standalone_server_without_transactions(standalone_url, migrations_dir, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("NCM_TEST_LOG", str(tmp_path / "batches.log"))
    migrations_dir.mkdir(exist_ok=True)
    (migrations_dir / "001_items.py").write_text(ITEMS)
    (migrations_dir / "002_fill.py").write_text(BACKFILL)
    done = ncm(standalone_url, migrations_dir, "run")
    assert done.returncode == 0, done.stderr
    with MongoClient(standalone_url) as client:
        assert {d["n"] for d in client.get_default_database().items.find()} == {1}
