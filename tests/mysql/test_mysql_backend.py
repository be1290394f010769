"""What the MySQL/MariaDB backend adds to the contract: URLs, GET_LOCK, half-applied migrations,
charset and engine defaults, passwords and connection errors, against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from ncm_core.config import MigrationConfig
from ncm_core.errors import ConfigError, DatabaseUnavailable, LockTimeout, ValidationFailed
from ncm_core.settings import SettingDeprecated

TABLE = '''
"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(50)){options})


def downgrade():
    op.drop_table("{name}")
'''

HALF_APPLIED = '''
"""Create orders, then fail: the second CREATE TABLE finds the first one committed."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.execute("DROP TABLE IF EXISTS orders")
'''


def table(name: str, options: str = "") -> str:
    return TABLE.format(name=name, options=options)


async def query(url: str, sql: str, **params: object) -> list[sa.Row]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(sa.make_url(url).set(drivername="mysql+aiomysql"))
    try:
        async with engine.connect() as conn:
            result = await conn.execute(sa.text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    return {r[0] for r in await query(url, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")}


@pytest.mark.parametrize("scheme", ["mysql", "mariadb", "mysql+aiomysql"])
async def test_plain_and_driver_urls_run_on_aiomysql(scheme, database_url, write_migration, runner_factory):
    write_migration("001_users", table("users"))
    async with runner_factory(scheme + "://" + database_url.split("://", 1)[1]) as runner:
        assert runner.db.engine.dialect.driver == "aiomysql"
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]


async def test_half_applied_migration_is_recorded_with_the_statement_that_failed(
        database_url, write_migration, runner_factory):
    write_migration("001_orders", HALF_APPLIED)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
        assert result["status"] == "failed" and "already exists" in result["error"]
        assert result["statement"].startswith("CREATE TABLE orders")
        (record,) = await runner.db.read_history()
        assert record.status == "failed" and "(statement: CREATE TABLE orders" in record.error
    assert "orders" in await table_names(database_url)


def test_status_shows_the_failed_migration(database_url, write_migration, ncm):
    write_migration("001_orders", HALF_APPLIED)
    assert ncm(database_url, "run").returncode == 1
    done = ncm(database_url, "status", "--json")
    assert done.returncode == 0, done.stderr
    assert '"state": "failed"' in done.stdout and "statement: CREATE TABLE orders" in done.stdout


async def test_run_refuses_a_half_applied_migration_until_repaired(database_url, write_migration, runner_factory):
    path = write_migration("001_orders", HALF_APPLIED)
    write_migration("002_users", table("users"))
    async with runner_factory(database_url) as runner:
        await runner.run_migrations()
        with pytest.raises(ValidationFailed, match="001_orders"):
            await runner.run_migrations()
        assert "users" not in await table_names(database_url)
        await query(database_url, "DROP TABLE orders")
        assert await runner.repair() == [{"version": "001_orders", "action": "removed failed record"}]
        path.write_text(table("orders"))
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]


async def test_rollback_of_a_half_applied_migration_runs_its_down_step(database_url, write_migration, runner_factory):
    write_migration("001_orders", HALF_APPLIED)
    async with runner_factory(database_url) as runner:
        await runner.run_migrations()
        assert [r["status"] for r in await runner.rollback_migration(version="001")] == ["reverted"]
        assert await runner.db.read_history() == []
    assert "orders" not in await table_names(database_url)


async def test_auto_rollback_runs_the_down_step_of_the_half_applied_migration(
        database_url, write_migration, runner_factory):
    write_migration("001_users", table("users"))
    write_migration("002_orders", HALF_APPLIED)
    async with runner_factory(database_url, auto_rollback_on_failure=True) as runner:
        results = await runner.run_migrations()
        assert [(r["version"], r["status"]) for r in results] == [
            ("001_users", "applied"), ("002_orders", "failed"), ("002_orders", "reverted"), ("001_users", "reverted")]
        assert await runner.db.read_history() == []
    assert not {"users", "orders"} & await table_names(database_url)


async def engine_and_collation(url: str, name: str) -> tuple[str, str]:
    (row,) = await query(url, "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
                              "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :n", n=name)
    return row[0], row[1]


RAW_TABLE = '''
"""Create {name} with plain SQL."""


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE {name} (id INT PRIMARY KEY)")
'''


async def test_tables_default_to_utf8mb4_and_innodb(database_url, admin, write_migration, runner_factory):
    name = sa.make_url(database_url).database
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"ALTER DATABASE `{name}` CHARACTER SET latin1"))
    write_migration("001_users", table("users"))
    async with runner_factory(database_url) as runner:
        await runner.run_migrations()
    engine, collation = await engine_and_collation(database_url, "users")
    assert engine == "InnoDB" and collation.startswith("utf8mb4_")


async def test_charset_and_engine_are_configurable(database_url, write_migration, runner_factory):
    write_migration("001_users", table("users"))
    write_migration("002_raw", RAW_TABLE.format(name="raw"))
    async with runner_factory(database_url, mysql_charset="latin1", mysql_engine="MyISAM") as runner:
        await runner.run_migrations()
    assert await engine_and_collation(database_url, "users") == ("MyISAM", "latin1_swedish_ci")
    assert (await engine_and_collation(database_url, "raw"))[0] == "MyISAM"


async def test_a_migration_s_own_table_options_win(database_url, write_migration, runner_factory):
    write_migration("001_users", table("users", ', mysql_engine="MyISAM", mysql_charset="latin1"'))
    async with runner_factory(database_url) as runner:
        await runner.run_migrations()
    assert await engine_and_collation(database_url, "users") == ("MyISAM", "latin1_swedish_ci")


async def test_engine_name_must_be_a_plain_name(database_url, runner_factory):
    with pytest.raises(ConfigError, match="mysql_engine 'InnoDB; DROP DATABASE x'"):
        async with runner_factory(database_url, mysql_engine="InnoDB; DROP DATABASE x"):
            pass


async def test_the_mysql_section_sets_charset_and_engine_of_created_tables(database_url, write_migration,
                                                                          runner_factory):
    write_migration("001_users", table("users"))
    write_migration("002_raw", RAW_TABLE.format(name="raw"))
    async with runner_factory(database_url, mysql={"charset": "latin1", "engine": "MyISAM"}) as runner:
        await runner.run_migrations()
    assert await engine_and_collation(database_url, "users") == ("MyISAM", "latin1_swedish_ci")
    assert (await engine_and_collation(database_url, "raw"))[0] == "MyISAM"


async def test_the_mysql_section_is_read_from_ncm_toml_and_the_environment(database_url, write_migration,
                                                                         migrations_dir, ncm):
    write_migration("001_users", table("users"))
    (migrations_dir.parent / "ncm.toml").write_text('[mysql]\nengine = "MyISAM"\ncharset = "utf8mb4"\n')
    done = ncm(database_url, "run", MIGRATION_MYSQL_CHARSET="latin1")
    assert done.returncode == 0, done.stderr
    assert await engine_and_collation(database_url, "users") == ("MyISAM", "latin1_swedish_ci")


def test_the_old_charset_and_engine_names_warn_and_reach_the_mysql_section():
    with pytest.warns(SettingDeprecated, match=r"mysql_engine is deprecated: set engine in \[mysql\]"):
        config = MigrationConfig(mysql_charset="latin1", mysql_engine="MyISAM")
    assert (config.section("mysql").charset, config.section("mysql").engine) == ("latin1", "MyISAM")


def test_a_charset_in_the_mysql_section_must_be_a_plain_name():
    with pytest.raises(ConfigError, match=r"^invalid configuration: mysql\.charset 'utf8; DROP DATABASE x': "):
        MigrationConfig(mysql={"charset": "utf8; DROP DATABASE x"})


def test_dry_run_prints_mysql_sql(database_url, write_migration, ncm):
    write_migration("001_users", table("users"))
    done = ncm(database_url, "run", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "id INTEGER NOT NULL AUTO_INCREMENT" in done.stdout and "CHARSET=utf8mb4 ENGINE=InnoDB;" in done.stdout


async def test_lock_timeout_names_the_holder(database_url, write_migration, runner_factory):
    write_migration("001_users", table("users"))
    async with runner_factory(database_url, lock_timeout=0.5) as holder, \
            runner_factory(database_url, lock_timeout=0.5) as waiter:
        async with holder.db.lock():
            with pytest.raises(LockTimeout) as info:
                await waiter.run_migrations()
    database = sa.make_url(database_url).database
    assert f"{database} (lock 'ncm:{database}'): the migration lock is held by connection " in str(info.value)
    assert "(root@127.0.0.1:" in str(info.value) and "gave up after 0.5 s" in str(info.value)


def test_eight_runner_processes_apply_each_migration_once(database_url, write_migration, migrations_dir):
    for i in range(1, 7):
        write_migration(f"00{i}_t{i}", table(f"t{i}"))
    env = {**os.environ, "MIGRATION_DATABASE_URL": database_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir)}
    runners = [subprocess.Popen([sys.executable, "-m", "ncm_core", "run"], env=env, cwd=migrations_dir.parent,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in runners]
    assert [p.returncode for p in runners] == [0] * 8, [err for _, err in outputs]
    applied = sorted(line.split()[1] for _, err in outputs for line in err.splitlines() if line.startswith("applied"))
    assert applied == [f"00{i}_t{i}" for i in range(1, 7)]


@pytest.fixture
async def password_user(admin, database_url):
    name, password = f"ncm_pw_{uuid.uuid4().hex[:8]}", "p@ss:w/rd%"
    database = sa.make_url(database_url).database
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"CREATE USER '{name}'@'%' IDENTIFIED BY :pw"), {"pw": password})
        await conn.execute(sa.text(f"GRANT ALL ON `{database}`.* TO '{name}'@'%'"))
    yield name, password
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"DROP USER '{name}'@'%'"))


def url_for(database_url: str, user: str, password: str) -> str:
    rest = database_url.split("://", 1)[1].split("@", 1)[1]
    return f"mysql://{user}:{quote(password, safe='')}@{rest}"


def test_special_character_password_connects(password_user, database_url, write_migration, ncm):
    user, password = password_user
    write_migration("001_users", table("users"))
    done = ncm(url_for(database_url, user, password), "run")
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr and quote(password, safe="") not in done.stdout + done.stderr


async def test_wrong_password_is_one_line_without_the_password(password_user, database_url, runner_factory):
    user, _ = password_user
    with pytest.raises(DatabaseUnavailable) as info:
        async with runner_factory(url_for(database_url, user, "wr0ng:p@ss")):
            pass
    message = str(info.value)
    assert f"Access denied for user '{user}'" in message
    assert "wr0ng" not in message and "\n" not in message


def test_unknown_database_is_one_clear_line(server_url, ncm):
    done = ncm(server_url.set(database="ncm_no_such_db").render_as_string(hide_password=False), "status")
    assert done.returncode == 4
    assert "Unknown database 'ncm_no_such_db'" in done.stderr and done.stderr.strip().count("\n") == 0


def test_unresolvable_host_is_one_clear_line(ncm):
    done = ncm("mysql://ncm:s3cr3t-pw@no-such-host.invalid/db", "status", MIGRATION_CONNECT_TIMEOUT="5")
    assert done.returncode == 4
    assert "cannot connect to mysql://ncm:***@no-such-host.invalid/db" in done.stderr
    assert "s3cr3t-pw" not in done.stderr and done.stderr.strip().count("\n") == 0


async def test_a_url_without_a_database_is_one_clear_line(server_url, runner_factory):
    url = sa.URL.create(server_url.drivername, server_url.username, server_url.password, server_url.host,
                        server_url.port).render_as_string(hide_password=False)
    with pytest.raises(ConfigError, match=r"names no database: add /<database> to it$"):
        async with runner_factory(url):
            pass
