"""The backend contract for SQL backends: migrations written with Alembic's op."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ncm_core.testing.contract import BackendContract


class SQLContract(BackendContract):
    def create_source(self, name: str) -> str:
        return f'''"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(50)))


def downgrade():
    op.drop_table("{name}")
'''

    def failing_source(self, name: str) -> str:
        return f'''"""Create {name}, then fail."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))
    raise RuntimeError("boom")
'''

    def invalid_source(self, name: str) -> str:
        return self.create_source(name) + "\n\ndef validate():\n    return False\n"

    def class_source(self, name: str) -> str:
        return f'''"""Create {name} from a class."""
from ncm_core import AbstractMigration


class Create(AbstractMigration):
    async def up(self, session):
        await session.execute("CREATE TABLE {name} (id INTEGER PRIMARY KEY)")

    async def down(self, session):
        await session.execute("DROP TABLE {name}")

    async def validate(self, session):
        return (await session.execute("SELECT COUNT(*) FROM {name}")).scalar() == 0
'''

    async def exists(self, runner: Any, name: str) -> bool:
        schema = runner.config.database_schema
        async with runner.db.engine.connect() as conn:
            return await conn.run_sync(lambda sync: sa.inspect(sync).has_table(name, schema=schema))
