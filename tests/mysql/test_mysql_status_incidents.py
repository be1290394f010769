"""`ncm status` and `ncm current` in an incident, through the real `ncm` on Mysql."""

import pytest

import status_scenario as scenario


@pytest.fixture
def server_ncm(database_url, ncm):
    return lambda *args: ncm(database_url, *args)


def test_status_shows_why_a_migration_failed_and_the_statement(server_ncm, migrations_dir):
    scenario.status_shows_why_a_migration_failed_and_the_statement(server_ncm, migrations_dir)


def test_status_counts_failed_apart_from_pending(server_ncm, migrations_dir):
    scenario.status_counts_failed_apart_from_pending(server_ncm, migrations_dir)


def test_exit_code_is_0_at_head(server_ncm, migrations_dir):
    scenario.exit_code_is_0_at_head(server_ncm, migrations_dir)


def test_exit_code_is_3_with_pending(server_ncm, migrations_dir):
    scenario.exit_code_is_3_with_pending(server_ncm, migrations_dir)


def test_exit_code_is_1_with_a_failed_migration(server_ncm, migrations_dir):
    scenario.exit_code_is_1_with_a_failed_migration(server_ncm, migrations_dir)


def test_current_prints_one_head_per_branch(server_ncm, migrations_dir):
    scenario.current_prints_one_head_per_branch(server_ncm, migrations_dir)
