"""Shared by the bench scripts: generated migrations for ncm and Alembic, and timing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent


def ddl(i: int) -> tuple[str, str]:
    """The table and index migration i creates, as Alembic op calls."""
    up = (f'    op.create_table("bench_{i}", sa.Column("id", sa.Integer, primary_key=True), '
          f'sa.Column("name", sa.String(100)), sa.Column("email", sa.String(255)), '
          f'sa.Column("score", sa.Integer), sa.Column("created_at", sa.DateTime))\n'
          f'    op.create_index("ix_bench_{i}_email", "bench_{i}", ["email"])\n')
    down = f'    op.drop_table("bench_{i}")\n'
    return up, down


def plain_sql(i: int, datetime_type: str = "TIMESTAMP") -> str:
    return (f"CREATE TABLE bench_{i} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100), email VARCHAR(255), "
            f"score INTEGER, created_at {datetime_type});\nCREATE INDEX ix_bench_{i}_email ON bench_{i} (email);\n")


def write_ncm_project(root: Path, n: int) -> Path:
    migrations = root / "ncm_migrations"
    migrations.mkdir(parents=True)
    for i in range(1, n + 1):
        up, down = ddl(i)
        (migrations / f"{i:04d}_bench_{i}.py").write_text(
            f'"""Bench table {i}."""\nimport sqlalchemy as sa\nfrom alembic import op\n\n\n'
            f"def upgrade():\n{up}\n\ndef downgrade():\n{down}")
    return migrations


ENV_PY = '''
import asyncio
from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()

async def run_async_migrations():
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()

asyncio.run(run_async_migrations())
'''


def write_alembic_project(root: Path, n: int, url: str) -> Path:
    project = root / "alembic_project"
    versions = project / "versions"
    versions.mkdir(parents=True)
    (project / "env.py").write_text(ENV_PY)
    (project / "script.py.mako").write_text("")
    ini = root / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {project}\nsqlalchemy.url = {url.replace('%', '%%')}\n")
    for i in range(1, n + 1):
        up, down = ddl(i)
        prev = repr(f"r{i - 1:04d}") if i > 1 else "None"
        (versions / f"r{i:04d}_bench.py").write_text(
            f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "r{i:04d}"\ndown_revision = {prev}\n'
            f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{up}\n\ndef downgrade():\n{down}")
    return ini


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(contenders: dict[str, tuple[Callable[[], None], Callable[[], None]]], repeats: int) -> dict[str, float]:
    """Median seconds per contender; each round runs every contender once, alternating,
    because these machines drift by tens of percent over minutes. (reset, run) pairs."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, (reset, action) in contenders.items():
            reset()
            times[name].append(timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, medians: dict[str, float], baseline: str) -> None:
    print(f"\n{title}")
    for name, seconds in medians.items():
        ratio = seconds / medians[baseline]
        print(f"  {name:<28} {seconds:7.3f} s   {ratio:5.2f}x {baseline}")
