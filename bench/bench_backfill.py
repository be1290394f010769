"""A one-column backfill with ``ctx.backfill`` against one plain statement doing the same.

For each server and row count, on a table made afresh for every measurement (an UPDATE of
every row leaves as many dead rows behind, which would slow the next one; on PostgreSQL a
CHECKPOINT then, so that none falls inside one measurement and not the other):

- ``one statement``: ``UPDATE t SET x = v * 2`` (MongoDB: ``update_many({}, [{$set: ...}])``),
  through the same driver ncm uses, in one transaction;
- ``bare batches`` (PostgreSQL, MariaDB): the loop the 0.9x target was set against, through
  the bare driver (asyncpg, aiomysql): the same UPDATE over ranges of 10,000 keys, each in a
  transaction of its own (PostgreSQL: ``synchronous_commit`` off but for the last, as ncm's),
  with no checkpoint, no throttle, and nothing overlapped;
- ``ncm backfill``: ``ncm run`` of a migration that walks ``t`` in batches of 10,000 keys,
  each batch committed with its checkpoint (the default adaptive target, 200 ms, applies).

It prints (medians of ``--rounds`` rounds, 3 by default) each one's time, the ratio of rows
per second (target: ncm at least 0.9x the single statement's) as the median of each round's
ratio (the two run back to back: this shared machine's speed drifts by a fifth within
minutes, which a ratio of medians taken rounds apart would carry), with the lowest and highest
round, the bare batches' ratio (their own reference: what ncm's checkpoints, throttle and
process cost shows as the gap between the two), the backfill step's own time (history
``execution_ms``) beside
the whole ``ncm run`` (process start, imports and connecting included), and the peak RSS
of the ncm process (target: under 100 MB, flat as rows grow).

    python bench/bench_backfill.py [--rows 100000 1000000] [--servers postgresql mysql mongodb] [--rounds 3]
                                   [--run-args=--batch-target=0]   (flags for the measured ncm run)
    python bench/bench_backfill.py --kills 3 [--rows 1000000]   (kill -9 trials on PostgreSQL)
    python bench/bench_backfill.py --latency [--rows 1000000]   (a concurrent reader's and writer's p99)

URLs from NCM_TEST_POSTGRES_URL / NCM_TEST_MYSQL_URL / NCM_TEST_MONGO_URL (the local test
servers by default); a database named ncm_bench_backfill is created and dropped on each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

NCM = str(Path(sys.executable).with_name("ncm"))
RUN_ARGS: list[str] = []
"""``--run-args``: what the measured ``ncm run`` is given besides (throttling flags)."""
DB = "ncm_bench_backfill"
URLS = {"postgresql": os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
        "mysql": os.environ.get("NCM_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test"),
        "mongodb": os.environ.get("NCM_TEST_MONGO_URL", "mongodb://127.0.0.1:27017/ncm_test?directConnection=true")}

SQL_MIGRATION = '''"""Backfill x."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("t", key="id", size=10_000):
        await batch.execute("UPDATE t SET x = v * 2 WHERE id BETWEEN :lo AND :hi AND x IS NULL")
'''
MONGO_MIGRATION = '''"""Backfill x."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("t", size=10_000):
        await batch.update_many([{"$set": {"x": {"$multiply": ["$v", 2]}}}], {"x": None})
'''
COUNTING = '''"""Count each row's updates."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("t", key="id", size=10_000):
        await batch.execute("UPDATE t SET x = COALESCE(x, 0) + 1 WHERE id BETWEEN :lo AND :hi")
