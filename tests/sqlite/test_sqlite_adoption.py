"""Adopting a SQLite database Flyway or golang-migrate manages: ``ncm baseline
--from-flyway`` / ``--from-golang-migrate`` read the history each tool wrote, in the table
each creates (the DDL below is theirs)."""

from __future__ import annotations

import adoption_scenario as scenario
import pytest

DIALECT = scenario.Dialect(
    # Flyway's createMetaDataTable.sql for SQLite (flyway/flyway, flyway-core's
    # org/flywaydb/core/internal/database/sqlite), in the main schema.
    flyway_table=[
        'CREATE TABLE "main"."flyway_schema_history" (\n'
        '    "installed_rank" INT NOT NULL PRIMARY KEY,\n'
        '    "version" VARCHAR(50),\n'
        '    "description" VARCHAR(200) NOT NULL,\n'
        '    "type" VARCHAR(20) NOT NULL,\n'
        '    "script" VARCHAR(1000) NOT NULL,\n'
        '    "checksum" INT,\n'
        '    "installed_by" VARCHAR(100) NOT NULL,\n'
        """    "installed_on" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n"""
        '    "execution_time" INT NOT NULL,\n'
        '    "success" BOOLEAN NOT NULL\n'
        ')',
        'CREATE INDEX "main"."flyway_schema_history_s_idx" ON "flyway_schema_history" ("success")',
    ],
    # golang-migrate's database/sqlite3 ensureVersionTable (golang-migrate/migrate).
    golang_migrate_table=["CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool)",
                          "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)"],
    true="1",
    false="0",
)


@pytest.fixture
def migrations_dir(project):
    return project / "migrations"


@pytest.fixture
def database_url(project):
    """The database the project's ``ncm`` fixture connects to."""
    return f"sqlite+aiosqlite:///{project}/app.db"


@pytest.fixture
def sql_ncm(ncm, migrations_dir):
    return lambda *args: ncm(*args, env={"MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir)}, check=None)


def test_baseline_from_flyway_records_its_successful_versions(sql_ncm, migrations_dir, database_url):
    scenario.check_baseline_from_flyway_records_its_successful_versions(sql_ncm, migrations_dir, database_url,
                                                                        DIALECT)


def test_a_flyway_baseline_row_counts_every_version_up_to_it(sql_ncm, migrations_dir, database_url):
    scenario.check_a_flyway_baseline_row_counts_every_version_up_to_it(sql_ncm, migrations_dir, database_url,
                                                                       DIALECT)


def test_a_flyway_version_undone_is_not_recorded(sql_ncm, migrations_dir, database_url):
    scenario.check_a_flyway_version_undone_is_not_recorded(sql_ncm, migrations_dir, database_url, DIALECT)


def test_a_flyway_version_without_a_file_is_refused_and_nothing_recorded(sql_ncm, migrations_dir, database_url):
    scenario.check_a_flyway_version_without_a_file_is_refused_and_nothing_recorded(
        sql_ncm, migrations_dir, database_url, DIALECT)


def test_baseline_from_golang_migrate_records_its_version_and_those_before(sql_ncm, migrations_dir, database_url):
    scenario.check_baseline_from_golang_migrate_records_its_version_and_those_before(
        sql_ncm, migrations_dir, database_url, DIALECT)


def test_a_dirty_golang_migrate_version_is_refused(sql_ncm, migrations_dir, database_url):
    scenario.check_a_dirty_golang_migrate_version_is_refused(sql_ncm, migrations_dir, database_url, DIALECT)


def test_a_golang_migrate_version_without_a_file_is_refused(sql_ncm, migrations_dir, database_url):
    scenario.check_a_golang_migrate_version_without_a_file_is_refused(sql_ncm, migrations_dir, database_url, DIALECT)
