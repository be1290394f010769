"""Backups of a MySQL/MariaDB database with mariadb-dump (or mysqldump), restored with the client.

A backup is the SQL ``mariadb-dump --single-transaction`` writes for the one database:
consistent for InnoDB tables without locking writers, with routines, triggers, events and
AUTO_INCREMENT counters, binary columns as hex. A restore loads it with the client into a
side database and swaps the tables in at once (:mod:`ncm_mysql.swap`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sqlalchemy as sa

from ncm_sql.clitools import find_tool, tool_version

FORMAT = "mariadb-dump SQL"
PACKAGE = "mariadb-client (Debian/Ubuntu; or MySQL's mysql-client)"
MAX_PACKET = "1G"  # the client's limit; rows are still bounded by the server's max_allowed_packet


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Client:
    dump: str
    client: str
    version: str


async def client(mariadb: bool) -> Client:
    """The dump tool and client of the server's family, else of the other."""
    dumps, clients = ["mariadb-dump", "mysqldump"], ["mariadb", "mysql"]
    if not mariadb:
        dumps.reverse()
        clients.reverse()
    dump_tool, client_tool = find_tool(dumps, PACKAGE), find_tool(clients, PACKAGE)
    return Client(dump_tool, client_tool, await tool_version(dump_tool))


def connection_args(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """Command-line options for the URL, and the environment: the password travels in
    ``MYSQL_PWD``, never on a command line. ``--no-defaults`` first, so that an option file
    (``~/.my.cnf``) cannot point the tools at another server or user than ncm's own connection."""
    args = ["--no-defaults"]
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    if query.get("unix_socket"):
        args.append(f"--socket={query['unix_socket']}")
    else:
        args += ["--protocol=TCP", f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}"]
    if url.username:
        args.append(f"--user={url.username}")
    env = dict(os.environ)
    if url.password:
        env["MYSQL_PWD"] = url.password
    else:
        env.pop("MYSQL_PWD", None)
    return args, env


def dump_command(tools: Client, connection: list[str], database: str) -> list[str]:
    return [tools.dump, *connection, "--single-transaction", "--routines", "--triggers", "--events",
            "--hex-blob", "--default-character-set=utf8mb4", "--no-tablespaces",
            f"--max-allowed-packet={MAX_PACKET}", "--", database]


def restore_command(tools: Client, connection: list[str]) -> list[str]:
    return [tools.client, *connection, "--default-character-set=utf8mb4", "--batch",
            f"--max-allowed-packet={MAX_PACKET}"]
