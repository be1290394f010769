"""SQL-file migrations (dbmate, goose, Flyway) on SQLite, through the real ncm command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sql_files_scenario as scenario

BLOCK = """CREATE TRIGGER posts_title AFTER INSERT ON posts BEGIN
  UPDATE posts SET title = 'untitled' WHERE id = NEW.id AND title IS NULL;
END;"""
ATOMIC = True


@pytest.fixture
def database_url(url):
    return url


@pytest.fixture
def sql_ncm(migrations_dir, database_url):
    def run(*args):
        environ = {**os.environ, "MIGRATION_DATABASE_URL": database_url,
                   "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir)}
        return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environ, cwd=migrations_dir.parent,
                              capture_output=True, text=True, timeout=120)

    return run


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


def test_a_trigger_body_is_one_statement(sql_ncm, migrations_dir, database_url):
    (migrations_dir / "001_trigger.sql").write_text("-- migrate:up\nCREATE TABLE posts (id integer, title text);\n"
                                                    + BLOCK + "\nINSERT INTO posts (id) VALUES (1);\n")
    scenario.ok(sql_ncm("run"))
    assert scenario.query(database_url, "SELECT title FROM posts") == [("untitled",)]


def test_create_format_sql_writes_a_sql_file_from_the_types_template(sql_ncm, migrations_dir):
    out = scenario.ok(sql_ncm("create", "--format", "sql", "--type", "index", "Add users email index")).stdout
    [path] = migrations_dir.glob("*_add_users_email_index.sql")
    assert out.strip() == f"created {path}"
    text = path.read_text()
    assert text.startswith("-- Add users email index\n") and "-- ncm: type=index" in text
    assert "-- migrate:up" in text and "-- migrate:down" in text
    listed = scenario.states(sql_ncm)
    assert listed == {path.stem: "pending"}


def test_a_created_sql_file_is_sealed_in_ncm_sum_and_its_edit_is_flagged(sql_ncm, migrations_dir):
    scenario.ok(sql_ncm("create", "--format", "sql", "add users"))
    [path] = migrations_dir.glob("*.sql")
    assert path.name in (migrations_dir / "ncm.sum").read_text()
    path.write_text(path.read_text() + "CREATE TABLE edited (id integer);\n")
    done = scenario.ok(sql_ncm("validate"))
    assert f"warning [sum-file] {path}: changed since ncm.sum was written" in done.stdout


def test_create_refuses_a_format_it_does_not_write(sql_ncm, migrations_dir):
    done = sql_ncm("create", "--format", "flyway", "x")
    assert done.returncode == 2
    assert done.stderr == "error: ncm create cannot write a 'flyway' migration (formats it writes: python, sql)\n"
    assert list(migrations_dir.iterdir()) == []
