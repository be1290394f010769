"""``--targets`` on the real servers: PostgreSQL databases and schemas, MariaDB, SQLite files
and MongoDB in one fan-out; 4 shards run as 8 concurrent processes (two per index, as an
Indexed Job whose pods are retried); ``ncm wait --at-head`` on PostgreSQL."""

import json
import os
import subprocess
import sys
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from pymongo import MongoClient
from servers import SERVERS
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.fleet.journal import events
from ncm_core.testing import require_url

SQL_STEPS = ['''"""Add users."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
''', '''"""Add orders."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE orders")
''']

MONGO_STEP = '''"""Create users."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("users", session=ctx.session)


async def downgrade(ctx):
    await ctx.db.drop_collection("users", session=ctx.session)
'''


@pytest.fixture
def project(tmp_path):
    (tmp_path / "migrations").mkdir()
    for number, source in enumerate(SQL_STEPS, 1):
        (tmp_path / "migrations" / f"00{number}_step.py").write_text(source)
    (tmp_path / "mongo_migrations").mkdir()
    (tmp_path / "mongo_migrations" / "001_users.py").write_text(MONGO_STEP)
    return tmp_path


def ncm(project, *args, env=None, check=0):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_") and k != "JOB_COMPLETION_INDEX"}
    done = subprocess.run([sys.executable, "-m", "ncm_core", *args], cwd=project, env={**environ, **(env or {})},
                          capture_output=True, text=True, timeout=300)
    assert check is None or done.returncode == check, f"{args} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def statuses(done):
    return {t["name"]: t["status"] for t in json.loads(done.stdout)["targets"]}


def with_password_variable(url, variable):
    """The URL with ``${variable}`` for its password: the file holds no secret."""
    return sa.make_url(url).set(password="PASSWORD").render_as_string(hide_password=False) \
        .replace(":PASSWORD@", f":${{{variable}}}@")


@pytest.fixture
async def mariadb_url():
    server = SERVERS["mysql"]
    admin = server.admin()
    url = await server.create(admin)
    yield url
    await server.drop(admin, url)
    await admin.dispose()


