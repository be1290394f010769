"""`ncm run --sql` / `ncm rollback --sql` on SQLite: scripts that sqlite3 applies as ncm would."""

from __future__ import annotations

import subprocess

import offline_scenario as scenario
import pytest


@pytest.fixture
def apply(project):
    def apply(script: str) -> None:
        subprocess.run(["sqlite3", str(project / "app.db")], input=script, text=True, check=True)

    return apply


@pytest.fixture
def sql_ncm(ncm):
    return lambda *args: ncm(*args, check=None)


def test_a_script_from_base_applied_with_sqlite3_leaves_the_database_at_head(sql_ncm, apply, project):
    scenario.check_script_from_base_leaves_the_database_at_head(sql_ncm, apply, project / "migrations")


def test_a_script_without_from_starts_where_the_history_is(sql_ncm, apply, project):
    scenario.check_script_without_from_starts_where_the_history_is(sql_ncm, apply, project / "migrations")


def test_a_rollback_script_applied_with_sqlite3_reverts_what_the_rollback_would(sql_ncm, apply, project):
    scenario.check_rollback_script_reverts_what_the_rollback_would(sql_ncm, apply, project / "migrations")


def test_a_script_from_a_version_opens_no_database(ncm, project):
    unreachable = {"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/no/such/dir/app.db"}
    scenario.check_script_from_a_version_needs_no_database(
        lambda *args: ncm(*args, env=unreachable, check=None), project / "migrations")
    assert not (project / "no").exists()


def test_the_script_stops_sqlite3_at_the_first_failing_statement(ncm, project, apply):
    scenario.write_migrations(project / "migrations")
    script = ncm("run", "--sql", "--from", "base").stdout
    assert script.startswith(".bail on\n")
    broken = script.replace("CREATE TABLE orders", "CREATE TABLE users", 1)
    with pytest.raises(subprocess.CalledProcessError):
        apply(broken)
    states = scenario.states(lambda *args: ncm(*args))
    assert states == {"001_add_users": "applied", "002_add_orders": "pending", "003_add_items": "pending"}


def test_a_step_that_takes_ctx_is_named_and_nothing_is_written(ncm, project):
    (project / "migrations" / "001_backfill.py").write_text(
        '"""Backfill."""\ntype = "data"\n\n\nasync def upgrade(ctx):\n    await ctx.execute("UPDATE users SET x = 1")\n')
    done = ncm("run", "--sql", "--from", "base", check=2)
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "001_backfill.py" in done.stderr and "ncm run" in done.stderr


def test_from_without_sql_is_bad_input(ncm, project):
    scenario.write_migrations(project / "migrations")
    done = ncm("run", "--from", "base", check=2)
    assert "--from goes with --sql" in done.stderr
    assert not (project / "app.db").exists()
