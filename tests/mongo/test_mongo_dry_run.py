"""A dry run lists each operation a pending migration would send, and sends none."""

from pymongo import MongoClient

SCHEMA = '''"""Users with a validator, an index and a first document."""
from pymongo import ASCENDING


async def upgrade(ctx):
    await ctx.db.create_collection("users", validator={"$jsonSchema": {"required": ["email"]}}, session=ctx.session)
    await ctx.db.users.create_index([("email", ASCENDING)], unique=True, session=ctx.session)
    await ctx.db["users"].insert_one({"email": "a@example.com"}, session=ctx.session)
    async for _ in ctx.db.users.find({}, session=ctx.session):
        raise AssertionError("a dry run reads nothing")
    await ctx.db.command("collMod", "users", validationLevel="moderate", session=ctx.session)
'''

CLASS_FORM = '''"""From a class."""
from ncm_core import AbstractMigration


class Seed(AbstractMigration):
    async def up(self, session):
        db = session.client.get_default_database()
        await db.roles.update_one({"name": "admin"}, {"$setOnInsert": {"name": "admin"}}, upsert=True, session=session)
'''


async def test_dry_run_lists_each_operation_without_sending_it(mongo_url, write_migration, runner_factory):
    write_migration("001_users", SCHEMA)
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations(dry_run=True)
    assert result["statements"] == [
        "db.create_collection('users', validator={'$jsonSchema': {'required': ['email']}})",
        "db.users.create_index([('email', 1)], unique=True)",
        "db.users.insert_one({'email': 'a@example.com'})",
        "db.users.find({})",
        "db.command('collMod', 'users', validationLevel='moderate')",
    ]
    with MongoClient(mongo_url) as client:
        assert client.get_default_database().list_collection_names() == []


async def test_dry_run_of_a_class_form_migration(mongo_url, write_migration, runner_factory):
    write_migration("001_roles", CLASS_FORM)
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations(dry_run=True)
    assert result["statements"] == [
        "db.roles.update_one({'name': 'admin'}, {'$setOnInsert': {'name': 'admin'}}, upsert=True)"]


async def test_dry_run_of_a_data_migration_shows_the_batched_read(mongo_url, write_migration, runner_factory):
    write_migration("001_data", '''"""Batches."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.batches("users", {"active": True}, {"email": 1}, size=500):
        await ctx.db.users.bulk_write([], session=ctx.session)
''')
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations(dry_run=True)
    assert result["statements"] == [
        "db.users.find({'active': True}, {'email': 1}).sort('_id', 1).limit(500)  -- repeated per batch, _id > last"]
