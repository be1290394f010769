"""Backup and restore on MongoDB: a dump written with the driver in mongodump's layout, on the real mongod."""

import io
import json
import os
import tarfile
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

import bson
import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from ncm_core.errors import BackupError
from ncm_mongo.documents import LOCK
from ncm_mongo.dump import dump_database
from ncm_mongo.restore import read_archive

RAW = CodecOptions(document_class=RawBSONDocument)
LARGE = 3 * 1024 * 1024

SCHEMA = '''
"""Every kind of collection and index MongoDB keeps options for."""
transactional = False

PEOPLE_SCHEMA = {"$jsonSchema": {"bsonType": "object", "required": ["email"], "properties": {
    "email": {"bsonType": "string"}, "age": {"bsonType": ["int", "null"], "minimum": 0}}}}


async def upgrade(ctx):
    db = ctx.db
    await db.create_collection("people", validator=PEOPLE_SCHEMA, validationLevel="moderate",
                               validationAction="error")
    await db.people.create_index("email", unique=True, name="ux_email")
    await db.people.create_index([("name", 1), ("age", -1)], name="ix_name_age")
    await db.people.create_index("age", name="ix_adult_age", partialFilterExpression={"age": {"$gte": 18}})
    await db.people.create_index("expires_at", name="ttl_expires", expireAfterSeconds=10 * 365 * 86400)
    await db.create_collection("events", capped=True, size=1 << 20, max=5)
    await db.create_collection("metrics", timeseries={"timeField": "at", "metaField": "sensor",
                                                      "granularity": "seconds"})
    await db.metrics.create_index([("sensor.id", 1), ("at", -1)], name="ix_sensor_at")
    await db.create_collection("words", collation={"locale": "fr", "strength": 2})
    await db.create_collection("adults", viewOn="people",
                               pipeline=[{"$match": {"age": {"$gte": 18}}}, {"$project": {"name": 1}}])
    await db.create_collection("bulk")
'''

LATER = '''
"""A collection made after the backup."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("later")


async def downgrade(ctx):
    await ctx.db.drop_collection("later")
'''


def database(client: MongoClient):
    return client.get_default_database()


