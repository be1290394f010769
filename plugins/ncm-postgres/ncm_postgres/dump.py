"""Backups of a PostgreSQL database with pg_dump's custom format, restored in one transaction.

A backup is ``pg_dump -Fc`` (compressed, restorable with the stock ``pg_restore``) of the whole
database, or of the ``[postgresql]`` schema alone when one is configured. A restore runs, in ONE
transaction that psql opens with ``BEGIN``: first ``reset_database.sql`` (or
:func:`reset_schema_sql`), which drops everything the dump will recreate - every non-system
schema, so that objects created after the backup disappear too - then the SQL
``pg_restore`` renders from the archive, then ``COMMIT``, which ncm sends only once
pg_restore has read the whole archive and exited 0 (``ncm_sql.clitools.load_from``).
Whatever fails, and however ncm is stopped (kill -9 included), the database is left as it
was: psql never sees the COMMIT, its session ends, and the server rolls back.

Not ``psql --single-transaction``: at the end of its input psql commits, and when ncm dies
mid-restore the end of the pipe looks like the end of a complete input (a partial restore
was seen committed, down to a truncated last row of a COPY).

The client tools must not be older than the server (pg_dump refuses to dump a newer
server); :func:`client` checks that before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sqlalchemy as sa

from ncm_sql.clitools import find_tool, tool_version
from ncm_sql.sqlfiles import read_sql

FORMAT = "pg_dump custom (-Fc)"

def reset_schema_sql(schema: str) -> str:
    """Drop the one schema a ``[postgresql]`` schema's dump holds (the dump creates it again)."""
    return f"SET client_min_messages = warning;\nDROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE;\n"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Client:
    """The client tools found, and the version that was checked."""

    pg_dump: str
    pg_restore: str
    psql: str
    version: str


async def client(server_version_num: int) -> Client:
    """pg_dump, pg_restore and psql, checked to be at least the server's major version."""
    server_major = server_version_num // 10000
    package = f"postgresql-client-{server_major} (or newer)"
    tools = [find_tool([name], package) for name in ("pg_dump", "pg_restore", "psql")]
    return Client(*tools, version=await tool_version(tools[0], server_major, "PostgreSQL", package))


def environment(url: sa.URL, connect_timeout: float) -> dict[str, str]:
    """libpq's environment for the URL: the password travels here, never on a command line.

    Everything goes through variables (not ``-d``), so a database name with ``=`` in it is
    not taken for a connection string."""
    env = {**os.environ, "PGAPPNAME": "ncm", "PGCONNECT_TIMEOUT": str(max(2, int(connect_timeout)))}
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    for variable, value in (("PGHOST", url.host or query.get("host")), ("PGPORT", url.port or query.get("port")),
                            ("PGUSER", url.username), ("PGPASSWORD", url.password), ("PGDATABASE", url.database),
                            ("PGSSLMODE", query.get("sslmode") or query.get("ssl"))):
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def dump_command(tools: Client, schema: str | None) -> list[str]:
    cmd = [tools.pg_dump, "--format=custom", "--no-password"]
    if schema:
        cmd.append(f"--schema={quote_ident(schema)}")  # quoted: a name, not a pattern
    return cmd


COMMIT = b"COMMIT;\n"


def restore_commands(tools: Client, schema: str | None) -> list[list[str]]:
    """pg_restore renders the archive as SQL; psql opens the transaction, runs the reset and
    that SQL, and stops at the first error. The :data:`COMMIT` is ncm's to send."""
    reset = reset_schema_sql(schema) if schema else read_sql("ncm_postgres", "reset_database.sql")
    return [
        [tools.pg_restore, "--no-owner", "--file=-"],
        [tools.psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
         "--command=BEGIN", f"--command={reset}", "--file=-"],
    ]
