"""The shared backend contract against a real mongod running as a replica set.

The contract's "object" is a collection. Creating one may run in a transaction, dropping
one may not (MongoDB refuses ``drop`` there), so the sources whose down step drops are
marked ``transactional = False``; the failing source stays transactional, which is what
lets ``test_atomic_failure_leaves_nothing_behind`` prove atomicity on a replica set.
"""

from __future__ import annotations

from typing import Any

import pytest

from ncm_core.testing.contract import BackendContract


class MongoContract(BackendContract):
    def create_source(self, name: str) -> str:
        return f'''"""Create {name}."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("{name}", session=ctx.session)


async def downgrade(ctx):
    await ctx.db.drop_collection("{name}", session=ctx.session)
'''

    def failing_source(self, name: str) -> str:
        return f'''"""Create {name}, then fail."""


async def upgrade(ctx):
    await ctx.db.create_collection("{name}", session=ctx.session)
    await ctx.db["{name}"].insert_one({{"label": "half done"}}, session=ctx.session)
    raise RuntimeError("boom")
'''

    def invalid_source(self, name: str) -> str:
        return self.create_source(name) + '''

async def validate(ctx):
    return False
'''

    def class_source(self, name: str) -> str:
        return f'''"""Create {name} from a class."""
from ncm_core import AbstractMigration


class Create(AbstractMigration):
    transactional = False

    async def up(self, session):
        await session.client.get_default_database().create_collection("{name}", session=session)

    async def down(self, session):
        await session.client.get_default_database().drop_collection("{name}", session=session)

    async def validate(self, session):
        return await session.client.get_default_database()["{name}"].count_documents({{}}, session=session) == 0
'''

    async def exists(self, runner: Any, name: str) -> bool:
        return name in await runner.db.db.list_collection_names()


class TestMongoContract(MongoContract):
    @pytest.fixture
    def database_url(self, mongo_url):
        return mongo_url
