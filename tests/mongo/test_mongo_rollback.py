"""The rollback selectors, ``status`` after a failure and ``current`` through the real `ncm` on
MongoDB, whose down steps are operations rather than SQL."""

import json

import pytest
from pymongo import MongoClient

USERS = '''"""Users."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("users")


async def downgrade(ctx):
    await ctx.db.drop_collection("users")
'''
SEED = '''"""Seed users."""


async def upgrade(ctx):
    await ctx.db.users.insert_one({"_id": 1, "name": "ada"}, session=ctx.session)


async def downgrade(ctx):
    await ctx.db.users.delete_one({"_id": 1}, session=ctx.session)
'''
INDEX = '''"""Index users."""
transactional = False


async def upgrade(ctx):
    await ctx.db.users.create_index("name", name="ix_name")


async def downgrade(ctx):
    await ctx.db.users.drop_index("ix_name")
'''
BREAKS = '''"""Breaks."""


async def upgrade(ctx):
    await ctx.db.command("noSuchCommand", session=ctx.session)


async def downgrade(ctx):
    pass
'''


@pytest.fixture
def mongo_ncm(project, mongo_url, ncm):
    for name, source in (("001_users", USERS), ("002_seed", SEED), ("003_index", INDEX)):
        (project / "migrations" / f"{name}.py").write_text(source)
    return lambda *args, check=0: ncm(*args, env={"MIGRATION_DATABASE_URL": mongo_url}, check=check)


def states(mongo_ncm):
    return {m["version"]: m["state"] for m in json.loads(mongo_ncm("status", "--json").stdout)["migrations"]}


def test_version_reverts_every_later_migration(mongo_ncm, mongo_url):
    mongo_ncm("run")
    assert "3 migration(s) reverted" in mongo_ncm("rollback", "--version", "001").stdout
    assert set(states(mongo_ncm).values()) == {"pending"}
    with MongoClient(mongo_url) as client:
        assert "users" not in client.get_default_database().list_collection_names()


def test_to_keeps_the_version_and_reverts_what_follows(mongo_ncm):
    mongo_ncm("run")
    mongo_ncm("rollback", "--to", "001")
    assert states(mongo_ncm) == {"001_users": "applied", "002_seed": "pending", "003_index": "pending"}


def test_dry_run_lists_the_down_operations_and_reverts_nothing(mongo_ncm):
    mongo_ncm("run")
    out = mongo_ncm("rollback", "--version", "002", "--dry-run").stdout
    assert "db.users.drop_index('ix_name')" in out and "db.users.delete_one({'_id': 1})" in out
    assert set(states(mongo_ncm).values()) == {"applied"}


def test_status_shows_why_a_migration_failed_and_counts_it(project, mongo_ncm):
    (project / "migrations" / "004_breaks.py").write_text(BREAKS)
    mongo_ncm("run", check=1)
    out = mongo_ncm("status", "--exit-code", check=1).stdout
    assert "current: 003_index; pending: 0; failed: 1" in out
    (line,) = [x for x in out.splitlines() if x.startswith("failed: ")]
    assert "migration 004_breaks failed: " in line and "noSuchCommand" in line


def test_current_prints_the_applied_head(mongo_ncm):
    mongo_ncm("run", "--target-version", "002")
    assert mongo_ncm("current").stdout == "002_seed\n"
