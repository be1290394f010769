"""Connection problems: one clear line, within the configured time, never the password."""

import os
import subprocess
import sys
import time

import pytest

from ncm_core.errors import ConfigError, DatabaseUnavailable
from ncm_core.testing import modules_imported_by_a_run

PASSWORD = "s3cr3t-pw"


async def test_srv_url_whose_dns_name_does_not_resolve_is_one_line(runner_factory):
    with pytest.raises(DatabaseUnavailable) as info:
        async with runner_factory(f"mongodb+srv://ncm:{PASSWORD}@cluster0.example.invalid/app", connect_timeout=3):
            pass
    message = str(info.value)
    assert message.startswith("cannot connect to mongodb+srv://ncm:***@cluster0.example.invalid/app: ")
    assert "DNS" in message and "\n" not in message and PASSWORD not in message


async def test_srv_url_with_a_port_is_a_configuration_error(runner_factory):
    with pytest.raises(ConfigError, match=r"is not a valid MongoDB URL: .*port") as info:
        async with runner_factory(f"mongodb+srv://ncm:{PASSWORD}@cluster0.example.com:27017/app"):
            pass
    assert PASSWORD not in str(info.value) and "\n" not in str(info.value)


async def test_url_without_a_database_is_a_configuration_error(runner_factory):
    with pytest.raises(ConfigError, match=r"names no database: write mongodb://host/<database>"):
        async with runner_factory(f"mongodb://ncm:{PASSWORD}@127.0.0.1:27017/?directConnection=true"):
            pass


async def test_unreachable_server_fails_within_the_connect_timeout(unreachable_url, runner_factory):
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match=r"no server answered \(127.0.0.1:1: .*refused|failed"):
        async with runner_factory(unreachable_url, connect_timeout=1):
            pass
    assert time.monotonic() - started < 4


def test_ncm_check_reports_an_unresolvable_srv_url_in_one_line_and_exit_code_4(tmp_path):
    env = {**os.environ, "MIGRATION_DATABASE_URL": f"mongodb+srv://ncm:{PASSWORD}@cluster0.example.invalid/app",
           "MIGRATION_CONNECT_TIMEOUT": "3"}
    done = subprocess.run([sys.executable, "-m", "ncm_core", "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert PASSWORD not in done.stderr + done.stdout and "cluster0.example.invalid" in done.stderr


def test_a_run_imports_no_sql_layer(mongo_url, tmp_path):
    """Installed SQL backends (and SQLAlchemy, Alembic, their drivers) stay unimported."""
    modules = modules_imported_by_a_run(mongo_url, tmp_path)
    assert sorted({m.split(".")[0] for m in modules} & {"sqlalchemy", "alembic", "asyncpg", "aiomysql", "aiosqlite"}) == []
