"""SQLAlchemy models in two versions, written as a user's ``models.py`` would be, and helpers
to put a database in a given state and read its schema back."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_sql.autogenerate import IGNORED_TABLES, load_metadata

HEADER = '''import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
'''

EMPTY = HEADER

SHOP = HEADER + '''
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(50), index=True),
)
orders = sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
)
'''

BASE = HEADER + '''
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100), nullable=False),
    sa.Column("name", sa.String(50)),
)
orders = sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
)
'''

GROWN = HEADER + '''
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(200), index=True),
    sa.Column("nickname", sa.String(30)),
)
orders = sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
)
products = sa.Table("products", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(20), nullable=False, unique=True),
)
'''
"""BASE plus a table, a column, a wider type, an index, a unique constraint and a foreign key."""


def write_models(directory: Path, source: str) -> str:
    """Write ``source`` as a new module in ``directory``; return its ``module:metadata`` reference.
    Each call gets its own module name, so an earlier import is never reused."""
    name = f"models_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(source)
    return f"{name}:metadata"


async def create_schema(url: str, ref: str) -> None:
    """Bring a database to the models ``ref`` names without ncm (as another tool would)."""
    metadata = load_metadata(ref)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


async def execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def schema(url: str) -> dict[str, Any]:
    """Every application table's columns (in order, with types), primary key, indexes, unique
    constraints and foreign keys, as SQLAlchemy's inspector reflects them."""
    def read(conn: sa.Connection) -> dict[str, Any]:
        inspector = sa.inspect(conn)
        found = {}
        for table in sorted(set(inspector.get_table_names()) - IGNORED_TABLES):
            found[table] = {
                "columns": [(c["name"], c["type"].compile(dialect=conn.dialect), c["nullable"])
                            for c in inspector.get_columns(table)],
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in inspector.get_indexes(table)),
                "unique constraints": sorted((u["name"], tuple(u["column_names"]))
                                             for u in inspector.get_unique_constraints(table)),
                "foreign keys": sorted((f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"],
                                        tuple(f["referred_columns"])) for f in inspector.get_foreign_keys(table)),
            }
        return found

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


def operations(source: str) -> set[str]:
    """The Alembic operations a migration file calls (``op.x(...)`` or ``batch_op.x(...)``)."""
    return set(re.findall(r"\b(?:op|batch_op)\.(\w+)\(", source))
