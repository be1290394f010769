"""Kill -9 trials and a stampede of runners against a real database, with figures to quote.

    python scripts/fault_trials.py BACKEND [--trials 20] [--runners 16]

BACKEND is sqlite, postgresql, mysql, mongodb (a replica set) or mongodb-standalone (the servers of scripts/test, or the
NCM_TEST_*_URL variables). Each trial writes a 10-migration project (each migration creates a
table or collection, sleeps, creates another), starts ``ncm run``, kills its whole process
group with SIGKILL at a random moment, measures how long the next runner waits for the
lock, recovers as the docs say (``ncm run`` again: an atomic step was rolled back, a plain
``op`` step is resumed; an interrupted step that cannot be resumed is reverted with
``ncm rollback --version V``, then ``ncm run``), and checks that every migration is applied exactly once: ten
``applied`` records, twenty tables, no version with two ``migrate ok`` audit entries. Then
``--runners`` processes run the same project at once on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

SQL = '''"""Two tables."""
import time

import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("t{n}_a", sa.Column("id", sa.Integer, primary_key=True))
    time.sleep({pause})
    op.create_table("t{n}_b", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t{n}_b")
    op.drop_table("t{n}_a")
'''

MONGO = '''"""Two collections."""
import asyncio


async def upgrade(ctx):
    await ctx.db.create_collection("t{n}_a", session=ctx.session)
    await asyncio.sleep({pause})
    await ctx.db.create_collection("t{n}_b", session=ctx.session)


async def downgrade(ctx):
    await ctx.db.drop_collection("t{n}_b", session=ctx.session)
    await ctx.db.drop_collection("t{n}_a", session=ctx.session)
'''

SERVERS = {
    "postgresql": os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("NCM_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test"),
    "mongodb": os.environ.get("NCM_TEST_MONGO_URL", "mongodb://127.0.0.1:27017/ncm_test?directConnection=true"),
    "mongodb-standalone": os.environ.get("NCM_TEST_MONGO_STANDALONE_URL",
                                         "mongodb://127.0.0.1:27018/ncm_test?directConnection=true"),
}


def fresh_database(backend: str, workdir: Path) -> str:
    name = f"ncm_trial_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / name}.db"
    if backend.startswith("mongodb"):
        return SERVERS[backend].replace("/ncm_test?", f"/{name}?")
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def create() -> None:
        engine = create_async_engine(SERVERS[backend], isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(sa.text(f"CREATE DATABASE {name}"))
        await engine.dispose()

    asyncio.run(create())
    return sa.make_url(SERVERS[backend]).set(database=name).render_as_string(hide_password=False)


def project(backend: str, workdir: Path, pause: float) -> Path:
    directory = workdir / f"migrations-{uuid.uuid4().hex[:6]}"
    directory.mkdir()
    for n in range(1, 11):
        source = (MONGO if backend.startswith("mongodb") else SQL).format(n=n, pause=pause)
        (directory / f"{n:03d}_step.py").write_text(source)
    return directory


def environment(url: str, migrations: Path) -> dict[str, str]:
    return {**os.environ, "MIGRATION_DATABASE_URL": url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations),
            "MIGRATION_AUDIT_ENABLED": "true", "MIGRATION_LOCK_TIMEOUT": "120"}


def ncm(url: str, migrations: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environment(url, migrations),
                          capture_output=True, text=True, timeout=300)


async def lock_wait(url: str, migrations: Path) -> float:
    """Seconds the next runner waits for the migration lock."""
    from ncm_core.config import MigrationConfig
    from ncm_core.runner import MigrationRunner

    async with MigrationRunner(MigrationConfig(database_url=url, migration_directory=migrations,
                                               lock_timeout=120)) as runner:
        started = time.monotonic()
        async with runner.db.lock():
            return time.monotonic() - started


async def census(url: str, migrations: Path) -> tuple[Counter[str], int, Counter[str]]:
    """(history statuses, tables made by the trial migrations, ``migrate ok`` entries per version)."""
    from ncm_core.config import MigrationConfig
    from ncm_core.runner import MigrationRunner

    async with MigrationRunner(MigrationConfig(database_url=url, migration_directory=migrations)) as runner:
        statuses = Counter(r.status for r in await runner.db.read_history())
        migrated = Counter(e.version for e in await runner.audit_log() if e.action == "migrate" and e.outcome == "ok")
        if runner.db.PLUGIN_NAME == "mongodb":
            names = await runner.db.db.list_collection_names()
        else:
            import sqlalchemy as sa

            async with runner.db.engine.connect() as conn:
                names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        return statuses, sum(1 for n in names if n.startswith("t") and n[1:].split("_")[0].isdigit()), migrated


def exactly_once(url: str, migrations: Path) -> tuple[str | None, int]:
    """(what is wrong, or None; how many versions have no ``migrate ok`` audit entry: the audit
    entry is written after the migration commits, so a kill between the two loses it)."""
    statuses, tables, migrated = asyncio.run(census(url, migrations))
    if statuses != Counter({"applied": 10}) or tables != 20:
        return f"history {dict(statuses)}, {tables} tables", 0
    if any(count > 1 for count in migrated.values()):
        return f"applied more than once: migrate audit entries {dict(migrated)}", 0
    return None, 10 - len(migrated)


def trial(backend: str, workdir: Path) -> dict[str, object]:
    url = fresh_database(backend, workdir)
    migrations = project(backend, workdir, pause=0.15)
    child = subprocess.Popen([sys.executable, "-m", "ncm_core", "run"], env=environment(url, migrations),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(random.uniform(0.3, 3.5))
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    waited = asyncio.run(lock_wait(url, migrations))
    status = json.loads(ncm(url, migrations, "status", "--json").stdout)
    interrupted = [m["version"] for m in status["migrations"] if m["state"] == "interrupted"]
    applied_at_kill = sum(m["state"] == "applied" for m in status["migrations"])
    recovery = ncm(url, migrations, "run")
    rolled_back = recovery.returncode == 3 and len(interrupted) == 1
    if rolled_back:  # not resumable: the documented way out is its down step, then the run
        ncm(url, migrations, "rollback", "--version", interrupted[0])
        recovery = ncm(url, migrations, "run")
    problem, unaudited = exactly_once(url, migrations)
    if recovery.returncode != 0:
        problem = f"recovery run exit {recovery.returncode}: {recovery.stderr.strip()}"
    return {"applied_at_kill": applied_at_kill, "interrupted": interrupted, "lock_wait_s": round(waited, 3),
            "resumed": "resuming" in recovery.stderr, "rolled_back": rolled_back, "audit_entries_lost": unaudited,
            "problem": problem}


def stampede(backend: str, workdir: Path, runners: int) -> dict[str, object]:
    url = fresh_database(backend, workdir)
    migrations = project(backend, workdir, pause=0.02)
    started = time.monotonic()
    children = [subprocess.Popen([sys.executable, "-m", "ncm_core", "run"], env=environment(url, migrations),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(runners)]
    codes = Counter(child.wait() for child in children)
    problem, unaudited = exactly_once(url, migrations)
    return {"runners": runners, "exit_codes": dict(codes), "seconds": round(time.monotonic() - started, 1),
            "audit_entries_lost": unaudited, "problem": problem}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", *SERVERS])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--runners", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [trial(args.backend, Path(tmp)) for _ in range(args.trials)]
        crowd = stampede(args.backend, Path(tmp), args.runners)
    failures = [r for r in results if r["problem"]]
    print(json.dumps({"backend": args.backend, "trials": len(results),
                      "exactly_once_after_recovery": len(results) - len(failures),
                      "killed_mid_step_interrupted": sum(bool(r["interrupted"]) for r in results),
                      "resumed": sum(bool(r["resumed"]) for r in results),
                      "recovered_by_rollback_then_run": sum(bool(r["rolled_back"]) for r in results),
                      "longest_lock_wait_s": max(r["lock_wait_s"] for r in results),
                      "audit_entries_lost_to_kills": sum(r["audit_entries_lost"] for r in results),
                      "failures": failures, "stampede": crowd}, indent=2))
    sys.exit(1 if failures or crowd["problem"] else 0)


if __name__ == "__main__":
    main()