@pytest.fixture
def mongo_url():
    server = require_url("NCM_TEST_MONGO_URL")
    name = f"ncm_test_{uuid.uuid4().hex[:12]}"
    yield server.replace("/ncm_test?", f"/{name}?")
    with MongoClient(server, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
async def schemas(database_url):
    """Ten tenant schemas in one PostgreSQL database."""
    names = [f"t{i}" for i in range(10)]
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for name in names:
            await conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    yield names
    await engine.dispose()


def test_one_fan_out_migrates_postgres_mariadb_sqlite_and_mongodb(project, database_url, mariadb_url, mongo_url):
    (project / "ncm.toml").write_text(f'''
[targets.pg]
url = "{with_password_variable(database_url, "PG_PASSWORD")}"
[targets.maria]
url = "{mariadb_url}"
[targets.lite]
url = "sqlite+aiosqlite:///{project}/lite.db"
[targets.mongo]
url = "{mongo_url}"
migration_directory = "mongo_migrations"
''')
    env = {"PG_PASSWORD": sa.make_url(database_url).password or ""}
    ncm(project, "run", "--targets", "all", "--parallel", "4", env=env)
    assert statuses(ncm(project, "status", "--targets", "all", "--json", env=env)) == {
        "pg": "at head", "maria": "at head", "lite": "at head", "mongo": "at head"}


def four_backends(project, database_url, mariadb_url, mongo_url):
    (project / "ncm.toml").write_text(f'''
[targets.pg]
url = "{database_url}"
[targets.maria]
url = "{mariadb_url}"
[targets.lite]
url = "sqlite+aiosqlite:///{project}/lite.db"
[targets.mongo]
url = "{mongo_url}"
migration_directory = "mongo_migrations"
''')
    ncm(project, "run", "--targets", "all")


def test_validate_targets_on_four_backends(project, database_url, mariadb_url, mongo_url):
    four_backends(project, database_url, mariadb_url, mongo_url)
    assert set(statuses(ncm(project, "validate", "--targets", "all", "--json")).values()) == {"valid"}


def test_backup_targets_on_four_backends(project, database_url, mariadb_url, mongo_url):
    four_backends(project, database_url, mariadb_url, mongo_url)
    done = ncm(project, "backup", "--targets", "all", "--json")
    assert set(statuses(done).values()) == {"done"}
    assert len({t["location"] for t in json.loads(done.stdout)["targets"]}) == 4


def test_rollback_targets_on_four_backends(project, database_url, mariadb_url, mongo_url):
    four_backends(project, database_url, mariadb_url, mongo_url)
    ncm(project, "rollback", "--targets", "all", "--steps", "1", "--yes")
    assert statuses(ncm(project, "status", "--targets", "all", "--json")) == {
        "pg": "pending", "maria": "pending", "lite": "pending", "mongo": "pending"}


def test_status_targets_shows_pending_and_failed_per_target(project, database_url, mariadb_url):
    (project / "ncm.toml").write_text(f'''
[targets.pg]
url = "{database_url}"
[targets.maria]
url = "{mariadb_url}"
''')
    ncm(project, "run", "--targets", "pg")
    rows = ncm(project, "status", "--targets", "all").stdout.splitlines()
    assert [row.split()[:3] for row in rows[2:4]] == [["pg", "at", "head"], ["maria", "pending", "pending"]]


def tenant_targets(project, database_url, schemas):
    (project / "ncm.toml").write_text(f'''
[targets.schema]
url = "{database_url}"
schema = "{{tenant}}"
tenants = [{", ".join(f'"{s}"' for s in schemas)}]

[targets.file]
url = "sqlite+aiosqlite:///{project}/file_{{tenant}}.db"
tenants = [{", ".join(f'"f{i}"' for i in range(10))}]
''')


async def test_tenant_schemas_each_get_their_own_tables(project, database_url, schemas):
    tenant_targets(project, database_url, schemas)
    ncm(project, "run", "--targets", "schema", "--parallel", "8")
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        found = (await conn.execute(sa.text("SELECT table_schema, count(*) FROM information_schema.tables "
                                            "WHERE table_name IN ('users', 'orders') GROUP BY table_schema"))).all()
    await engine.dispose()
    assert dict(found) == {name: 2 for name in schemas}


def test_four_shards_in_eight_processes_migrate_each_target_once(project, database_url, schemas):
    tenant_targets(project, database_url, schemas)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    pods = [subprocess.Popen([sys.executable, "-m", "ncm_core", "run", "--targets", "all", "--run-id", "job-1",
                              "--parallel", "3"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**environ, "JOB_COMPLETION_INDEX": str(index), "NCM_SHARD_COUNT": "4"})
            for index in (0, 1, 2, 3) * 2]
    codes = [pod.wait(timeout=300) for pod in pods]
    assert codes == [0] * 8, [pod.stderr.read() for pod in pods]
    finished = [e for e in events(project / "ncm-journal.jsonl", "job-1") if e["event"] == "done"]
    applied = Counter(e["target"] for e in finished if e.get("applied"))
    names = {f"schema/{s}" for s in schemas} | {f"file/f{i}" for i in range(10)}
    assert {e["target"] for e in finished} == names
    assert applied == Counter({name: 1 for name in names})


def test_wait_at_head_on_postgres(project, database_url):
    env = {"MIGRATION_DATABASE_URL": database_url}
    ncm(project, "wait", "--at-head", "--timeout", "0", env=env, check=3)
    ncm(project, "run", env=env)
    assert ncm(project, "wait", "--at-head", "--timeout", "5", env=env).stderr.startswith("at head: ")


def test_wait_on_an_unreachable_server_times_out_without_the_password(project, unreachable_url):
    done = ncm(project, "wait", "--at-head", "--timeout", "0", env={"MIGRATION_DATABASE_URL": unreachable_url},
               check=3)
    assert "s3cr3t-pw" not in done.stderr and "timeout after 0 s" in done.stderr


async def test_tenant_schemas_come_from_a_query_on_a_control_database(project, database_url, schemas):
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(sa.text("CREATE TABLE public.tenants (slug text, active boolean)"))
        await conn.execute(sa.text("INSERT INTO public.tenants VALUES ('t1', true), ('t2', true), ('t3', false)"))
    await engine.dispose()
    (project / "ncm.toml").write_text(f'''
[targets.schema]
url = "{database_url}"
schema = "{{tenant}}"
tenants_query = "SELECT slug FROM public.tenants WHERE active ORDER BY slug"
tenants_database = "${{CONTROL_URL}}"
''')
    done = ncm(project, "status", "--targets", "all", "--json", env={"CONTROL_URL": database_url})
    assert statuses(done) == {"schema/t1": "pending", "schema/t2": "pending"}


def test_a_failing_tenants_query_is_one_line(project, database_url):
    (project / "ncm.toml").write_text(f'''
[targets.schema]
url = "{database_url}"
schema = "{{tenant}}"
tenants_query = "SELECT slug FROM nowhere"
tenants_database = "{database_url}"
''')
    done = ncm(project, "status", "--targets", "all", check=2)
    assert done.stderr.startswith("error: ncm.toml [targets]: target schema: tenants_query failed: ") and 'relation "nowhere" does not exist' in done.stderr
    assert len(done.stderr.splitlines()) == 1
