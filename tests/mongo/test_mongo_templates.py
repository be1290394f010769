"""`ncm create` on MongoDB writes files from the mongodb templates that apply as created, and
whose commented examples run when uncommented."""

import re

import pytest
from pymongo import MongoClient

from ncm_core.history import APPLIED

TYPES = ["schema", "index", "data", "seed"]
EXAMPLE = re.compile(r"^(\s*)#     ", re.MULTILINE)  # "    #     await ..." is an example line


async def create(runner, kind):
    version = await runner.create_migration(f"example {kind}", kind)
    return runner.config.migration_directory / f"{version}.py"


@pytest.mark.parametrize("kind", TYPES)
async def test_template_applies_and_rolls_back_as_created(mongo_url, runner_factory, kind):
    async with runner_factory(mongo_url) as runner:
        path = await create(runner, kind)
        assert path.read_text().startswith(f'"""example {kind}\n\n{kind.capitalize()} migration, created ')
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
        assert [r["status"] for r in await runner.rollback_migration(steps=1)] == ["reverted"]


@pytest.mark.parametrize("kind", ["schema", "index"])
async def test_template_examples_run_when_uncommented(mongo_url, runner_factory, kind):
    async with runner_factory(mongo_url) as runner:
        path = await create(runner, kind)
        path.write_text(EXAMPLE.sub(r"\1", path.read_text()))
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED], path.read_text()
        names = set(await runner.db.db.list_collection_names())
        assert [r["status"] for r in await runner.rollback_migration(steps=1)] == ["reverted"]
        left = set(await runner.db.db.list_collection_names())
    if kind == "schema":
        assert {"accounts", "events", "readings"} <= names and not {"accounts", "events", "readings", "users"} & left
    else:
        with MongoClient(mongo_url) as client:
            assert sorted(client.get_default_database().orders.index_information()) == ["_id_"]


async def test_seed_rerun_inserts_no_duplicates(mongo_url, runner_factory):
    async with runner_factory(mongo_url) as runner:
        path = await create(runner, "seed")
        source = path.read_text()
        filled = source.replace('    # {"name": "admin", "description": "Full access"},\n',
                                '    {"name": "admin", "description": "Full access"},\n'
                                '    {"name": "viewer", "description": "Read only"},\n')
        assert filled != source
        path.write_text(filled)
        await runner.db.db.roles.insert_one({"name": "admin", "description": "kept as it was"})
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
        roles = await runner.db.db.roles.find({}, {"_id": 0}).sort("name").to_list()
        assert roles == [{"name": "admin", "description": "kept as it was"},
                         {"name": "viewer", "description": "Read only"}]
        await runner.rollback_migration(steps=1)
        assert await runner.db.db.roles.count_documents({}) == 0
