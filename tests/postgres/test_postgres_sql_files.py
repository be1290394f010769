"""SQL-file migrations (dbmate, goose, Flyway) on PostgreSQL, through the real ncm command."""

from __future__ import annotations

import pytest
import sql_files_scenario as scenario

BLOCK = """CREATE FUNCTION posts_title() RETURNS trigger AS $$
BEGIN
  NEW.title := coalesce(NEW.title, 'untitled');
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;"""
ATOMIC = True


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


def test_a_dollar_quoted_body_is_one_statement(sql_ncm, migrations_dir, database_url):
    (migrations_dir / "001_function.sql").write_text(
        "-- migrate:up\n" + BLOCK.replace("$$", "$body$") + "\nCREATE TABLE after_it (id integer);\n"
        "-- migrate:down\nDROP TABLE after_it;\nDROP FUNCTION posts_title();\n")
    scenario.ok(sql_ncm("run"))
    assert scenario.query(database_url, "SELECT count(*) FROM pg_proc WHERE proname = 'posts_title'") == [(1,)]
    assert "after_it" in scenario.tables(database_url)


def test_transaction_false_runs_create_index_concurrently(sql_ncm, migrations_dir, database_url):
    (migrations_dir / "001_table.sql").write_text("-- migrate:up\nCREATE TABLE t (id integer);\n")
    (migrations_dir / "002_index.sql").write_text("-- ncm: type=index transaction=false\n-- migrate:up\n"
                                                  "CREATE INDEX CONCURRENTLY ix_t_id ON t (id);\n")
    scenario.ok(sql_ncm("run"))
    assert scenario.query(database_url, "SELECT indexname FROM pg_indexes WHERE tablename = 't'") == [("ix_t_id",)]
