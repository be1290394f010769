"""``ncm status`` on MySQL/MariaDB with PyMySQL alone (aiomysql's own driver), in a thread.

Only a plain URL is read here (no query options: those are the backend's to interpret), and
only while no killed restore has left anything behind: the next command that takes the lock
finishes or undoes such a restore, so until then the backend is asked."""

from __future__ import annotations

import asyncio
from contextlib import closing
from typing import Any
from urllib.parse import unquote, urlsplit

from ncm_core.reader import HistoryReader, HistorySnapshot, records_of
from ncm_mysql import SCHEMES, names

LEFT_BEHIND = """SELECT
    (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(%(prefix)s)) = %(prefix)s)
  + (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %(db)s AND TABLE_NAME LIKE 'ncm\\_old\\_%%')"""
HISTORY = "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'ncm_migrations'"


class MySQLReader(HistoryReader):
    PLUGIN_NAME = "mysql"
    URL_SCHEMES = SCHEMES

    async def read(self) -> HistorySnapshot | None:
        url = urlsplit(self.config.database_url)
        database = unquote(url.path.removeprefix("/"))
        if url.query or url.fragment or not url.hostname or not database or "/" in database:
            return None
        return await asyncio.to_thread(self._read, url, database)

    def _read(self, url: Any, database: str) -> HistorySnapshot | None:
        import pymysql

        connection = pymysql.connect(host=url.hostname, port=url.port or 3306, user=unquote(url.username or ""),
                                     password=unquote(url.password or ""), database=database,
                                     connect_timeout=int(self.config.connect_timeout) or 1,
                                     charset=self.config.section("mysql").charset)
        with closing(connection), connection.cursor() as cursor:
            cursor.execute(LEFT_BEHIND, {"prefix": names.side_prefix(database), "db": database})
            if cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT IS_USED_LOCK(%s)", (names.lock_name(database),))
            owner = cursor.fetchone()[0]
            holder = None
            if owner is not None:
                cursor.execute(names.PROCESS, (owner,))
                holder = names.holder_text(owner, *(cursor.fetchone() or (None, None, None)))
            cursor.execute(HISTORY, (database,))
            if cursor.fetchone() is None:
                return HistorySnapshot(self.PLUGIN_NAME, [], holder, None)
            cursor.execute("SELECT * FROM ncm_migrations")
            records = records_of([d[0] for d in cursor.description], cursor.fetchall())
        return None if records is None else HistorySnapshot(self.PLUGIN_NAME, records, holder, None)
