"""What a SQLite test reads back from the database file, and a migration that fails half way."""

import sqlite3

BROKEN = '''
from alembic import op


def upgrade():
    op.execute("CREATE TABLE half (id INTEGER)")
    op.execute("INSERT INTO nowhere VALUES (1)")
'''


def _names(url: str, kinds: tuple[str, ...]) -> set[str]:
    marks = ", ".join("?" for _ in kinds)
    with sqlite3.connect(url.split("///", 1)[1]) as db:
        return {r[0] for r in db.execute(f"SELECT name FROM sqlite_master WHERE type IN ({marks})", kinds)}


def table_names(url: str) -> set[str]:
    return _names(url, ("table",))


def tables_and_indexes(url: str) -> set[str]:
    return _names(url, ("table", "index"))