'''
"""For the kill trials: no WHERE skips done rows, so a row updated twice shows ``x = 2``."""
FILL = {"postgresql": "INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, {rows}) g",
        "mysql": "INSERT INTO t (id, v) SELECT seq, seq FROM seq_1_to_{rows}"}


def database_url(kind: str) -> str:
    if kind == "mongodb":
        base, _, query = URLS[kind].partition("?")
        return f"{base.rsplit('/', 1)[0]}/{DB}" + (f"?{query}" if query else "")
    return sa.make_url(URLS[kind]).set(database=DB).render_as_string(hide_password=False)


async def sql_admin(kind: str, statement: str) -> None:
    engine = create_async_engine(sa.make_url(URLS[kind]), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def sql_fresh_table(kind: str, rows: int) -> None:
    await sql_admin(kind, f"DROP DATABASE IF EXISTS {DB}")
    await sql_admin(kind, f"CREATE DATABASE {DB}")
    engine = create_async_engine(database_url(kind))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, x INTEGER)"))
            await conn.execute(sa.text(FILL[kind].format(rows=rows)))
        if kind == "postgresql":
            async with engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(sa.text("VACUUM ANALYZE t"))
                await autocommit.execute(sa.text("CHECKPOINT"))
    finally:
        await engine.dispose()


async def sql_single(kind: str) -> float:
    engine = create_async_engine(database_url(kind))
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            started = time.perf_counter()
            await conn.execute(sa.text("UPDATE t SET x = v * 2"))
            await conn.commit()
            return time.perf_counter() - started
    finally:
        await engine.dispose()


async def sql_check(kind: str, rows: int) -> None:
    engine = create_async_engine(database_url(kind))
    try:
        async with engine.connect() as conn:
            done = (await conn.execute(sa.text("SELECT COUNT(*) FROM t WHERE x = v * 2"))).scalar_one()
    finally:
        await engine.dispose()
    assert done == rows, f"{done} of {rows} rows backfilled"


async def sql_bare(kind: str, rows: int) -> float:
    url = sa.make_url(database_url(kind))
    update = "UPDATE t SET x = v * 2 WHERE id BETWEEN {} AND {} AND x IS NULL"
    if kind == "postgresql":
        import asyncpg

        conn = await asyncpg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                     database=url.database)
        started = time.perf_counter()
        for lo in range(1, rows + 1, 10_000):
            async with conn.transaction():
                if lo + 10_000 <= rows:
                    await conn.execute("SET LOCAL synchronous_commit = off")
                await conn.execute(update.format("$1", "$2"), lo, lo + 9_999)
        elapsed = time.perf_counter() - started
        await conn.close()
        return elapsed
    import aiomysql

    conn = await aiomysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                                  db=url.database)
    started = time.perf_counter()
    for lo in range(1, rows + 1, 10_000):
        async with conn.cursor() as cursor:
            await cursor.execute(update.format("%s", "%s"), (lo, lo + 9_999))
        await conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def mongo_fresh(rows: int) -> None:
    from pymongo import MongoClient

    with MongoClient(database_url("mongodb")) as client:
        client.drop_database(DB)
        t = client[DB].t
        for start in range(1, rows + 1, 50_000):
            t.insert_many([{"_id": i, "v": i, "x": None} for i in range(start, min(start + 50_000, rows + 1))],
                          ordered=False)


def mongo_single() -> float:
    from pymongo import MongoClient

    with MongoClient(database_url("mongodb")) as client:
        t = client[DB].t
        started = time.perf_counter()
        t.update_many({}, [{"$set": {"x": {"$multiply": ["$v", 2]}}}])
        return time.perf_counter() - started


def mongo_check(rows: int) -> None:
    from pymongo import MongoClient

    with MongoClient(database_url("mongodb")) as client:
        done = client[DB].t.count_documents({"$expr": {"$eq": ["$x", {"$multiply": ["$v", 2]}]}})
    assert done == rows, f"{done} of {rows} documents backfilled"


def ncm_run(kind: str, root: Path) -> tuple[float, float, float]:
    """(whole run s, backfill step s, peak RSS MB) of one ``ncm run``."""
    migrations = root / "migrations"
    migrations.mkdir(exist_ok=True)
    for old in migrations.glob("*.py"):
        old.unlink()
    (migrations / "001_backfill.py").write_text(MONGO_MIGRATION if kind == "mongodb" else SQL_MIGRATION)
    env = {**os.environ, "MIGRATION_DATABASE_URL": database_url(kind), "MIGRATION_MIGRATION_DIRECTORY": str(migrations),
           "NCM_PROGRESS_INTERVAL": "3600"}
    started = time.perf_counter()
    proc = subprocess.Popen([NCM, "run", *RUN_ARGS], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    whole = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    history = subprocess.run([NCM, "history", "--json"], env=env, cwd=root, capture_output=True, text=True, check=True)
    step = json.loads(history.stdout)["records"][0]["execution_ms"] / 1000
    return whole, step, usage.ru_maxrss / 1024


def measure(kind: str, rows: int, root: Path, rounds: int) -> dict[str, float]:
    """Medians over ``rounds``, the two alternating within each (this machine is shared and noisy)."""
    fresh = (lambda: mongo_fresh(rows)) if kind == "mongodb" else (lambda: asyncio.run(sql_fresh_table(kind, rows)))
    check = (lambda: mongo_check(rows)) if kind == "mongodb" else (lambda: asyncio.run(sql_check(kind, rows)))
    seen: dict[str, list[float]] = {"single": [], "whole": [], "step": [], "rss": [], "ratio": [], "bare": []}
    for _ in range(rounds):
        fresh()
        seen["single"].append(mongo_single() if kind == "mongodb" else asyncio.run(sql_single(kind)))
        check()
        if kind != "mongodb":
            fresh()
            seen["bare"].append(seen["single"][-1] / asyncio.run(sql_bare(kind, rows)))
            check()
        fresh()
        for name, value in zip(("whole", "step", "rss"), ncm_run(kind, root)):
            seen[name].append(value)
        check()
        seen["ratio"].append(seen["single"][-1] / seen["step"][-1])
    return {**{name: statistics.median(values) if values else float("nan") for name, values in seen.items()},
            "lowest": min(seen["ratio"]), "highest": max(seen["ratio"])}


def kill_trials(rows: int, kills: int, root: Path) -> None:
    """PostgreSQL: ``ncm run`` of COUNTING killed with SIGKILL at ``kills`` random moments, then run
    to the end; every row must be updated exactly once, each run resuming at the checkpoint."""
    import random
    import signal

    asyncio.run(sql_fresh_table("postgresql", rows))
    migrations = root / "kill_migrations"
    migrations.mkdir(exist_ok=True)
    (migrations / "001_count.py").write_text(COUNTING)
    env = {**os.environ, "MIGRATION_DATABASE_URL": database_url("postgresql"),
           "MIGRATION_MIGRATION_DIRECTORY": str(migrations), "NCM_PROGRESS_INTERVAL": "3600"}
    for _ in range(kills):
        delay = random.uniform(1.0, 3.0)
        proc = subprocess.Popen([NCM, "run"], env=env, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        done = asyncio.run(sql_scalar("SELECT rows_done FROM ncm_backfills"))
        print(f"killed after {delay:.2f}s: checkpoint at {done} rows", flush=True)
    subprocess.run([NCM, "run"], env=env, cwd=root, check=True, capture_output=True)
    counts = asyncio.run(sql_scalar("SELECT string_agg(x || ':' || n, ', ') FROM "
                                    "(SELECT x, COUNT(*) AS n FROM t GROUP BY x ORDER BY x) c"))
    print(f"after the final run: updates per row -> rows: {counts} (exactly once: every row at 1)")


async def sql_scalar(query: str) -> object:
    engine = create_async_engine(database_url("postgresql"))
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(query))).scalar()
    finally:
        await engine.dispose()


async def probe(stop: asyncio.Event, rows: int, statement: str) -> list[float]:
    """Latencies (s) of ``statement`` on random rows, one at a time on its own connection, until ``stop``."""
    import random

    engine = create_async_engine(database_url("postgresql"), isolation_level="AUTOCOMMIT")
    seen: list[float] = []
    try:
        async with engine.connect() as conn:
            while not stop.is_set():
                started = time.perf_counter()
                await conn.execute(sa.text(statement), {"id": random.randint(1, rows)})
                seen.append(time.perf_counter() - started)
                await asyncio.sleep(0.002)
    finally:
        await engine.dispose()
    return seen


async def under_load(rows: int, work: Any) -> tuple[float, float]:
    """p99 (ms) of a reader (SELECT by key) and a writer (UPDATE of one row) while ``work`` runs."""
    stop = asyncio.Event()
    reader = asyncio.create_task(probe(stop, rows, "SELECT x FROM t WHERE id = :id"))
    writer = asyncio.create_task(probe(stop, rows, "UPDATE t SET v = v WHERE id = :id"))
    await asyncio.sleep(0.3)
    await work()
    stop.set()
    reads, writes = await reader, await writer
    return statistics.quantiles(reads, n=100)[98] * 1000, statistics.quantiles(writes, n=100)[98] * 1000


def latencies(rows: int, root: Path) -> None:
    """PostgreSQL: a concurrent reader's and writer's p99 during one big UPDATE, then during ncm's backfill."""
    async def single() -> None:
        await sql_single("postgresql")

    async def backfill() -> None:
        migrations = root / "migrations"
        migrations.mkdir(exist_ok=True)
        for old in migrations.iterdir():
            old.unlink()
        (migrations / "001_backfill.py").write_text(SQL_MIGRATION)
        env = {**os.environ, "MIGRATION_DATABASE_URL": database_url("postgresql"),
               "MIGRATION_MIGRATION_DIRECTORY": str(migrations), "NCM_PROGRESS_INTERVAL": "3600"}
        proc = await asyncio.create_subprocess_exec(NCM, "run", env=env, cwd=root, stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL)
        assert await proc.wait() == 0

    for name, work in (("one UPDATE", single), ("ncm backfill", backfill)):
        asyncio.run(sql_fresh_table("postgresql", rows))
        read, write = asyncio.run(under_load(rows, work))
        print(f"during {name:<13} ({rows} rows): reader p99 {read:8.1f} ms, one-row writer p99 {write:8.1f} ms",
              flush=True)


def drop(kind: str) -> None:
    if kind == "mongodb":
        from pymongo import MongoClient

        with MongoClient(database_url("mongodb")) as client:
            client.drop_database(DB)
    else:
        asyncio.run(sql_admin(kind, f"DROP DATABASE IF EXISTS {DB}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--servers", nargs="+", default=["postgresql", "mysql", "mongodb"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--run-args", nargs="*", default=[],
                        help="more arguments for the measured ncm run, e.g. --run-args=--batch-target=0")
    parser.add_argument("--latency", action="store_true",
                        help="instead: a concurrent reader's and writer's p99 on PostgreSQL, one UPDATE vs ncm")
    parser.add_argument("--kills", type=int, default=0,
                        help="instead: kill -9 a PostgreSQL backfill of the largest --rows this many times")
    args = parser.parse_args()
    RUN_ARGS.extend(args.run_args)
    if args.latency:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                latencies(max(args.rows), Path(tmp))
            finally:
                drop("postgresql")
        return
    if args.kills:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                kill_trials(max(args.rows), args.kills, Path(tmp))
            finally:
                drop("postgresql")
        return
    print(f"{'server':<11} {'rows':>9} {'one statement':>14} {'ncm backfill step':>18} {'ratio rows/s':>13} "
          f"{'rounds':>13} {'bare batches':>13} {'whole ncm run':>14} {'ncm peak RSS':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.servers:
            try:
                for rows in args.rows:
                    m = measure(kind, rows, Path(tmp), args.rounds)
                    print(f"{kind:<11} {rows:>9} {m['single']:>13.2f}s {m['step']:>17.2f}s "
                          f"{m['ratio']:>12.2f}x {m['lowest']:>6.2f}-{m['highest']:.2f}x {m['bare']:>12.2f}x "
                          f"{m['whole']:>13.2f}s "
                          f"{m['rss']:>10.0f} MB", flush=True)
            finally:
                drop(kind)


if __name__ == "__main__":
    main()
