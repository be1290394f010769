"""A fan-out over many PostgreSQL databases: ``ncm run --targets all --parallel 1, 8, 32``
against a shell loop of one ``ncm run`` per database (the way it is done without targets).

    python bench/bench_fleet.py [--databases 200] [--migrations 20] [--parallel 1 8 32]
    python bench/bench_fleet.py --sqlite-status 1000 [--migrations 20]

Each mode starts from N empty databases (ncm_bench_fleet_0 ... on the server
NCM_TEST_POSTGRES_URL names) and applies the migrations to each; printed per mode: the wall
time, the peak RSS of the largest process, the most server connections to those databases
seen at once (pg_stat_activity, sampled every 20 ms), and the speed-up over --parallel 1;
also ``--shards K`` processes at once (``--shard i/K --parallel 8`` each), which use as many
cores as there are shards where one process's fan-out uses one.
With ``--sqlite-status N``: N SQLite files are migrated (``--parallel 32``), then ``ncm
status --targets all`` over them is timed, with its peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncpg
from common import BIN, write_ncm_project

SERVER = os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PREFIX = "ncm_bench_fleet_"


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def recreate(count: int) -> None:
    """N empty databases, whatever was there."""
    conn = await asyncpg.connect(plain(SERVER))
    try:
        for i in range(count):
            await conn.execute(f'DROP DATABASE IF EXISTS "{PREFIX}{i}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{PREFIX}{i}"')
    finally:
        await conn.close()


async def drop(count: int) -> None:
    conn = await asyncpg.connect(plain(SERVER))
    try:
        for i in range(count):
            await conn.execute(f'DROP DATABASE IF EXISTS "{PREFIX}{i}" WITH (FORCE)')
    finally:
        await conn.close()


class ConnectionSampler(threading.Thread):
    """The most connections to the bench databases seen at once while a mode runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        conn = await asyncpg.connect(plain(SERVER))
        try:
            while not self.stop.is_set():
                count = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1",
                                            PREFIX + "%")
                self.peak = max(self.peak, count)
                await asyncio.sleep(0.02)
        finally:
            await conn.close()


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) of the largest process, peak server connections."""
    sampler = ConnectionSampler()
    sampler.start()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:  # not a pipe: 200 runs' progress lines would fill it and hang them
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        if status != 0:
            stderr.seek(0)
            sys.exit(f"{' '.join(cmd[:4])} failed:\n{stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss, sampler.peak


def write_project(root: Path, databases: int, migrations: int) -> None:
    directory = write_ncm_project(root, migrations)
    base = SERVER.rsplit("/", 1)[0]
    (root / "ncm.toml").write_text(f'migration_directory = "{directory}"\n\n[targets.db]\n'
                                   f'url = "{base}/{PREFIX}{{tenant}}"\n'
                                   f'tenants = [{", ".join(f"{chr(34)}{i}{chr(34)}" for i in range(databases))}]\n')
    loop = "\n".join(f'MIGRATION_DATABASE_URL="{base}/{PREFIX}{i}" "{BIN}/ncm" run || exit 1'
                     for i in range(databases))
    (root / "loop.sh").write_text(f"set -e\ncd {root}\n{loop}\n")


def sqlite_status(count: int, migrations: int, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        directory = write_ncm_project(root, migrations)
        tenants = ", ".join(f'"{i}"' for i in range(count))
        (root / "ncm.toml").write_text(f'migration_directory = "{directory}"\n\n[targets.file]\n'
                                       f'url = "sqlite+aiosqlite:///{root}/t_{{tenant}}.db"\ntenants = [{tenants}]\n')
        setup, _, _ = measure([str(BIN / "ncm"), "run", "--targets", "all", "--parallel", "32"], root, env)
        wall, rss, _ = measure([str(BIN / "ncm"), "status", "--targets", "all"], root, env)
        print(f"{count} SQLite targets x {migrations} migrations: run --targets all --parallel 32 {setup:.1f} s; "
              f"status --targets all {wall:.2f} s, peak RSS {rss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=20)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--shards", type=int, default=2, help="also: this many processes, one shard each")
    parser.add_argument("--sqlite-status", type=int, metavar="N", help="time status --targets over N SQLite files")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_") and k != "PYTHONDONTWRITEBYTECODE"}
    if args.sqlite_status:
        sqlite_status(args.sqlite_status, args.migrations, env)
        return
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, args.databases, args.migrations)
        modes = [(f"--parallel {n}", [str(BIN / "ncm"), "run", "--targets", "all", "--parallel", str(n)])
                 for n in args.parallel]
        if args.shards > 1:
            each = " ".join(f'"{BIN}/ncm" run --targets all --parallel 8 --shard {i}/{args.shards} & pids="$pids $!";'
                            for i in range(args.shards))
            modes.append((f"{args.shards} shards x 8",
                          ["bash", "-c", f'{each} for p in $pids; do wait "$p" || exit 1; done']))
        modes.append(("shell loop", ["bash", str(root / "loop.sh")]))
        print(f"{args.databases} PostgreSQL databases x {args.migrations} migrations, {os.cpu_count()} CPU(s)")
        print(f"{'mode':<16} {'wall s':>8} {'peak RSS MiB':>13} {'connections':>12} {'vs ' + modes[0][0]:>16}",
              flush=True)
        try:
            for name, cmd in modes:
                asyncio.run(recreate(args.databases))
                (root / "ncm-journal.jsonl").unlink(missing_ok=True)
                wall, rss, conns = measure(cmd, root, env)
                base = base or wall
                print(f"{name:<16} {wall:>8.2f} {rss / 1024:>13.0f} {conns:>12} {base / wall:>15.2f}x", flush=True)
        finally:
            asyncio.run(drop(args.databases))


if __name__ == "__main__":
    main()
