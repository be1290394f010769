"""SQL-file migrations (dbmate, goose, Flyway) on MariaDB, through the real ncm command."""

from __future__ import annotations

import time

import pytest
import sql_files_scenario as scenario
from faults import Child

BLOCK = """CREATE PROCEDURE count_posts()
BEGIN
  SELECT count(*) FROM posts;
  SELECT 1;
END;"""
ATOMIC = False


@pytest.fixture
def sql_ncm(ncm, database_url):
    return lambda *args: ncm(database_url, *args)


def test_a_dbmate_file_applies_its_up_section(sql_ncm, migrations_dir, database_url):
    scenario.check_a_dbmate_file_applies_its_up_section(sql_ncm, migrations_dir, database_url)


def test_rollback_runs_the_down_section(sql_ncm, migrations_dir, database_url):
    scenario.check_rollback_runs_the_down_section(sql_ncm, migrations_dir, database_url)


def test_goose_sections_and_a_statement_block_apply(sql_ncm, migrations_dir, database_url):
    scenario.check_goose_sections_and_a_statement_block_apply(sql_ncm, migrations_dir, database_url, BLOCK)


def test_the_ncm_line_sets_the_type_and_the_order(sql_ncm, migrations_dir, database_url):
    scenario.check_the_ncm_line_sets_the_type_and_the_order(sql_ncm, migrations_dir)


def test_flyway_versions_apply_in_order_with_placeholders_replaced(sql_ncm, migrations_dir, database_url):
    scenario.check_flyway_versions_apply_in_order_with_placeholders_replaced(sql_ncm, migrations_dir, database_url)


def test_a_flyway_undo_script_is_the_rollback(sql_ncm, migrations_dir, database_url):
    scenario.check_a_flyway_undo_script_is_the_rollback(sql_ncm, migrations_dir, database_url)


def test_a_changed_repeatable_migration_is_applied_again(sql_ncm, migrations_dir, database_url):
    scenario.check_a_changed_repeatable_migration_is_applied_again(sql_ncm, migrations_dir, database_url)


def test_an_unchanged_repeatable_migration_is_not_applied_again(sql_ncm, migrations_dir, database_url):
    scenario.check_an_unchanged_repeatable_migration_is_not_applied_again(sql_ncm, migrations_dir)


def test_dry_run_shows_the_statements_and_changes_nothing(sql_ncm, migrations_dir, database_url):
    scenario.check_dry_run_shows_the_statements_and_changes_nothing(sql_ncm, migrations_dir, database_url)


def test_the_sql_script_holds_the_statements_once_each(sql_ncm, migrations_dir, database_url):
    scenario.check_the_sql_script_holds_the_statements_once_each(sql_ncm, migrations_dir)


def test_a_failing_statement_is_named_with_its_version(sql_ncm, migrations_dir, database_url):
    scenario.check_a_failing_statement_is_named_with_its_version(sql_ncm, migrations_dir, database_url, ATOMIC)


def test_an_edited_applied_sql_file_blocks_the_run(sql_ncm, migrations_dir, database_url):
    scenario.check_an_edited_applied_sql_file_blocks_the_run(sql_ncm, migrations_dir)


def test_a_delimiter_block_is_one_statement(sql_ncm, migrations_dir, database_url):
    (migrations_dir / "001_procedure.sql").write_text(
        "-- migrate:up\nCREATE TABLE before_it (id integer);\nDELIMITER //\n"
        "CREATE PROCEDURE count_rows()\nBEGIN\n  SELECT count(*) FROM before_it;\n  SELECT 1;\nEND //\n"
        "DELIMITER ;\nCREATE TABLE after_it (id integer);\n")
    scenario.ok(sql_ncm("run"))
    assert scenario.query(database_url, "SELECT count(*) FROM information_schema.ROUTINES "
                          "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'count_rows'") == [(1,)]
    assert {"before_it", "after_it"} <= scenario.tables(database_url)


SLOW = """-- migrate:up
CREATE TABLE first_t (id integer);
SELECT SLEEP(IF((SELECT count(*) FROM information_schema.TABLES
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'go_slow') > 0, 8, 0));
CREATE TABLE second_t (id integer);
"""


def journaled(url: str) -> bool:
    """Whether the run's history records a completed statement (once it has a history at all)."""
    tables = scenario.query(url, "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                 "AND TABLE_NAME = 'ncm_migrations'")
    return tables == [(1,)] and scenario.query(
        url, "SELECT count(*) FROM ncm_migrations WHERE statements_done >= 1") == [(1,)]


def test_a_killed_sql_file_resumes_after_the_statements_its_journal_records(sql_ncm, migrations_dir, database_url):
    (migrations_dir / "001_slow.sql").write_text(SLOW)
    scenario.query(database_url, "CREATE TABLE go_slow (id integer)")
    child = Child(database_url, migrations_dir, "run")
    deadline = time.monotonic() + 60
    while not journaled(database_url):
        assert time.monotonic() < deadline and child.process.poll() is None, "the step never journaled a statement"
        time.sleep(0.05)
    child.kill_group()
    child.finish()
    while scenario.states(sql_ncm) == {"001_slow": "in progress"}:  # the server ends the SLEEP, then the session
        assert time.monotonic() < deadline, "the killed run's session never ended"
        time.sleep(0.2)
    assert scenario.states(sql_ncm) == {"001_slow": "interrupted"}
    scenario.query(database_url, "DROP TABLE go_slow")
    done = scenario.ok(sql_ncm("run"))
    assert "001_slow was interrupted after 1 statement(s); resuming at the next one" in done.stderr
    assert scenario.states(sql_ncm) == {"001_slow": "applied"}
    assert {"first_t", "second_t"} <= scenario.tables(database_url)
