"""Migrations and readers for the ``log_file`` tests, shared by SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

USERS = '''
"""Add users."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(20))")


def downgrade():
    op.execute("DROP TABLE users")
'''

DUPLICATE_SEED = '''
"""Seed users twice."""
from alembic import op


def upgrade():
    op.execute("INSERT INTO users (id, name) VALUES (1, 'ada')")
    op.execute("INSERT INTO users (id, name) VALUES (1, 'bob')")
'''


def write_migrations(directory: Path, failing: bool = False) -> None:
    (directory / "001_users.py").write_text(USERS, encoding="utf-8")
    if failing:
        (directory / "002_seed.py").write_text(DUPLICATE_SEED, encoding="utf-8")


def events(path: Path) -> list[dict]:
    """The JSON objects of a ``.jsonl`` log, one a line (each line must be one)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
