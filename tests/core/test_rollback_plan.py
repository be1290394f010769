"""The rollback plan, as pure logic: which applied migrations each selector reverts, in which order."""

from pathlib import Path

import pytest

from ncm_core.errors import UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import Migration
from ncm_core.rollback import rollback_plan


def m(version: str, *deps: str) -> Migration:
    return Migration(version=version, path=Path(f"migrations/{version}.py"), checksum="x", depends_on=list(deps))


GRAPH = MigrationGraph([m("001_users"), m("002_seed"), m("003_index"), m("004_orders", "002_seed")])
ALL = ["001_users", "002_seed", "003_index", "004_orders"]


def plan(applied=ALL, **selectors) -> list[str]:
    return [x.version for x in rollback_plan(GRAPH, applied, **selectors)]


def test_version_reverts_it_and_every_later_applied_migration_newest_first():
    assert plan(version="002") == ["004_orders", "003_index", "002_seed"]


def test_version_of_the_first_migration_reverts_everything():
    assert plan(version="001_users") == list(reversed(ALL))


def test_version_skips_later_migrations_that_are_not_applied():
    assert plan(["001_users", "002_seed", "004_orders"], version="002") == ["004_orders", "002_seed"]


def test_only_reverts_it_and_its_declared_dependents():
    assert plan(only="002") == ["004_orders", "002_seed"]


def test_only_without_dependents_reverts_just_it():
    assert plan(only="001") == ["001_users"]


def test_to_reverts_everything_after_it_and_keeps_it():
    assert plan(to="002") == ["004_orders", "003_index"]


def test_to_the_newest_applied_migration_reverts_nothing():
    assert plan(to="004") == []


def test_all_reverts_every_applied_migration_newest_first():
    assert plan(["001_users", "002_seed"], all_=True) == ["002_seed", "001_users"]


def test_steps_reverts_the_last_n_applied():
    assert plan(steps=2) == ["004_orders", "003_index"]


def test_steps_equal_to_what_is_applied_reverts_everything():
    assert plan(steps=4) == list(reversed(ALL))


@pytest.mark.parametrize("steps", [0, -1, 5])
def test_steps_out_of_bounds_is_bad_input(steps):
    with pytest.raises(UsageError, match="--steps"):
        plan(steps=steps)


def test_no_selector_is_bad_input():
    with pytest.raises(UsageError, match="exactly one of"):
        plan()


def test_two_selectors_are_bad_input():
    with pytest.raises(UsageError, match="got --version and --steps"):
        plan(version="001", steps=1)


@pytest.mark.parametrize("selector", ["version", "only", "to"])
def test_a_version_that_is_not_applied_is_bad_input(selector):
    with pytest.raises(UsageError, match="003_index is not applied"):
        plan(["001_users", "002_seed"], **{selector: "003"})


def test_an_unknown_version_is_bad_input():
    with pytest.raises(UsageError, match="no migration with version '009'"):
        plan(version="009")
