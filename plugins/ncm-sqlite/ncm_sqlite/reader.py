"""``ncm status`` on SQLite with the standard library's sqlite3: no SQLAlchemy, no aiosqlite.

Opened read-only, so a status during a run neither waits for its write lock nor takes one
(a reader sees the last committed state, as the backend's read connection does)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from ncm_core.reader import HistoryReader, HistorySnapshot, records_of
from ncm_sqlite import SCHEMES, sidefiles

HISTORY = "ncm_migrations"


def database_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else (memory, a URI
    filename, a query, percent-escapes), which the backend reads through SQLAlchemy's parser."""
    _, _, rest = url.partition("://")
    if not rest.startswith("/") or any(c in rest for c in "?#%"):
        return None
    database = rest[1:]
    return Path(database) if database not in ("", ":memory:") else None


class SQLiteReader(HistoryReader):
    PLUGIN_NAME = "sqlite"
    URL_SCHEMES = SCHEMES

    async def read(self) -> HistorySnapshot | None:
        path = database_file(self.config.database_url)
        if path is None or not path.is_file():
            return None
        sidefiles.sweep(path)
        holder = sidefiles.holder(path)
        noted = sidefiles.noted_step(path) if holder else None
        records = await asyncio.to_thread(self._records, path)
        return None if records is None else HistorySnapshot(self.PLUGIN_NAME, records, holder, noted)

    def _records(self, path: Path) -> list | None:
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=self.config.lock_timeout)) as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (HISTORY,)).fetchone():
                return []
            cursor = conn.execute(f"SELECT * FROM {HISTORY}")
            return records_of([d[0] for d in cursor.description], cursor.fetchall())
