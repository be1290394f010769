"""`ncm run --sql` / `ncm rollback --sql` on MariaDB: scripts that the mariadb client applies as ncm would."""

from __future__ import annotations

import subprocess

import offline_scenario as scenario
import pytest
import sqlalchemy as sa


@pytest.fixture
def apply(database_url):
    url = sa.make_url(database_url)

    def apply(script: str) -> None:
        subprocess.run(["mariadb", "--no-defaults", "-h", url.host, "-P", str(url.port or 3306), "-u", url.username,
                        url.database], input=script, text=True, check=True, capture_output=True,
                       env={"MYSQL_PWD": url.password or "", "PATH": "/usr/bin:/bin"})

    return apply


@pytest.fixture
def sql_ncm(ncm, database_url):
    return lambda *args: ncm(database_url, *args)


def test_a_script_from_base_applied_with_the_mariadb_client_leaves_the_database_at_head(sql_ncm, apply, migrations_dir):
    scenario.check_script_from_base_leaves_the_database_at_head(sql_ncm, apply, migrations_dir)


def test_a_script_without_from_starts_where_the_history_is(sql_ncm, apply, migrations_dir):
    scenario.check_script_without_from_starts_where_the_history_is(sql_ncm, apply, migrations_dir)


def test_a_rollback_script_applied_with_the_mariadb_client_reverts_what_the_rollback_would(sql_ncm, apply, migrations_dir):
    scenario.check_rollback_script_reverts_what_the_rollback_would(sql_ncm, apply, migrations_dir)


def test_a_script_from_a_version_needs_no_server(ncm, unreachable_url, migrations_dir):
    scenario.check_script_from_a_version_needs_no_database(lambda *args: ncm(unreachable_url, *args), migrations_dir)
