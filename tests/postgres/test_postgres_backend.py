"""What the PostgreSQL backend adds to the contract: URLs, the advisory lock, CREATE INDEX
CONCURRENTLY, schemas, passwords and connection errors, against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from ncm_core.config import MigrationConfig
from ncm_core.errors import DatabaseUnavailable, LockTimeout
from ncm_core.reader import HistorySnapshot, read_light
from ncm_core.settings import SettingDeprecated
from ncm_core.testing import in_ci

TABLE = '''
"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100)))


def downgrade():
    op.drop_table("{name}")
'''

CONCURRENT_INDEX = '''
"""Index users.email without blocking writes."""
from alembic import op

type = "index"
transactional = False


def upgrade():
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)


def downgrade():
    op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
'''


async def scalar(url: str, sql: str, **params: object) -> object:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(sa.make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text(sql), params)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
async def test_plain_and_driver_urls_run_on_asyncpg(scheme, database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    url = scheme + "://" + database_url.split("://", 1)[1]
    async with runner_factory(url) as runner:
        assert runner.db.engine.dialect.driver == "asyncpg"
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]


async def test_create_index_concurrently_runs_outside_a_transaction_and_is_recorded(
        database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    write_migration("002_email_index", CONCURRENT_INDEX)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
        assert {r.version: r.status for r in await runner.db.read_history()} == {
            "001_users": "applied", "002_email_index": "applied"}
        assert await scalar(database_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_email'::regclass")
        await runner.rollback_migration(version="002")
        assert await scalar(database_url, "SELECT to_regclass('ix_users_email')") is None


async def test_dry_run_prints_postgresql_sql(database_url, write_migration, ncm):
    write_migration("001_users", TABLE.format(name="users"))
    write_migration("002_email_index", CONCURRENT_INDEX)
    done = ncm(database_url, "run", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "id SERIAL NOT NULL" in done.stdout
    assert "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);" in done.stdout


async def test_lock_survives_non_transactional_steps(database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    write_migration("002_check_lock", '''
        """Fail unless the migration lock is still held while this runs outside a transaction."""
        transactional = False


        async def upgrade(ctx):
            held = await ctx.session.scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
            assert held == 1, "the advisory lock was released"
        ''')
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]


async def test_lock_timeout_names_the_holder(database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    async with runner_factory(database_url) as holder, runner_factory(database_url, lock_timeout=0.3) as waiter:
        async with holder.db.lock():
            with pytest.raises(LockTimeout) as info:
                await waiter.run_migrations()
    message = str(info.value)
    assert f"held by ncm pid {os.getpid()} on " in message
    assert "server pid " in message and "client 127.0.0.1" in message and "since " in message
    assert "gave up after 0.3 s" in message


def test_eight_runner_processes_apply_each_migration_once(database_url, write_migration, migrations_dir):
    for i in range(1, 7):
        write_migration(f"00{i}_t{i}", TABLE.format(name=f"t{i}"))
    env = {**os.environ, "MIGRATION_DATABASE_URL": database_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir)}
    runners = [subprocess.Popen([sys.executable, "-m", "ncm_core", "run"], env=env, cwd=migrations_dir.parent,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in runners]
    assert [p.returncode for p in runners] == [0] * 8, [err for _, err in outputs]
    applied = sorted(line.split()[1] for _, err in outputs for line in err.splitlines() if line.startswith("applied"))
    assert applied == [f"00{i}_t{i}" for i in range(1, 7)]


async def test_schema_option_holds_migrations_and_history(database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    async with runner_factory(database_url, database_schema="app") as runner:
        await runner.run_migrations()
        assert [r.version for r in await runner.db.read_history()] == ["001_users"]
    tables = await scalar(database_url, "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_name) "
                                        "FROM information_schema.tables WHERE table_schema IN ('app', 'public')")
    assert tables == "app.ncm_audit,app.ncm_backfills,app.ncm_migrations,app.users"


async def test_schemas_are_independent(database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    async with runner_factory(database_url, database_schema="tenant_a") as a:
        await a.run_migrations()
    async with runner_factory(database_url, database_schema="tenant_b") as b:
        assert [r["version"] for r in await b.run_migrations()] == ["001_users"]


async def test_the_postgresql_section_s_schema_holds_the_history_table(database_url, write_migration, runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    async with runner_factory(database_url, postgresql={"schema": "app"}) as runner:
        await runner.run_migrations()
    assert await scalar(database_url, "SELECT table_schema FROM information_schema.tables "
                                      "WHERE table_name = 'ncm_migrations'") == "app"


async def test_status_reads_the_history_and_the_lock_of_the_schema_s_own(database_url, write_migration,
                                                                       runner_factory):
    write_migration("001_users", TABLE.format(name="users"))
    async with runner_factory(database_url, postgresql={"schema": "app"}) as app, \
            runner_factory(database_url) as public:
        await app.run_migrations()
        async with app.db.lock():
            light = await read_light(app.config)
            assert light is not None and light == await app.snapshot()
            assert [r.version for r in light.records] == ["001_users"] and light.lock_holder
            assert await read_light(public.config) == HistorySnapshot("postgresql", [], None, None)


async def test_the_schema_is_read_from_the_postgresql_section_of_ncm_toml(database_url, write_migration,
                                                                        migrations_dir, ncm):
    write_migration("001_users", TABLE.format(name="users"))
    (migrations_dir.parent / "ncm.toml").write_text('[postgresql]\nschema = "from_file"\n')
    done = ncm(database_url, "run")
    assert done.returncode == 0, done.stderr
    assert await scalar(database_url, "SELECT table_schema FROM information_schema.tables "
                                      "WHERE table_name = 'ncm_migrations'") == "from_file"


def test_database_schema_warns_and_reaches_the_postgresql_section(monkeypatch):
    monkeypatch.setenv("MIGRATION_DATABASE_SCHEMA", "legacy")
    with pytest.warns(SettingDeprecated, match=r"database_schema is deprecated: set schema in \[postgresql\] "
                                                r"\(MIGRATION_POSTGRESQL_SCHEMA\)"):
        config = MigrationConfig(database_url="postgresql+asyncpg://u@h/db")
    assert config.section("postgresql").schema_name == "legacy"


@pytest.fixture
async def password_role(admin):
    """A role that must give its password (scripts/services.sh makes its group check it)."""
    name, password = f"ncm_pw_{uuid.uuid4().hex[:8]}", "p@ss:w/rd%"
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"CREATE ROLE {name} LOGIN IN ROLE ncm_password_test PASSWORD '{password}'"))
    yield name, password
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"DROP ROLE {name}"))


def url_for(database_url: str, user: str, password: str) -> str:
    rest = database_url.split("://", 1)[1].split("@", 1)[1]
    return f"postgresql://{user}:{quote(password, safe='')}@{rest}"


async def test_special_character_password_connects(password_role, database_url, write_migration, ncm):
    user, password = password_role
    write_migration("001_users", TABLE.format(name="users"))
    done = ncm(url_for(database_url, user, password), "status")
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr and quote(password, safe="") not in done.stdout + done.stderr


async def test_wrong_password_is_one_line_without_the_password(password_role, database_url, runner_factory):
    user, _ = password_role
    try:
        async with runner_factory(url_for(database_url, user, "wr0ng:p@ss")):
            pass
    except DatabaseUnavailable as exc:
        message = str(exc)
    else:
        if in_ci():
            pytest.fail("the server accepted a wrong password: scripts/services.sh did not run")
        pytest.skip("the server does not check passwords here: run scripts/services.sh")
    assert f'password authentication failed for user "{user}"' in message
    assert "wr0ng" not in message and "\n" not in message


def test_unknown_database_is_one_clear_line(server_url, ncm, migrations_dir):
    done = ncm(server_url.set(database="ncm_no_such_db").render_as_string(hide_password=False), "status")
    assert done.returncode == 4
    assert done.stderr.strip().count("\n") == 0
    assert 'database "ncm_no_such_db" does not exist' in done.stderr


def test_unresolvable_host_is_one_clear_line(ncm):
    done = ncm("postgresql://ncm:s3cr3t-pw@no-such-host.invalid/db", "status", MIGRATION_CONNECT_TIMEOUT="5")
    assert done.returncode == 4
    assert "cannot connect to postgresql://ncm:***@no-such-host.invalid/db" in done.stderr
    assert "s3cr3t-pw" not in done.stderr and done.stderr.strip().count("\n") == 0
