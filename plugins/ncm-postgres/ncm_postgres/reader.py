"""``ncm status`` on PostgreSQL with asyncpg alone: one connection, two queries, no SQLAlchemy.

Only a plain URL (user, password, host, port, database, no query options) is read here; any
option (sslmode, a socket directory, ...) is the backend's to interpret, so it reads those."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ncm_core.reader import HistoryReader, HistorySnapshot, records_of
from ncm_postgres import SCHEMES, lock

TABLE = """SELECT to_regclass(CASE WHEN $1::text IS NULL THEN 'ncm_migrations'
                              ELSE format('%I.ncm_migrations', $1::text) END)::text"""


class PostgresReader(HistoryReader):
    PLUGIN_NAME = "postgresql"
    URL_SCHEMES = SCHEMES

    async def read(self) -> HistorySnapshot | None:
        url = urlsplit(self.config.database_url)
        database = unquote(url.path.removeprefix("/"))
        if url.query or url.fragment or not url.hostname or not database or "/" in database:
            return None
        import asyncpg

        schema = self.config.section("postgresql").schema_name
        conn = await asyncpg.connect(user=unquote(url.username or "") or None,
                                     password=unquote(url.password) if url.password is not None else None,
                                     host=url.hostname, port=url.port or 5432, database=database,
                                     timeout=self.config.connect_timeout)
        try:
            row = await conn.fetchrow(lock.holder_sql(), *lock.halves(lock.lock_key(database, schema)))
            holder = lock.holder_text(row) if row is not None else None
            table = await conn.fetchval(TABLE, schema)
            if table is None:
                return HistorySnapshot(self.PLUGIN_NAME, [], holder, None)
            statement = await conn.prepare(f"SELECT * FROM {table}")
            columns = [a.name for a in statement.get_attributes()]
            records = records_of(columns, await statement.fetch())
        finally:
            await conn.close()
        return None if records is None else HistorySnapshot(self.PLUGIN_NAME, records, holder, None)
