"""ncm vs Alembic vs a plain SQL file, on PostgreSQL and MariaDB.

For N one-table migrations (5 columns and an index each) this times, on a fresh database each
time and alternating the tools within one process run (these machines are noisy):

- ``ncm run``                     (asyncpg / aiomysql)
- ``alembic upgrade head``        (the async env.py template, same drivers)
- the same DDL as one SQL file    (``psql -1 -f`` / the ``mariadb`` client): the floor

and prints the median times and the ratios to the floor. Target: ncm within 1.2x of it.

Two more lines say where ncm's time goes:

- ``ncm's SQL via client``: what ncm sends for the same migrations (each one's DDL with its
  savepoint and history row on PostgreSQL; DDL, history row and commit on MariaDB) as one
  file through psql/mariadb: the server's share of an ``ncm run``;
- ``python imports``: a Python process importing what any tool on this stack imports
  (SQLAlchemy's asyncio layer, Alembic's op, the driver, ncm's CLI and config), and nothing else.

    python bench/bench_servers.py [--n 100 500] [--rounds 3] [--servers postgresql mysql]

Server URLs come from NCM_TEST_POSTGRES_URL / NCM_TEST_MYSQL_URL (defaults: the local
test servers); the benchmark creates and drops a database named ncm_bench on each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

BIN = Path(sys.executable).parent
DATABASE = "ncm_bench"
DEFAULT_URLS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+aiomysql://root@127.0.0.1:3306/test",
}
URL_VARS = {"postgresql": "NCM_TEST_POSTGRES_URL", "mysql": "NCM_TEST_MYSQL_URL"}
DRIVERS = {"postgresql": "postgresql+asyncpg", "mysql": "mysql+aiomysql"}

COLUMNS = '''sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200)),
        sa.Column("score", sa.Integer),
        sa.Column("created_at", sa.DateTime)'''

NCM_MIGRATION = '''"""Create t{i:04d}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table(
        "t{i:04d}",
        {columns},
    )
    op.create_index("ix_t{i:04d}_email", "t{i:04d}", ["email"])


def downgrade():
    op.drop_table("t{i:04d}")
'''

ALEMBIC_REVISION = '''"""Create t{i:04d}."""
import sqlalchemy as sa
from alembic import op

revision = "r{i:04d}"
down_revision = {down}


def upgrade():
    op.create_table(
        "t{i:04d}",
        {columns},
    )
    op.create_index("ix_t{i:04d}_email", "t{i:04d}", ["email"])


def downgrade():
    op.drop_table("t{i:04d}")
'''

ALEMBIC_ENV = '''import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations():
    engine = create_async_engine(os.environ["BENCH_URL"])
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


