"""The rollback selectors through the real `ncm` on SQLite: the issue's 001/002/003 scenario."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import rollback_scenario as scenario

NCM = str(Path(sys.executable).with_name("ncm"))


@pytest.fixture
def sqlite_ncm(project, ncm):
    scenario.write_migrations(project / "migrations")
    return lambda *args: ncm(*args, check=None)


def test_version_reverts_every_later_migration(sqlite_ncm):
    scenario.version_reverts_every_later_migration(sqlite_ncm)


def test_version_prints_the_plan_newest_first(sqlite_ncm):
    scenario.version_prints_the_plan_newest_first(sqlite_ncm)


def test_only_lists_the_later_migrations_that_stay_applied(sqlite_ncm):
    scenario.only_lists_the_later_migrations_that_stay_applied(sqlite_ncm)


def test_to_keeps_the_version_and_reverts_what_follows(sqlite_ncm):
    scenario.to_keeps_the_version_and_reverts_what_follows(sqlite_ncm)


def test_all_reverts_everything(sqlite_ncm):
    scenario.all_reverts_everything(sqlite_ncm)


def test_dry_run_prints_the_down_sql_and_reverts_nothing(sqlite_ncm):
    scenario.dry_run_prints_the_down_sql_and_reverts_nothing(sqlite_ncm)


def test_steps_beyond_what_is_applied_is_bad_input(sqlite_ncm):
    scenario.steps_beyond_what_is_applied_is_bad_input(sqlite_ncm)


def test_production_without_a_terminal_needs_yes(sqlite_ncm):
    scenario.production_without_a_terminal_needs_yes(sqlite_ncm)


@pytest.mark.parametrize("args", [[], ["--version", "001", "--all"]])
def test_none_or_two_selectors_are_bad_input(sqlite_ncm, args):
    scenario.applied(sqlite_ncm)
    done = sqlite_ncm("rollback", *args)
    assert done.returncode == 2 and "rollback needs exactly one of" in done.stderr
    assert set(scenario.states(sqlite_ncm).values()) == {"applied"}


def test_a_version_that_is_not_applied_is_bad_input(sqlite_ncm):
    sqlite_ncm("run", "--target-version", "001")
    done = sqlite_ncm("rollback", "--version", "003")
    assert done.returncode == 2 and "003_custom_index is not applied" in done.stderr


def test_a_history_changed_under_the_plan_stops_the_rollback_with_exit_3(project, ncm):
    scenario.a_history_changed_under_the_plan_stops_the_rollback(
        lambda *args: ncm(*args, check=None), f"sqlite+aiosqlite:///{project}/app.db", project / "migrations")


def test_auto_rollback_says_reverted_as_rollback_does(project, ncm):
    scenario.auto_rollback_says_reverted_as_rollback_does(lambda *args: ncm(*args, check=None), project / "migrations")


def on_a_terminal(project, answer, *args):
    """``ncm`` with a terminal as stdin, ``answer`` typed into it."""
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    environ["MIGRATION_DATABASE_URL"] = f"sqlite+aiosqlite:///{project}/app.db"
    try:
        child = subprocess.Popen([NCM, *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, cwd=project, env=environ)
        os.write(master, answer.encode())
        out, err = child.communicate(timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    return child.returncode, out, err


@pytest.mark.parametrize("answer, code, left", [("y\n", 0, "pending"), ("n\n", 2, "applied")])
def test_production_on_a_terminal_asks_before_reverting(project, sqlite_ncm, answer, code, left):
    scenario.applied(sqlite_ncm)
    returncode, out, err = on_a_terminal(project, answer, "--environment", "production", "rollback", "--steps", "1")
    assert returncode == code, err
    assert "revert 1 migration(s) in production? [y/N]" in out
    assert scenario.states(sqlite_ncm)["003_custom_index"] == left
