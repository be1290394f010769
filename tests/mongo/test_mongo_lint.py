"""``ncm lint`` on MongoDB: the calls a migration makes on the recording context, read as
operations; "existing" is a collection the database holds (made here with PyMongo)."""

import textwrap

import pytest
from pymongo import MongoClient

from ncm_core.config import MigrationConfig
from ncm_core.lint import run
from ncm_core.runner import MigrationRunner

FILE = '''"""Case."""
from pymongo import ASCENDING, IndexModel
type = "{type}"


async def upgrade(ctx):
{body}
'''
# (code, failing body, passing body, migration type); {line} marks the call the finding points at.
CASES = [
    ("DS101", 'await ctx.client.drop_database("other")  # {line}', 'await ctx.db.users.find_one({})', "schema"),
    ("DS102", 'await ctx.db.drop_collection("users")  # {line}',
     'await ctx.db.create_collection("tmp")\nawait ctx.db.drop_collection("tmp")', "schema"),
    ("DS102", 'await ctx.db.users.drop(session=ctx.session)  # {line}', 'await ctx.db.fresh.drop()', "schema"),
    ("DS103", 'await ctx.db.users.update_many({}, {"$unset": {"email": ""}})  # {line}',
     'await ctx.db.users.update_many({}, {"$set": {"active": True}})', "schema"),
    ("BC101", 'await ctx.db.users.rename("people")  # {line}', 'await ctx.db.create_collection("people")', "schema"),
    ("BC102", 'await ctx.db.users.update_many({}, {"$rename": {"email": "mail"}})  # {line}',
     'await ctx.db.users.update_many({}, {"$set": {"mail": None}})', "schema"),
    ("MF101", 'await ctx.db.users.create_index([("email", ASCENDING)], unique=True)  # {line}',
     'await ctx.db.users.create_index([("email", ASCENDING)])', "index"),
    ("MG101", 'await ctx.db.users.create_index([("email", ASCENDING)])  # {line}',
     'await ctx.db.users.create_index([("email", ASCENDING)], hidden=True)', "index"),
    ("MG101", 'await ctx.db.users.create_indexes([IndexModel([("email", ASCENDING)])])  # {line}',
     'await ctx.db.fresh.create_indexes([IndexModel([("email", ASCENDING)])])', "index"),
    ("MG102", 'await ctx.db.users.update_many({}, {"$set": {"active": True}})  # {line}',
     'await ctx.db.users.update_many({"active": None}, {"$set": {"active": True}})', "data"),
    ("MG102", 'await ctx.db.users.delete_many({})  # {line}', 'await ctx.db.users.delete_many({"spam": True})', "data"),
    ("MG104", 'await ctx.db.users.update_many({"active": None}, {"$set": {"active": True}})  # {line}',
     'async for docs in ctx.batches("users", {"active": None}):\n'
     '    await ctx.db.users.update_many({"_id": {"$in": [d["_id"] for d in docs]}}, {"$set": {"active": True}})',
     "data"),
    ("MG103", 'await ctx.db.command("collMod", "users", validator={"$jsonSchema": {"required": ["email"]}})  # {line}',
     'await ctx.db.command("collMod", "users", validator={"$jsonSchema": {"required": ["email"]}}, '
     'validationAction="warn")', "schema"),
    ("MG103", 'await ctx.db.command({"collMod": "users", "validator": {"$jsonSchema": {}}})  # {line}',
     'await ctx.db.command({"collMod": "fresh", "validator": {"$jsonSchema": {}}})', "schema"),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def write(directory, body, type_):
    lines = textwrap.dedent(body).splitlines()
    marked = next((i for i, text in enumerate(lines) if "{line}" in text), None)
    indented = "\n".join("    " + t.replace("  # {line}", "") for t in lines)
    text = FILE.format(type=type_, body=indented)
    (directory / "001_case.py").write_text(text)
    return None if marked is None else text.splitlines().index("async def upgrade(ctx):") + 2 + marked


async def lint(url, directory):
    with MongoClient(url) as client:
        client.get_default_database().users.insert_one({"email": "a@example.com"})
    runner = MigrationRunner(MigrationConfig(database_url=url, migration_directory=directory))
    try:
        return [(f.code, f.line) for f in (await run.lint_selected(runner, [], None, False)).findings]
    finally:
        await runner.close()


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_flags_its_failing_example(case, mongo_url, migrations_dir):
    code, failing, _, type_ = case
    line = write(migrations_dir, failing, type_)
    assert (code, line) in await lint(mongo_url, migrations_dir)


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_passes_its_passing_example(case, mongo_url, migrations_dir):
    code, _, passing, type_ = case
    write(migrations_dir, passing, type_)
    assert code not in {c for c, _ in await lint(mongo_url, migrations_dir)}


async def test_linting_sends_no_operation(mongo_url, migrations_dir):
    write(migrations_dir, 'await ctx.db.drop_collection("users")', "schema")
    await lint(mongo_url, migrations_dir)
    with MongoClient(mongo_url) as client:
        assert client.get_default_database().list_collection_names() == ["users"]
