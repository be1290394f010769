"""Eight `ncm run` processes against one database apply each migration exactly once."""

import os
import subprocess
import sys

from pymongo import MongoClient

RUNNERS = 8
MIGRATIONS = 5

LOGS_ONCE = '''"""Migration {n}."""
import os


async def upgrade(ctx):
    await ctx.db.applied.insert_one({{"version": "{version}", "pid": os.getpid()}}, session=ctx.session)
'''


def test_concurrent_runner_processes_apply_each_migration_once(mongo_url, write_migration, migrations_dir, tmp_path):
    versions = [f"00{n}_m{n}" for n in range(1, MIGRATIONS + 1)]
    for n, version in enumerate(versions, 1):
        # insert_one is not idempotent: a migration applied twice would leave two documents.
        write_migration(version, LOGS_ONCE.format(n=n, version=version))
    env = {**os.environ, "MIGRATION_DATABASE_URL": mongo_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir)}
    runners = [subprocess.Popen([sys.executable, "-m", "ncm_core", "run"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(RUNNERS)]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in runners]
    assert [code for code, _, _ in outcomes] == [0] * RUNNERS, [err for _, _, err in outcomes]
    with MongoClient(mongo_url) as client:
        db = client.get_default_database()
        applied = sorted(d["version"] for d in db.applied.find())
        history = sorted(d["_id"] for d in db.ncm_migrations.find({"status": "applied"}))
        pids = {d["pid"] for d in db.applied.find()}
    assert applied == versions and history == versions
    print(f"\n{RUNNERS} runner processes; migrations applied by {len(pids)} of them, each exactly once")
