"""The spec's Docker commands, run as written with the built image (`--network host`) against
the real PostgreSQL, MariaDB and MongoDB on this machine, a fresh database each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from containers import (
    CONTAINER_UID, DOCKER, IMAGE, POSTGRES_ONLY_IMAGE, ROOT, LateProxy, Project, build_images, docker, free_port,
)
from servers import SERVERS

from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.testing import require_url

NCM = str(Path(sys.executable).with_name("ncm"))
PG, MYSQL = SERVERS["postgresql"], SERVERS["mysql"]

TABLE = '''"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{name}")
'''
COLLECTION = '''"""Create {name}."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("{name}")


async def downgrade(ctx):
    await ctx.db.drop_collection("{name}")
'''
VERSIONS = ["001_add_users_table", "002_add_orders_table", "003_add_items_table"]


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    build_images()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    for version in VERSIONS:
        project.add(f"{version}.py", TABLE.format(name=version.split("_")[2]))
    return project


def plain(url: str) -> str:
    """As Docker users pass it: no driver in the scheme."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1).replace("mysql+aiomysql://", "mysql://", 1)


async def fresh_database(server):
    """A database of its own on ``server``, as a Docker user's URL; dropped after the test."""
    admin = server.admin()
    url = await server.create(admin, prefix="ncm_docker")
    yield plain(url)
    await server.drop(admin, url)
    await admin.dispose()


@pytest.fixture
async def postgres_url():
    async for url in fresh_database(PG):
        yield url


@pytest.fixture
async def mysql_url():
    async for url in fresh_database(MYSQL):
        yield url


@pytest.fixture
def mongo_url():
    from pymongo import MongoClient

    database = f"ncm_docker_{uuid.uuid4().hex[:12]}"
    url = require_url("NCM_TEST_MONGO_URL").replace("/ncm_test", f"/{database}", 1)
    yield url
    with MongoClient(url) as client:
        client.drop_database(database)


def states(project: Project, url: str) -> dict[str, str]:
    """The history as the host's ncm reads it: a second opinion on what the container did."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    done = subprocess.run([NCM, "status", "--json"], capture_output=True, text=True, cwd=project.root, timeout=60,
                          env={**environ, "MIGRATION_DATABASE_URL": url,
                               "MIGRATION_MIGRATION_DIRECTORY": str(project.migrations)})
    assert done.returncode == 0, done.stderr
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


async def scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(sql))).scalar()
    finally:
        await engine.dispose()


# --- the spec's commands ---------------------------------------------------------------


def test_run_applies_every_migration_on_postgresql(project, postgres_url):
    done = project.run("run", DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert states(project, postgres_url) == dict.fromkeys(VERSIONS, "applied")


def test_run_applies_every_migration_on_mariadb(project, mysql_url):
    done = project.run("run", DATABASE_URL=mysql_url)
    assert done.returncode == 0, done.stderr
    assert states(project, mysql_url) == dict.fromkeys(VERSIONS, "applied")


def test_run_applies_every_migration_on_mongodb(tmp_path, mongo_url):
    project = Project(tmp_path)
    project.add("001_add_users_collection.py", COLLECTION.format(name="users"))
    done = project.run("run", DATABASE_URL=mongo_url)
    assert done.returncode == 0, done.stderr
    assert states(project, mongo_url) == {"001_add_users_collection": "applied"}


def test_target_version_variable_stops_the_run_there(project, postgres_url):
    done = project.run("run", DATABASE_URL=postgres_url, TARGET_VERSION=VERSIONS[0])
    assert done.returncode == 0, done.stderr
    assert states(project, postgres_url) == {VERSIONS[0]: "applied", VERSIONS[1]: "pending", VERSIONS[2]: "pending"}


def test_target_version_flag_stops_the_run_there(project, postgres_url):
    done = project.run("run", "--target-version", VERSIONS[1], DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert states(project, postgres_url) == {VERSIONS[0]: "applied", VERSIONS[1]: "applied", VERSIONS[2]: "pending"}


def test_rollback_version_reverts_it(project, postgres_url):
    assert project.run("run", DATABASE_URL=postgres_url).returncode == 0
    done = project.run("rollback", "--version", VERSIONS[2], DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert states(project, postgres_url)[VERSIONS[2]] == "pending"


def test_status_lists_each_migration_and_its_state(project, postgres_url):
    assert project.run("run", "--target-version", VERSIONS[0], DATABASE_URL=postgres_url).returncode == 0
    done = project.run("status", DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.startswith(tuple(VERSIONS))}
    assert [rows[v][4] for v in VERSIONS] == ["applied", "pending", "pending"], done.stdout


# --- production, the container's user, secrets -------------------------------------------


def test_production_run_backs_up_first_into_the_volume_readable_only_by_the_container_user(project, postgres_url):
    done = project.run("run", DATABASE_URL=postgres_url, MIGRATION_ENVIRONMENT="production",
                       MIGRATION_BACKUP_BEFORE_MIGRATION="true")
    assert done.returncode == 0, done.stderr
    files = [path for path in project.backups.rglob("*") if path.is_file()]
    assert files, "no backup written to /app/backups"
    for path in files:
        assert path.stat().st_uid == CONTAINER_UID, path
        assert path.stat().st_mode & 0o777 == 0o600, f"{path}: {oct(path.stat().st_mode)}"


def test_the_container_runs_as_uid_10001():
    done = docker("run", "--rm", "--entrypoint", "id", IMAGE)
    assert done.stdout.split()[0] == f"uid={CONTAINER_UID}(ncm)", done.stdout


@pytest.fixture
async def password_url(postgres_url):
    """The test database, owned by a role that logs in with a password."""
    role, password = f"ncm_docker_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    database = sa.make_url(postgres_url).database
    admin = PG.admin()
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE ncm_password_test"))
        await conn.execute(sa.text(f'ALTER DATABASE "{database}" OWNER TO {role}'))
    yield sa.make_url(postgres_url).set(username=role, password=password).render_as_string(hide_password=False)
    async with admin.connect() as conn:  # the role owns tables there: the database goes first
        await conn.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        await conn.execute(sa.text(f"DROP ROLE {role}"))
    await admin.dispose()


def test_docker_logs_never_show_the_password(project, password_url):
    project.add("004_breaks.py", 'from alembic import op\n\n\ndef upgrade():\n    op.execute("SELECT 1/0")\n')
    name = f"ncm-test-{uuid.uuid4().hex[:8]}"
    try:
        started = docker(*project.run_args("run", env={"DATABASE_URL": password_url}, name=name, detach=True,
                                           rm=False))
        assert started.returncode == 0, started.stderr
        assert docker("wait", name).stdout.strip() == "1"
        logs = docker("logs", name)
    finally:
        docker("rm", "-f", name)
    assert "004_breaks" in logs.stderr, logs.stderr
    assert sa.make_url(password_url).password not in logs.stdout + logs.stderr


# --- databases that come late or never ---------------------------------------------------


def test_waits_for_a_database_that_comes_up_late_then_migrates(project, postgres_url):
    port, real_port = free_port(), sa.make_url(postgres_url).port or 5432
    LateProxy(port, ("127.0.0.1", real_port), delay=4).start()
    late_url = postgres_url.replace(f":{real_port}/", f":{port}/", 1)
    started = time.monotonic()
    done = project.run("run", DATABASE_URL=late_url, MIGRATION_WAIT_TIMEOUT="60", MIGRATION_WAIT_INTERVAL="1")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 4
    assert states(project, postgres_url) == dict.fromkeys(VERSIONS, "applied")


def test_gives_up_with_exit_4_on_a_database_that_never_comes(project):
    url = f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{free_port()}/nothing"
    started = time.monotonic()
    done = project.run("run", DATABASE_URL=url, MIGRATION_WAIT_TIMEOUT="3", MIGRATION_WAIT_INTERVAL="1")
    assert done.returncode == 4, done.stderr
    assert time.monotonic() - started < 30
    assert "not reachable" in done.stderr
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# --- docker stop, and many containers at once ----------------------------------------------


async def test_docker_stop_finishes_the_running_migration_and_stops_before_the_next(project, postgres_url):
    project.add(f"{VERSIONS[0]}.py", TABLE.format(name="users").replace(
        '    op.create_table("users"', '    op.execute("SELECT pg_sleep(3)")\n    op.create_table("users"'))
    name = f"ncm-test-{uuid.uuid4().hex[:8]}"
    sleeping = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()"
    try:
        started = docker(*project.run_args("run", env={"DATABASE_URL": postgres_url}, name=name, detach=True,
                                           rm=False))
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 60
        while not await scalar(postgres_url, sleeping):
            assert time.monotonic() < deadline, docker("logs", name).stderr
            time.sleep(0.1)
        assert docker("stop", "--time", "60", name).returncode == 0
        code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = docker("logs", name)
    finally:
        docker("rm", "-f", name)
    assert code == "143", logs.stdout + logs.stderr  # 128 + SIGTERM: stopped, not failed
    assert states(project, postgres_url) == {VERSIONS[0]: "applied", VERSIONS[1]: "pending", VERSIONS[2]: "pending"}
    assert "stopped" in logs.stderr.lower(), logs.stderr


COUNT_RUNS = '''"""Count the runs."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("runs", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True))
    op.execute("INSERT INTO runs DEFAULT VALUES")


def downgrade():
    op.drop_table("runs")
'''


async def test_eight_containers_at_once_apply_each_migration_exactly_once(project, postgres_url):
    project.add("004_count_runs.py", COUNT_RUNS)
    names = [f"ncm-test-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    run = [project.run_args("run", env={"DATABASE_URL": postgres_url}, name=name, detach=True, rm=False)
           for name in names]
    try:
        starts = [subprocess.Popen([DOCKER, *args], stdout=subprocess.DEVNULL) for args in run]
        assert [start.wait(timeout=120) for start in starts] == [0] * 8
        codes = [docker("wait", name, timeout=300).stdout.strip() for name in names]
        logs = {name: docker("logs", name).stderr for name in names}
    finally:
        docker("rm", "-f", *names)
    assert codes == ["0"] * 8, logs
    assert states(project, postgres_url) == dict.fromkeys([*VERSIONS, "004_count_runs"], "applied")
    assert await scalar(postgres_url, "SELECT count(*) FROM runs") == 1


# --- a smaller image ---------------------------------------------------------------------


def test_postgres_only_image_runs_postgresql_migrations(project, postgres_url):
    done = project.run("run", image=POSTGRES_ONLY_IMAGE, DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert states(project, postgres_url) == dict.fromkeys(VERSIONS, "applied")


def test_postgres_only_image_says_it_has_no_mongodb_plugin(project):
    done = project.run("status", image=POSTGRES_ONLY_IMAGE, MIGRATION_WAIT_TIMEOUT="0",
                       DATABASE_URL="mongodb://127.0.0.1:27017/ncm_docker")
    assert done.returncode != 0
    assert "ncm-mongo" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_postgres_only_image_is_smaller():
    sizes = {image: int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
             for image in (IMAGE, POSTGRES_ONLY_IMAGE)}
    assert sizes[POSTGRES_ONLY_IMAGE] < sizes[IMAGE], sizes


# --- docker-compose against the host's databases --------------------------------------------


def test_compose_run_status_against_the_hosts_postgresql(project, postgres_url):
    assert project.run("run", "--target-version", VERSIONS[0], DATABASE_URL=postgres_url).returncode == 0
    compose = ["docker-compose", "-p", f"ncmtest{uuid.uuid4().hex[:8]}",
               "-f", str(ROOT / "docker" / "docker-compose.migration.yml"),
               "-f", str(ROOT / "docker" / "docker-compose.host.yml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATION_", "DATABASE_"))}
    env.update(DATABASE_URL=postgres_url, NCM_MIGRATIONS_DIR=str(project.migrations),
               NCM_BACKUPS_DIR=str(project.backups))
    try:
        done = subprocess.run([*compose, "run", "--rm", "--no-deps", "migration", "status", "--json"],
                              capture_output=True, text=True, env=env, timeout=180, check=False)
    finally:
        subprocess.run([*compose, "down", "--volumes"], capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]} == {
        VERSIONS[0]: "applied", VERSIONS[1]: "pending", VERSIONS[2]: "pending"}
    assert "ncm-network" not in docker("network", "ls", "--format", "{{.Name}}").stdout
