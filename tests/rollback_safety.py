"""The spec's rollback-safety downgrade (Best Practices, 3.), as written there, under a create_table
upgrade; shared by the SQLite, PostgreSQL and MariaDB tests of ``op.get_bind().execute("...")``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

SPEC_ROLLBACK_SAFETY = '''
"""Add user table."""
from alembic import op
import sqlalchemy as sa


def upgrade() -> None:
    """Add user table."""
    op.create_table('users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    """Safe rollback."""
    # Check if data exists before dropping
    result = op.get_bind().execute("SELECT COUNT(*) FROM users")
    if result.scalar() == 0:
        op.drop_table('users')
    else:
        raise Exception("Cannot drop table with data")
'''

NOT_SQL = '''
from alembic import op


def upgrade() -> None:
    op.get_bind().execute(["SELECT 1"])
'''


async def run_sql(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
