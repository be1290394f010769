"""The commands every deploy runs, ncm against Alembic 1.x (its async env.py, the same drivers),
alternating in one run, medians: the table of the speed issue, every row of it.

    python bench/bench_commands.py [--rounds 3] [--servers sqlite postgresql mysql] [--big 5000]

- ``status`` (and ``validate``) against ``alembic current``, and a no-op ``run`` against a
  no-op ``alembic upgrade head``, with N applied migrations (5 and 500 on every database; 2,000
  and 5,000 on SQLite), and the growth from 500 to 5,000;
- a run of 5 pending migrations, and applying 500 (and 5,000 on SQLite) from scratch, with the
  default transaction mode, and on PostgreSQL with ``transaction_mode = run`` as well;
- ``ncm --help``, and the peak RSS of ``ncm status`` with 5,000 migrations.

Server URLs come from NCM_TEST_POSTGRES_URL / NCM_TEST_MYSQL_URL (defaults: the local test
servers); databases ncm_bench_cmd (ncm's) and ncm_bench_cmd_a (Alembic's) are made on each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BIN, write_alembic_project, write_ncm_project

DATABASE = "ncm_bench_cmd"
URLS = {
    "postgresql": os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("NCM_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test"),
}


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process. Bytecode is written and reused, as
    on a user's machine: with PYTHONDONTWRITEBYTECODE set (some shells and images set it), every
    module, and each of Alembic's revision files, would be compiled again on every run."""
    env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as errors:  # not a pipe: 5,000 progress lines would fill it
        started = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            errors.seek(0)
            sys.exit(f"{' '.join(cmd[:3])} failed:\n{errors.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss


class Project:
    """N migrations for both tools on one database, with the commands of the table."""

    def __init__(self, root: Path, family: str, n: int) -> None:
        self.family, self.n = family, n
        self.url, self.alembic_url = (
            (f"sqlite+aiosqlite:///{root}/bench.db", f"sqlite+aiosqlite:///{root}/alembic.db") if family == "sqlite"
            else (URLS[family].rsplit("/", 1)[0] + f"/{DATABASE}", URLS[family].rsplit("/", 1)[0] + f"/{DATABASE}_a"))
        self.ncm_env = {**os.environ, "MIGRATION_DATABASE_URL": self.url,
                        "MIGRATION_MIGRATION_DIRECTORY": str(write_ncm_project(root, n))}
        self.ini = write_alembic_project(root, n, self.alembic_url)

    def ncm(self, *args: str) -> list[str]:
        return [str(BIN / "ncm"), *args]

    def alembic(self, *args: str) -> list[str]:
        return [str(BIN / "alembic"), "-c", str(self.ini), *args]

    def alembic_env(self) -> dict[str, str]:
        return dict(os.environ)

    def fresh(self) -> None:
        """An empty database for both tools (SQLite: the files removed)."""
        if self.family == "sqlite":
            for name in ("bench.db", "alembic.db"):
                Path(self.ini.parent, name).unlink(missing_ok=True)
            return
        for name in (DATABASE, f"{DATABASE}_a"):
            subprocess.run([sys.executable, "-c", RECREATE, URLS[self.family], name], check=True)


RECREATE = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
async def main(url, name):
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        force = " WITH (FORCE)" if url.startswith("postgresql") else ""
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await engine.dispose()
asyncio.run(main(*sys.argv[1:]))
"""


def medians(contenders: dict[str, tuple[list[str], dict[str, str]]], rounds: int, reset=None) -> dict[str, float]:
    """Median wall seconds of each contender, alternating, after one untimed round that writes
    the bytecode caches (of ncm's migrations and Alembic's revisions alike)."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    if reset is None:
        for cmd, env in contenders.values():
            run(cmd, env)
    for _ in range(rounds):
        for name, (cmd, env) in contenders.items():
            if reset:
                reset(name)
            times[name].append(run(cmd, env)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def row(work: str, ncm: float, alembic: float) -> None:
    print(f"| {work:<58} | {ncm:6.2f} s | {alembic:6.2f} s | {ncm / alembic:5.2f}x |", flush=True)


def at_head(family: str, n: int, rounds: int) -> dict[str, float]:
    """status, validate and a no-op run with n applied, against current and upgrade head."""
    with tempfile.TemporaryDirectory(prefix="ncm-bench-") as tmp:
        project = Project(Path(tmp), family, n)
        project.fresh()
        run(project.ncm("run"), project.ncm_env)
        run(project.alembic("upgrade", "head"), project.alembic_env())
        times = medians({
            "status": (project.ncm("status"), project.ncm_env),
            "validate": (project.ncm("validate"), project.ncm_env),
            "run": (project.ncm("run"), project.ncm_env),
            "current": (project.alembic("current"), project.alembic_env()),
            "upgrade": (project.alembic("upgrade", "head"), project.alembic_env()),
        }, rounds)
        if family == "sqlite" and n >= 5000:
            times["rss"] = run(project.ncm("status"), project.ncm_env)[1] / 1024
        project.fresh()
    return times


def applying(family: str, n: int, rounds: int, mode: str | None = None) -> dict[str, float]:
    """ncm with its default transaction mode, or ``mode``, against Alembic's default (one
    transaction for the run, as ``transaction_per_migration = False``)."""
    with tempfile.TemporaryDirectory(prefix="ncm-bench-") as tmp:
        project = Project(Path(tmp), family, n)
        env = {**project.ncm_env, **({"MIGRATION_TRANSACTION_MODE": mode} if mode else {})}
        times = medians({"ncm": (project.ncm("run"), env),
                         "alembic": (project.alembic("upgrade", "head"), project.alembic_env())},
                        rounds, reset=lambda _: project.fresh())
        project.fresh()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", nargs="+", default=["sqlite", "postgresql", "mysql"],
                        choices=["sqlite", "postgresql", "mysql"])
    parser.add_argument("--big", type=int, default=5000, help="the large history of the SQLite rows")
    args = parser.parse_args()
    print("| work | ncm | Alembic | ratio |\n| --- | --- | --- | --- |")
    help_time = statistics.median(run([str(BIN / "ncm"), "--help"], dict(os.environ))[0] for _ in range(5))
    print(f"| `ncm --help` | {help_time:.3f} s | | |")
    growth: dict[str, dict[int, dict[str, float]]] = {}
    for family in args.servers:
        sizes = [5, 500, 2000, args.big] if family == "sqlite" else [5, 500]
        growth[family] = {}
        for n in sizes:
            times = growth[family][n] = at_head(family, n, args.rounds)
            row(f"{family}: `status` vs `current`, {n} applied", times["status"], times["current"])
            row(f"{family}: `validate` vs `current`, {n} applied", times["validate"], times["current"])
            row(f"{family}: no-op `run` vs `upgrade head`, {n} applied", times["run"], times["upgrade"])
            if "rss" in times:
                print(f"| {family}: `ncm status` peak RSS, {n} migrations | {times['rss']:.0f} MB | | |")
        for n in ([5, 500, args.big] if family == "sqlite" else [5, 500]):
            times = applying(family, n, 1 if n > 1000 else args.rounds)
            row(f"{family}: apply {n} (one table + index each)", times["ncm"], times["alembic"])
        if family == "postgresql":  # the default commits each migration; the other mode, for its cost
            times = applying(family, 500, args.rounds, "run")
            row(f"{family}: apply 500, transaction_mode = run", times["ncm"], times["alembic"])
    if "sqlite" in growth:
        small, big = growth["sqlite"][500], growth["sqlite"][args.big]
        for command in ("status", "run"):
            print(f"| sqlite: `{command}` growth 500 -> {args.big} applied | {big[command] / small[command]:.2f}x | "
                  f"{big['current' if command == 'status' else 'upgrade'] / small['current' if command == 'status' else 'upgrade']:.2f}x | |")


if __name__ == "__main__":
    main()
