"""What a Kubernetes Indexed Job does with the image, on this machine: 8 containers at once,
JOB_COMPLETION_INDEX 0..3 and NCM_SHARD_COUNT 4 (two pods per index, as a retried or duplicated
pod gives), over 40 targets (PostgreSQL schemas, SQLite files and a MongoDB database) in one
shared journal; one pod is killed mid-run and a replacement with its index takes over."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from containers import CONTAINER_UID, DOCKER, IMAGE, build_images, docker
from pymongo import MongoClient
from servers import SERVERS
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.fleet.journal import events
from ncm_core.testing import require_url

SCHEMAS = [f"t{i}" for i in range(20)]
FILES = [f"f{i}" for i in range(19)]
SQL_STEPS = {
    "001_users.py": '"""Add users."""\nfrom alembic import op\n\n\ndef upgrade():\n'
                    '    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")\n',
    "002_slow.py": '"""Take a while, so that a pod is killed while it works."""\nimport time\n\nfrom alembic import op\n\n\n'
                   'def upgrade():\n    time.sleep(0.4)\n    op.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")\n',
}
MONGO_STEP = ('"""Create users."""\ntransactional = False\n\n\nasync def upgrade(ctx):\n'
              '    await ctx.db.create_collection("users", session=ctx.session)\n')


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    build_images()


@pytest.fixture
async def postgres_url():
    """A database of its own, with the tenants' schemas."""
    server = SERVERS["postgresql"]
    admin = server.admin()
    url = await server.create(admin, prefix="ncm_job")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for name in SCHEMAS:
            await conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    await engine.dispose()
    yield url
    await server.drop(admin, url)
    await admin.dispose()


@pytest.fixture
def mongo_url():
    server = require_url("NCM_TEST_MONGO_URL")
    name = f"ncm_job_{uuid.uuid4().hex[:12]}"
    yield server.replace("/ncm_test?", f"/{name}?")
    with MongoClient(server, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
def fleet(tmp_path: Path, postgres_url: str, mongo_url: str) -> Path:
    """The directory every pod mounts (a ReadWriteMany volume in a cluster): the targets, both
    migration directories (the SQL one also as the image's /app/migrations), the SQLite files
    and the journal, owned by the image's user."""
    root = tmp_path / "fleet"
    (root / "migrations").mkdir(parents=True)
    (root / "mongo_migrations").mkdir()
    for name, source in SQL_STEPS.items():
        (root / "migrations" / name).write_text(source)
    (root / "mongo_migrations" / "001_users.py").write_text(MONGO_STEP)
    (root / "ncm.toml").write_text(f'''
[targets.schema]
url = "{postgres_url}"
schema = "{{tenant}}"
tenants = [{", ".join(f'"{s}"' for s in SCHEMAS)}]

[targets.file]
url = "sqlite+aiosqlite:////fleet/file_{{tenant}}.db"
tenants = [{", ".join(f'"{f}"' for f in FILES)}]

[targets.mongo]
url = "{mongo_url}"
migration_directory = "/fleet/mongo_migrations"
''')
    for path in [root, *root.rglob("*")]:
        os.chown(path, CONTAINER_UID, CONTAINER_UID)
    return root


def pod(fleet: Path, name: str, index: int) -> list[str]:
    return [DOCKER, "run", "--detach", "--network", "host", "--name", name, "-v", f"{fleet}:/fleet",
            "-v", f"{fleet / 'migrations'}:/app/migrations",
            "--workdir", "/fleet", "-e", f"JOB_COMPLETION_INDEX={index}", "-e", "NCM_SHARD_COUNT=4",
            "-e", "MIGRATION_WAIT_TIMEOUT=0", IMAGE, "run", "--targets", "all", "--run-id", "job-1",
            "--parallel", "3"]


def journal(fleet: Path) -> list[dict]:
    return events(fleet / "ncm-journal.jsonl", "job-1")


async def migrated(fleet: Path, postgres_url: str, mongo_url: str) -> set[str]:
    """The targets whose last migration is there, as the databases themselves say."""
    engine = create_async_engine(postgres_url)
    async with engine.connect() as conn:
        schemas = (await conn.execute(sa.text("SELECT table_schema FROM information_schema.tables "
                                              "WHERE table_name = 'orders'"))).scalars().all()
    await engine.dispose()
    done = {f"schema/{s}" for s in schemas}
    for name in FILES:
        with sqlite3.connect(fleet / f"file_{name}.db") as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'orders'").fetchone():
                done.add(f"file/{name}")
        conn.close()
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as client:
        if "users" in client.get_default_database().list_collection_names():
            done.add("mongo")
    return done


async def test_eight_pods_of_an_indexed_job_migrate_each_of_40_targets_exactly_once(fleet, postgres_url, mongo_url):
    names = [f"ncm-job-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    replacement = f"ncm-job-{uuid.uuid4().hex[:8]}"
    try:
        starts = [subprocess.Popen(pod(fleet, name, index), stdout=subprocess.DEVNULL)
                  for name, index in zip(names, (0, 1, 2, 3) * 2)]
        assert [start.wait(timeout=120) for start in starts] == [0] * 8
        deadline = time.monotonic() + 120
        while sum(e["event"] == "done" for e in journal(fleet)) < 2:
            assert time.monotonic() < deadline, docker("logs", names[0]).stderr
            time.sleep(0.05)
        killed = docker("kill", names[0]).returncode == 0
        assert docker(*pod(fleet, replacement, 0)[1:]).returncode == 0
        codes = {name: docker("wait", name, timeout=600).stdout.strip() for name in [*names, replacement]}
        logs = {name: docker("logs", name).stderr for name in codes}
    finally:
        docker("rm", "-f", *names, replacement)
    assert killed, "the first pod had finished before it could be killed"
    assert codes.pop(names[0]) == "137", logs[names[0]]
    assert set(codes.values()) == {"0"}, "\n".join(f"{name} exited {code}:\n{logs[name]}"
                                                 for name, code in codes.items() if code != "0")
    finished = [e for e in journal(fleet) if e["event"] == "done"]
    expected = {f"schema/{s}" for s in SCHEMAS} | {f"file/{f}" for f in FILES} | {"mongo"}
    assert len(expected) == 40
    assert {e["target"] for e in finished} == expected, "the journal lacks a target"
    appliers = Counter(e["target"] for e in finished if e.get("applied"))
    assert set(appliers.values()) == {1}, f"a target was migrated by two pods: {appliers}"
    assert await migrated(fleet, postgres_url, mongo_url) == expected
