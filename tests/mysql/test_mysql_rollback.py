"""The rollback selectors through the real `ncm` on Mysql: the issue's 001/002/003 scenario."""

import pytest

import rollback_scenario as scenario


@pytest.fixture
def server_ncm(migrations_dir, database_url, ncm):
    scenario.write_migrations(migrations_dir)
    return lambda *args: ncm(database_url, *args)


def test_version_reverts_every_later_migration(server_ncm):
    scenario.version_reverts_every_later_migration(server_ncm)


def test_only_lists_the_later_migrations_that_stay_applied(server_ncm):
    scenario.only_lists_the_later_migrations_that_stay_applied(server_ncm)


def test_to_keeps_the_version_and_reverts_what_follows(server_ncm):
    scenario.to_keeps_the_version_and_reverts_what_follows(server_ncm)


def test_all_reverts_everything(server_ncm):
    scenario.all_reverts_everything(server_ncm)


def test_dry_run_prints_the_down_sql_and_reverts_nothing(server_ncm):
    scenario.dry_run_prints_the_down_sql_and_reverts_nothing(server_ncm)


def test_steps_beyond_what_is_applied_is_bad_input(server_ncm):
    scenario.steps_beyond_what_is_applied_is_bad_input(server_ncm)


def test_production_without_a_terminal_needs_yes(server_ncm):
    scenario.production_without_a_terminal_needs_yes(server_ncm)


def test_auto_rollback_says_reverted_as_rollback_does(database_url, migrations_dir, ncm):
    scenario.auto_rollback_says_reverted_as_rollback_does(lambda *args: ncm(database_url, *args), migrations_dir)