def fill(url: str) -> None:
    """Documents of every awkward kind: unicode, nulls, binary, nested arrays, a few MB."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with MongoClient(url) as client:
        db = database(client)
        db.people.insert_many([
            {"_id": ObjectId(), "email": "zoë@example.com", "name": "Zoë Ölçer 🙂", "age": 41,
             "born": datetime(1983, 5, 1, tzinfo=timezone.utc), "nickname": None,
             "avatar": Binary(bytes(range(256))), "key": Binary(uuid.uuid4().bytes, 4),
             "tags": [["a", ["b", None, {"deep": [1, 2.5, Int64(2**40)]}]], []],
             "balance": Decimal128("12.50"), "expires_at": now + timedelta(days=1)},
            {"_id": "李白", "email": "李白@example.com", "name": "静夜思", "age": None},
            {"email": "large@example.com", "name": "Large", "age": 30,
             "photo": Binary(os.urandom(LARGE)), "notes": "x" * (1024 * 1024)},
        ])
        db.people.insert_one({"email": 42, "name": "written before the validator was tightened"},
                             bypass_document_validation=True)
        db.events.insert_many([{"n": i, "at": now} for i in range(8)])  # the capped collection keeps 5
        db.metrics.insert_many([{"at": now - timedelta(seconds=i), "sensor": {"id": i % 3}, "value": i / 3}
                                for i in range(60)])
        db.words.insert_many([{"_id": w} for w in ("été", "Ete", "côte")])
        # Enough small documents that a restore reads several chunks, documents straddling them.
        db.bulk.insert_many([{"i": i, "payload": os.urandom(4096)} for i in range(3000)])


def snapshot(url: str) -> dict:
    """Every collection and view but the lock: its type, options, indexes and documents as
    raw BSON (sorted, except a capped collection's, whose order is part of its state)."""
    state = {}
    with MongoClient(url) as client:
        db = database(client)
        for info in db.list_collections():
            name = info["name"]
            if name == LOCK:
                continue
            info.get("info", {}).pop("uuid", None)
            documents = [bytes(d.raw) for d in db.get_collection(name, codec_options=RAW).find()]
            indexes = [] if info["type"] == "view" else sorted(db[name].list_indexes(), key=lambda i: i["name"])
            capped = info["options"].get("capped")
            state[name] = {"info": info, "indexes": indexes, "documents": documents if capped else sorted(documents)}
    return state


def change_everything(url: str) -> None:
    with MongoClient(url) as client:
        db = database(client)
        db.people.delete_one({"_id": "李白"})
        db.people.update_one({"email": "zoë@example.com"}, {"$set": {"name": "changed", "tags": None}})
        db.people.insert_one({"email": "new@example.com", "age": 3})
        db.people.drop_index("ux_email")
        db.command("collMod", "people", validator={"$jsonSchema": {"required": ["name"]}}, validationLevel="strict")
        db.drop_collection("adults")
        db.create_collection("kids", viewOn="people", pipeline=[{"$match": {"age": {"$lt": 18}}}])
        db.drop_collection("events")
        db.metrics.insert_one({"at": datetime.now(timezone.utc), "sensor": {"id": 9}, "value": -1.0})
        db.bulk.delete_many({"i": {"$lt": 1000}})
        db.extra.insert_one({"made": "after the backup"})


@pytest.fixture
def prepared(mongo_url, write_migration):
    """A database with the schema applied and filled; migration 002 is written but pending."""
    write_migration("001_schema", SCHEMA)
    return mongo_url


async def apply_schema(runner, url):
    await runner.run_migrations(target_version="001_schema")
    fill(url)


async def test_restore_brings_back_documents_options_indexes_views_and_history(
    prepared, write_migration, runner_factory, tmp_path
):
    async with runner_factory(prepared, backup_directory=tmp_path / "backups") as runner:
        await apply_schema(runner, prepared)
        before, status, history = snapshot(prepared), await runner.get_status(), await runner.db.read_history()
        made = await runner.backup_database()
        write_migration("002_later", LATER)
        await runner.run_migrations()
        change_everything(prepared)
        assert snapshot(prepared) != before

        await runner.restore_database(made["location"])
        after = snapshot(prepared)
        assert after.keys() == before.keys()
        for name in before:
            assert after[name] == before[name], name
        assert await runner.db.read_history() == history
        rows = (await runner.get_status())["migrations"]
        assert rows[0] == status["migrations"][0] and (rows[1]["version"], rows[1]["state"]) == ("002_later", "pending")
        assert await runner.db.lock_holder() is None


async def test_restore_drops_collections_and_views_made_after_the_backup(prepared, runner_factory, tmp_path):
    async with runner_factory(prepared, backup_directory=tmp_path / "backups") as runner:
        await apply_schema(runner, prepared)
        made = await runner.backup_database()
        change_everything(prepared)
        await runner.restore_database(made["location"])
        names = set(await runner.db.db.list_collection_names())
    assert {"extra", "kids"}.isdisjoint(names) and {"adults", "events", "people"} <= names


async def test_backup_is_laid_out_as_mongodump_writes_it(prepared, runner_factory, tmp_path):
    async with runner_factory(prepared, backup_directory=tmp_path / "backups") as runner:
        await apply_schema(runner, prepared)
        made = await runner.backup_database()
    name = made["database"]
    with tarfile.open(made["location"], "r|") as tar:
        tar.extractall(tmp_path / "dump", filter="data")
    files = {p.name for p in (tmp_path / "dump" / name).iterdir()}
    assert files == {f"{c}.{kind}" for c in ("people", "events", "words", "bulk", "ncm_migrations", "ncm_audit")
                     for kind in ("bson", "metadata.json")} | {
        "metrics.metadata.json", "system.buckets.metrics.bson", "adults.metadata.json"}
    assert made["details"]["format"] == "mongodump directory layout in a tar stream"

    text = (tmp_path / "dump" / name / "people.metadata.json").read_text()
    metadata = json.loads(text)
    assert list(metadata) == ["options", "indexes", "uuid", "collectionName", "type"]
    assert '"v":{"$numberInt":"2"}' in text, "canonical Extended JSON, as mongodump writes"
    with MongoClient(prepared) as client:
        info = client.get_default_database().list_collections(filter={"name": "people"}).next()
        people = sorted(bytes(d.raw) for d in client.get_default_database().get_collection("people", codec_options=RAW).find())
    assert (metadata["uuid"], metadata["collectionName"], metadata["type"]) == (info["info"]["uuid"].hex(), "people",
                                                                                "collection")
    assert metadata["options"]["validationLevel"] == "moderate" and "$jsonSchema" in metadata["options"]["validator"]
    assert {i["name"] for i in metadata["indexes"]} == {"_id_", "ux_email", "ix_name_age", "ix_adult_age", "ttl_expires"}
    dumped = bson.decode_all((tmp_path / "dump" / name / "people.bson").read_bytes(), RAW)
    assert sorted(bytes(d.raw) for d in dumped) == people

    view = json.loads((tmp_path / "dump" / name / "adults.metadata.json").read_text())
    assert (view["type"], view["options"]["viewOn"], view["indexes"]) == ("view", "people", [])
    series = json.loads((tmp_path / "dump" / name / "metrics.metadata.json").read_text())
    assert series["type"] == "timeseries" and series["options"]["timeseries"]["timeField"] == "at"


async def test_encrypted_backup_round_trips_and_hides_the_documents(prepared, runner_factory, tmp_path):
    async with runner_factory(prepared, backup_directory=tmp_path / "backups",
                              encryption_key="correct horse battery staple") as runner:
        await apply_schema(runner, prepared)
        before = snapshot(prepared)
        made = await runner.backup_database()
        archive = open(made["location"], "rb").read()
        assert "Zoë".encode() not in archive and b"collectionName" not in archive and b"people" not in archive
        change_everything(prepared)
        await runner.restore_database(made["location"])
    assert snapshot(prepared) == before


async def test_wrong_key_fails_and_leaves_the_database_as_it_was(prepared, runner_factory, tmp_path):
    async with runner_factory(prepared, backup_directory=tmp_path / "backups", encryption_key="right") as runner:
        await apply_schema(runner, prepared)
        made = await runner.backup_database()
    change_everything(prepared)
    changed = snapshot(prepared)
    async with runner_factory(prepared, backup_directory=tmp_path / "backups", encryption_key="wrong") as runner:
        with pytest.raises(BackupError, match="encryption key is wrong"):
            await runner.restore_database(made["location"])
    assert snapshot(prepared) == changed


async def test_backup_on_a_standalone_server_round_trips_without_snapshot_reads(
    standalone_url, write_migration, runner_factory, tmp_path
):
    write_migration("001_schema", SCHEMA)
    async with runner_factory(standalone_url, backup_directory=tmp_path / "backups") as runner:
        await apply_schema(runner, standalone_url)
        before = snapshot(standalone_url)
        made = await runner.backup_database()
        change_everything(standalone_url)
        await runner.restore_database(made["location"])
    assert snapshot(standalone_url) == before
    assert made["details"]["consistency"] == "per document (no snapshot reads)"


class WritesLate(io.RawIOBase):
    """An archive sink that inserts a document into ``z_last`` when the first collection
    reaches it: after the dump's snapshot was taken, before ``z_last`` is read."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.data, self.wrote = url, io.BytesIO(), False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not self.wrote:
            with MongoClient(self.url) as client:
                database(client).z_last.insert_one({"late": True})
            self.wrote = True
        return self.data.write(data)


async def test_a_replica_set_backup_is_one_snapshot(mongo_url, runner_factory):
    with MongoClient(mongo_url) as client:
        db = database(client)
        db.a_first.insert_one({"first": True})
        for i in range(30):
            db[f"m_{i:02}"].insert_many([{"n": n} for n in range(200)])
        db.z_last.insert_one({"late": False})
    sink = WritesLate(mongo_url)
    async with runner_factory(mongo_url) as runner:
        details = await dump_database(runner.db.db, sink, snapshot=True, skip={LOCK})
    sink.data.seek(0)
    z_last = [d for item in read_archive(sink.data) if getattr(item, "collection", None) == "z_last"
              for d in item.batch]
    assert [d["late"] for d in z_last] == [False]
    assert details["consistency"].startswith("one snapshot of the replica set")
    with MongoClient(mongo_url) as client:
        assert database(client).z_last.count_documents({}) == 2


def test_an_archive_cut_inside_a_document_is_refused():
    document = bson.encode({"x": "y" * 100})
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w|") as tar:
        member = tarfile.TarInfo("app/c.bson")
        member.size = len(document) - 10
        tar.addfile(member, io.BytesIO(document))
    data.seek(0)
    with pytest.raises(BackupError, match="ends inside a document"):
        list(read_archive(data))


def test_cli_status_after_restore_shows_the_state_at_backup_time(mongo_url, project, ncm):
    env = {"MIGRATION_DATABASE_URL": mongo_url}
    (project / "migrations" / "001_schema.py").write_text(SCHEMA)
    ncm("run", env=env)
    assert ncm("backup", "before.bak", env=env).stdout.startswith("backup written to backups/before.bak")
    (project / "migrations" / "002_later.py").write_text(LATER)
    ncm("run", env=env)
    assert "pending: 0" in ncm("status", env=env).stdout
    assert ncm("restore", "before.bak", env=env).stdout.startswith("restored backups/before.bak")
    status = ncm("status", env=env).stdout
    assert "current: 001_schema; pending: 1" in status


@pytest.mark.slow
async def test_backup_and_restore_of_100_mb_keep_memory_flat(mongo_url, runner_factory, tmp_path):
    with MongoClient(mongo_url) as client:
        for start in range(0, 25_000, 2500):
            database(client).big.insert_many([{"n": i, "blob": os.urandom(4096)} for i in range(start, start + 2500)])
    async with runner_factory(mongo_url, backup_directory=tmp_path / "backups") as runner:
        tracemalloc.start()
        made = await runner.backup_database()
        _, backup_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await runner.restore_database(made["location"])
        _, restore_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert await runner.db.db.big.count_documents({}) == 25_000
    assert made["details"]["bson_bytes"] > 100_000_000
    print(f"\npeak Python allocations: backup {backup_peak / 2**20:.1f} MB, restore {restore_peak / 2**20:.1f} MB")
    assert backup_peak < 48 * 2**20 and restore_peak < 48 * 2**20, "memory grew with the database"
