"""ncm backup/restore against the native tools on PostgreSQL and MariaDB, alternately, in one run.

    .venv/bin/python bench/bench_backup.py [size_mb] [postgres|mariadb ...] [--rounds N] [--database NAME]

(default 200 MB, both servers, 5 rounds). Builds a database of about ``size_mb`` MB (text,
bytea/BLOB, an index) on the servers that NCM_TEST_POSTGRES_URL / NCM_TEST_MYSQL_URL name,
then times, round after round, each against the native tool with the same format and
compression: ``pg_dump --format=custom`` (its default compression) vs
``runner.backup_database()``, and ``pg_restore --clean --if-exists --no-owner --dbname``
(no --jobs, as ncm) vs ``runner.restore_database()`` (ncm's restore is one transaction);
on MariaDB ``mariadb-dump --single-transaction --routines --triggers --events --hex-blob``
and the ``mariadb`` client (ncm loads into a side database and swaps it in); the encrypted
variants too. Prints each one's median wall time, its median CPU time (this process and its
children: the tools and ncm, not the server) and the ratio to the native tool (target: within
1.1x). The ncm figures are the runner API's: ``ncm backup`` on the command line adds the
interpreter's start (about a second).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa

from ncm_core.config import MigrationConfig
from ncm_core.runner import MigrationRunner

DATABASE = "ncm_bench_backup"
POSTGRES_URL = os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("NCM_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test")


def sh(cmd: list[str], env: dict[str, str], stdin: Path | None = None, stdout: Path | None = None) -> None:
    with open(stdin or os.devnull, "rb") as source, open(stdout or os.devnull, "wb") as sink:
        done = subprocess.run(cmd, env=env, stdin=source, stdout=sink, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr.decode(errors='replace').strip()[-2000:]}")


class Postgres:
    name = "PostgreSQL"

    def __init__(self, size_mb: int) -> None:
        server = sa.make_url(POSTGRES_URL)
        self.url = server.set(database=DATABASE).render_as_string(hide_password=False)
        self.env = {**os.environ, "PGHOST": server.host or "127.0.0.1", "PGPORT": str(server.port or 5432),
                    "PGUSER": server.username or "postgres", "PGDATABASE": DATABASE}
        if server.password:
            self.env["PGPASSWORD"] = server.password
        self.admin = {**self.env, "PGDATABASE": server.database or "postgres"}
        rows = size_mb * 1024 * 1024 // 420  # one events row (~230 B) and one blobs row (~190 B) each
        self.drop()
        sh(["psql", "-X", "-q", "-c", f'CREATE DATABASE "{DATABASE}"'], self.admin)
        sh(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"""
            CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, kind text NOT NULL,
                                 body text);
            INSERT INTO events SELECT i, now() - i * interval '1 minute', 'kind ' || (i % 50),
                   md5(i::text) || md5((i * 3)::text) || ' ünïcödé ' || md5((i * 5)::text) || md5((i * 7)::text)
            FROM generate_series(1, {rows}) i;
            CREATE INDEX ix_events_kind ON events (kind, created_at);
            CREATE TABLE blobs (id bigint PRIMARY KEY, data bytea);
            INSERT INTO blobs SELECT i, decode(md5(i::text) || md5((-i)::text) || md5((i * 3)::text)
                   || md5((i * 5)::text) || md5((i * 7)::text) || md5((i * 11)::text) || md5((i * 13)::text)
                   || md5((i * 17)::text), 'hex')
            FROM generate_series(1, {rows}) i;""", "-c", "VACUUM ANALYZE"], self.env)

    def size(self) -> int:
        out = subprocess.run(["psql", "-X", "-At", "-c", "SELECT pg_database_size(current_database())"],
                             env=self.env, capture_output=True, text=True, check=True)
        return int(out.stdout)

    def drop(self) -> None:
        sh(["psql", "-X", "-q", "-c", f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'], self.admin)

    def native_backup(self, target: Path) -> None:
        sh(["pg_dump", "--format=custom"], self.env, stdout=target)

    def native_restore(self, source: Path) -> None:
        sh(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", DATABASE], self.env, stdin=source)


class MariaDB:
    name = "MariaDB"

    def __init__(self, size_mb: int) -> None:
        server = sa.make_url(MYSQL_URL)
        self.url = server.set(database=DATABASE).render_as_string(hide_password=False)
        self.args = ["--no-defaults", "--protocol=TCP", f"--host={server.host or '127.0.0.1'}",
                     f"--port={server.port or 3306}", f"--user={server.username or 'root'}"]
        self.env = {**os.environ, **({"MYSQL_PWD": server.password} if server.password else {})}
        rows = size_mb * 1024 * 1024 // 420
        script = f"""
            DROP DATABASE IF EXISTS `{DATABASE}`;
            CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4;
            USE `{DATABASE}`;
            CREATE TABLE events (id BIGINT PRIMARY KEY, created_at DATETIME NOT NULL, kind VARCHAR(20) NOT NULL,
                                 body TEXT, KEY ix_events_kind (kind, created_at));
            INSERT INTO events SELECT seq, NOW() - INTERVAL seq MINUTE, CONCAT('kind ', seq % 50),
                   CONCAT(MD5(seq), MD5(seq * 3), ' ünïcödé ', MD5(seq * 5), MD5(seq * 7)) FROM seq_1_to_{rows};
            CREATE TABLE blobs (id BIGINT PRIMARY KEY, data BLOB);
            INSERT INTO blobs SELECT seq, UNHEX(CONCAT(MD5(seq), MD5(-seq), MD5(seq * 3), MD5(seq * 5),
                   MD5(seq * 7), MD5(seq * 11), MD5(seq * 13), MD5(seq * 17))) FROM seq_1_to_{rows};
            ANALYZE TABLE events, blobs;
        """
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
            f.write(script)
            f.flush()
            sh(["mariadb", *self.args, "--default-character-set=utf8mb4"], self.env, stdin=Path(f.name))

    def size(self) -> int:
        out = subprocess.run(["mariadb", *self.args, "-N", "-e",
                              "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES "
                              f"WHERE TABLE_SCHEMA = '{DATABASE}'"], env=self.env, capture_output=True, text=True,
                             check=True)
        return int(out.stdout)

    def drop(self) -> None:
        sh(["mariadb", *self.args, "-e", f"DROP DATABASE IF EXISTS `{DATABASE}`"], self.env)

    def native_backup(self, target: Path) -> None:
        sh(["mariadb-dump", *self.args, "--single-transaction", "--routines", "--triggers", "--events",
            "--hex-blob", "--default-character-set=utf8mb4", DATABASE], self.env, stdout=target)

    def native_restore(self, source: Path) -> None:
        sh(["mariadb", *self.args, "--default-character-set=utf8mb4", DATABASE], self.env, stdin=source)


def _cpu() -> float:
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                           resource.RUSAGE_CHILDREN)))


async def timed(action: Callable[[], Awaitable[object] | object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``action``."""
    started, cpu = time.perf_counter(), _cpu()
    result = action()
    if asyncio.iscoroutine(result):
        await result
    return time.perf_counter() - started, _cpu() - cpu


