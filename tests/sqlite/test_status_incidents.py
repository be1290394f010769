"""``ncm status`` and ``ncm current`` in an incident, through the real `ncm` on SQLite."""

import json

import pytest

import status_scenario as scenario


@pytest.fixture
def sqlite_ncm(ncm):
    return lambda *args: ncm(*args, check=None)


@pytest.fixture
def directory(project):
    return project / "migrations"


def test_status_shows_why_a_migration_failed_and_the_statement(sqlite_ncm, directory):
    scenario.status_shows_why_a_migration_failed_and_the_statement(sqlite_ncm, directory)


def test_status_counts_failed_apart_from_pending(sqlite_ncm, directory):
    scenario.status_counts_failed_apart_from_pending(sqlite_ncm, directory)


def test_exit_code_is_0_at_head(sqlite_ncm, directory):
    scenario.exit_code_is_0_at_head(sqlite_ncm, directory)


def test_exit_code_is_3_with_pending(sqlite_ncm, directory):
    scenario.exit_code_is_3_with_pending(sqlite_ncm, directory)


def test_exit_code_is_1_with_a_failed_migration(sqlite_ncm, directory):
    scenario.exit_code_is_1_with_a_failed_migration(sqlite_ncm, directory)


def test_current_prints_the_applied_head(sqlite_ncm, directory):
    scenario.current_prints_the_applied_head(sqlite_ncm, directory)


def test_current_prints_one_head_per_branch(sqlite_ncm, directory):
    scenario.current_prints_one_head_per_branch(sqlite_ncm, directory)


def test_current_prints_nothing_when_nothing_is_applied(sqlite_ncm, directory):
    scenario.write(directory, "001_users", scenario.TABLE.format(name="users"))
    done = sqlite_ncm("current", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["heads"] == []
    assert sqlite_ncm("current").stdout == ""