asyncio.run(run_async_migrations())
'''


def plain_sql(family: str, n: int) -> str:
    """The DDL the migrations run, compiled by SQLAlchemy for the dialect, as one script."""
    dialect = postgresql.dialect() if family == "postgresql" else mysql.dialect()
    options = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"} if family == "mysql" else {}
    statements = []
    for i in range(1, n + 1):
        table = sa.Table(
            f"t{i:04d}", sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100), nullable=False),
            sa.Column("email", sa.String(200)), sa.Column("score", sa.Integer), sa.Column("created_at", sa.DateTime),
            **options,
        )
        index = sa.Index(f"ix_t{i:04d}_email", table.c.email)
        statements += [str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip(),
                       str(sa.schema.CreateIndex(index).compile(dialect=dialect)).strip()]
    return ";\n".join(statements) + ";\n"


def ncm_statements(family: str, n: int) -> str:
    """The statements ``ncm run`` sends for these migrations, as a script for the client."""
    from ncm_core.history import HistoryRecord
    from ncm_sql import deferred, tables

    dialect = postgresql.dialect() if family == "postgresql" else mysql.dialect()
    metadata, history, _ = tables.build(None)
    insert = deferred.LiteralInsert(history, dialect)
    ddl = plain_sql(family, n).strip().split(";\n")
    script = [str(sa.schema.CreateTable(t).compile(dialect=dialect)).strip() for t in metadata.sorted_tables]
    for i in range(n):
        row = insert.render(tables.history_row(HistoryRecord(f"{i + 1:04d}_t{i + 1:04d}", f"Create t{i + 1:04d}.",
                                                             "schema", "0" * 64, execution_ms=1)))
        step = [ddl[2 * i], ddl[2 * i + 1].rstrip(";"), row]
        script += (["SAVEPOINT ncm_step", *step, "RELEASE SAVEPOINT ncm_step"] if family == "postgresql"
                   else [*step, "COMMIT"])
    return ";\n".join(script) + ";\n"


IMPORTS = {
    "postgresql": "import asyncpg, sqlalchemy.ext.asyncio, alembic.op, ncm_core.cli, ncm_core.config",
    "mysql": "import aiomysql, sqlalchemy.ext.asyncio, alembic.op, ncm_core.cli, ncm_core.config",
}


def write_projects(root: Path, family: str, n: int) -> dict[str, Path]:
    ncm_dir = root / "ncm" / "migrations"
    ncm_dir.mkdir(parents=True)
    alembic_dir = root / "alembic"
    (alembic_dir / "versions").mkdir(parents=True)
    for i in range(1, n + 1):
        (ncm_dir / f"{i:04d}_t{i:04d}.py").write_text(NCM_MIGRATION.format(i=i, columns=COLUMNS))
        down = f'"r{i - 1:04d}"' if i > 1 else "None"
        (alembic_dir / "versions" / f"r{i:04d}.py").write_text(
            ALEMBIC_REVISION.format(i=i, down=down, columns=COLUMNS))
    (alembic_dir / "env.py").write_text(ALEMBIC_ENV)
    (root / "alembic.ini").write_text(f"[alembic]\nscript_location = {alembic_dir}\n")
    (root / "plain.sql").write_text(plain_sql(family, n))
    (root / "ncm.sql").write_text(ncm_statements(family, n))
    return {"ncm": root / "ncm", "ini": root / "alembic.ini", "sql": root / "plain.sql", "ncm sql": root / "ncm.sql"}


class Server:
    def __init__(self, family: str) -> None:
        self.family = family
        self.url = sa.make_url(os.environ.get(URL_VARS[family], DEFAULT_URLS[family])).set(
            drivername=DRIVERS[family])
        self.bench_url = self.url.set(database=DATABASE).render_as_string(hide_password=False)

    def client(self, database: str) -> list[str]:
        u = self.url
        if self.family == "postgresql":
            return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.host or "127.0.0.1",
                    "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", database]
        return ["mariadb", "-h", u.host or "127.0.0.1", "-P", str(u.port or 3306),
                "-u", u.username or "root", database]

    def client_env(self) -> dict[str, str]:
        password = self.url.password or ""
        return {**os.environ, "PGPASSWORD": password, "MYSQL_PWD": password}

    def fresh_database(self) -> None:
        if self.family == "postgresql":
            sql = f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE); CREATE DATABASE {DATABASE};"
            cmds = [self.client(self.url.database or "postgres") + ["-c", s] for s in sql.split("; ") if s]
        else:
            cmds = [self.client("") + ["-e", f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE}"]]
        for cmd in cmds:
            subprocess.run(cmd, env=self.client_env(), check=True, capture_output=True)

    def drop_database(self) -> None:
        if self.family == "postgresql":
            cmd = self.client(self.url.database or "postgres") + ["-c", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"]
        else:
            cmd = self.client("") + ["-e", f"DROP DATABASE IF EXISTS {DATABASE}"]
        subprocess.run(cmd, env=self.client_env(), check=True, capture_output=True)

    def commands(self, paths: dict[str, Path]) -> dict[str, tuple[list[str], dict[str, str], Path | None]]:
        env = self.client_env()
        if self.family == "postgresql":
            plain = self.client(DATABASE) + ["-1", "-f", str(paths["sql"])], env, None
            ncm_sql = self.client(DATABASE) + ["-1", "-f", str(paths["ncm sql"])], env, None
        else:
            plain = self.client(DATABASE), env, paths["sql"]
            ncm_sql = self.client(DATABASE), env, paths["ncm sql"]
        return {
            "ncm": ([str(BIN / "ncm"), "run"], {**os.environ, "MIGRATION_DATABASE_URL": self.bench_url,
                    "MIGRATION_MIGRATION_DIRECTORY": str(paths["ncm"] / "migrations")}, None),
            "alembic": ([str(BIN / "alembic"), "-c", str(paths["ini"]), "upgrade", "head"],
                        {**os.environ, "BENCH_URL": self.bench_url}, None),
            "sql file": plain,
            "ncm's SQL via client": ncm_sql,
            "python imports": ([sys.executable, "-c", IMPORTS[self.family]], env, None),
        }


def timed(cmd: list[str], env: dict[str, str], stdin: Path | None, cwd: Path) -> float:
    started = time.perf_counter()
    with open(stdin) if stdin else open(os.devnull) as source:
        done = subprocess.run(cmd, env=env, stdin=source, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", nargs="+", default=["postgresql", "mysql"], choices=["postgresql", "mysql"])
    args = parser.parse_args()
    for family in args.servers:
        server = Server(family)
        for n in args.n:
            with tempfile.TemporaryDirectory(prefix="ncm-bench-") as tmp:
                paths = write_projects(Path(tmp), family, n)
                commands = server.commands(paths)
                times: dict[str, list[float]] = {name: [] for name in commands}
                for _ in range(args.rounds):
                    for name, (cmd, env, stdin) in commands.items():
                        server.fresh_database()
                        times[name].append(timed(cmd, env, stdin, Path(tmp)))
                server.drop_database()
            median = {name: statistics.median(t) for name, t in times.items()}
            floor = median["sql file"]
            print(f"{family} N={n}: ncm/alembic {median['ncm'] / median['alembic']:.2f}", flush=True)
            for name in commands:
                print(f"  {name:<22} {median[name]:6.2f} s  {median[name] / floor:5.2f}x the sql file", flush=True)


if __name__ == "__main__":
    if not shutil.which("psql") or not shutil.which("mariadb"):
        sys.exit("needs the psql and mariadb clients (apt-get install postgresql-client mariadb-client)")
    main()