async def bench(server: Postgres | MariaDB, root: Path, rounds: int) -> None:
    size = server.size()
    migrations = root / "migrations"
    migrations.mkdir(exist_ok=True)
    common = {"database_url": server.url, "migration_directory": migrations, "backup_retention": 0}
    plain = MigrationRunner(MigrationConfig(**common, backup_directory=root / "plain"))
    secret = MigrationRunner(MigrationConfig(**common, backup_directory=root / "secret",
                                             encryption_key="bench passphrase"))
    await plain.initialize()
    await secret.initialize()
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in (
        "native backup", "ncm backup", "ncm backup (encrypted)",
        "native restore", "ncm restore", "ncm restore (encrypted)")}
    sizes: dict[str, int] = {}
    try:
        for _ in range(rounds):
            native = root / "native.dump"
            times["native backup"].append(await timed(lambda: server.native_backup(native)))
            made: dict = {}
            times["ncm backup"].append(await timed(lambda: _into(made, plain.backup_database())))
            secret_made: dict = {}
            times["ncm backup (encrypted)"].append(await timed(lambda: _into(secret_made, secret.backup_database())))
            sizes.update(native=native.stat().st_size, ncm=made["size"], encrypted=secret_made["size"])

            times["native restore"].append(await timed(lambda: server.native_restore(native)))
            times["ncm restore"].append(await timed(lambda: plain.restore_database(made["location"])))
            times["ncm restore (encrypted)"].append(
                await timed(lambda: secret.restore_database(secret_made["location"])))
            for leftover in (native, Path(made["location"]), Path(secret_made["location"])):
                leftover.unlink()
    finally:
        await plain.close()
        await secret.close()
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"\n{server.name}: database {size / 2**20:.0f} MB; archives: native {sizes['native'] / 2**20:.1f} MB, "
          f"ncm {sizes['ncm'] / 2**20:.1f} MB, encrypted {sizes['encrypted'] / 2**20:.1f} MB; median of {rounds}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  {'':26} {'wall':>7}    {'MB/s':>6}  {'ratio':>5}        {'CPU':>6}    {'ratio':>5}")
    for name in times:
        base = "native backup" if "backup" in name else "native restore"
        print(f"  {name:26} {wall[name]:7.2f} s  {size / 2**20 / wall[name]:6.0f}  {wall[name] / wall[base]:5.2f}x native"
              f"  {cpu[name]:6.2f} s  {cpu[name] / cpu[base]:5.2f}x")


async def _into(target: dict, made: Awaitable[dict]) -> None:
    target.update(await made)


async def main(size_mb: int, which: list[str], rounds: int) -> None:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        for name, make in (("postgres", Postgres), ("mariadb", MariaDB)):
            if name in which:
                started = time.perf_counter()
                server = make(size_mb)
                print(f"{server.name}: built in {time.perf_counter() - started:.0f} s", flush=True)
                root = Path(tmp) / name
                root.mkdir()
                try:
                    await bench(server, root, rounds)
                finally:
                    server.drop()
                    shutil.rmtree(root)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size_mb", nargs="?", type=int, default=200, help="size of the database (default 200)")
    parser.add_argument("servers", nargs="*", metavar="postgres|mariadb", help="which servers (default both)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds to take medians of (default 5)")
    parser.add_argument("--database", default=DATABASE, help=f"the database to build and drop (default {DATABASE})")
    options = parser.parse_args()
    if set(options.servers) - {"postgres", "mariadb"}:
        parser.error(f"unknown server(s): {', '.join(sorted(set(options.servers) - {'postgres', 'mariadb'}))}")
    DATABASE = options.database
    asyncio.run(main(options.size_mb, options.servers or ["postgres", "mariadb"], options.rounds))
