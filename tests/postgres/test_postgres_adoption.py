"""Adopting a PostgreSQL database Flyway or golang-migrate manages: ``ncm baseline
--from-flyway`` / ``--from-golang-migrate`` read the history each tool wrote, in the table
each creates (the DDL below is theirs, for the ``public`` schema)."""

from __future__ import annotations

import adoption_scenario as scenario
import pytest

DIALECT = scenario.Dialect(
    # Flyway's PostgreSQLDatabase.getRawCreateScript (flyway/flyway,
    # flyway-database/flyway-database-postgresql), with no tablespace and no baseline row.
    flyway_table=[
        'CREATE TABLE "public"."flyway_schema_history" (\n'
        '    "installed_rank" INT NOT NULL,\n'
        '    "version" VARCHAR(50),\n'
        '    "description" VARCHAR(200) NOT NULL,\n'
        '    "type" VARCHAR(20) NOT NULL,\n'
        '    "script" VARCHAR(1000) NOT NULL,\n'
        '    "checksum" INTEGER,\n'
        '    "installed_by" VARCHAR(100) NOT NULL,\n'
        '    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),\n'
        '    "execution_time" INTEGER NOT NULL,\n'
        '    "success" BOOLEAN NOT NULL\n'
        ')',
        'ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" '
        'PRIMARY KEY ("installed_rank")',
        'CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success")',
    ],
    # golang-migrate's database/postgres ensureVersionTable (golang-migrate/migrate).
    golang_migrate_table=['CREATE TABLE IF NOT EXISTS "public"."schema_migrations" '
                          '(version bigint not null primary key, dirty boolean not null)'],
    true="TRUE",
    false="FALSE",
)


@pytest.fixture
def sql_ncm(ncm, database_url):
    return lambda *args: ncm(database_url, *args)


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
