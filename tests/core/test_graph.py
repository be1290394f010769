from pathlib import Path

import pytest

from ncm_core.errors import GraphError, UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import Migration


def m(version: str, *deps: str) -> Migration:
    return Migration(version=version, path=Path(f"migrations/{version}.py"), checksum="x", depends_on=list(deps))


def versions(graph: MigrationGraph) -> list[str]:
    return [x.version for x in graph.order]


def test_order_without_dependencies_is_by_version_numerically():
    assert versions(MigrationGraph([m("10_c"), m("2_b"), m("1_a")])) == ["1_a", "2_b", "10_c"]


def test_a_dependency_moves_a_migration_after_its_target():
    graph = MigrationGraph([m("001_a", "003_c"), m("002_b"), m("003_c")])
    assert versions(graph) == ["002_b", "003_c", "001_a"]


def test_order_is_the_same_whatever_the_input_order():
    items = [m("004_d", "001_a"), m("001_a"), m("003_c", "001_a"), m("002_b")]
    assert versions(MigrationGraph(items)) == versions(MigrationGraph(list(reversed(items))))


def test_a_dependency_may_name_only_the_number():
    assert MigrationGraph([m("001_a"), m("002_b", "001")]).deps["002_b"] == ["001_a"]


def test_a_cycle_is_named_with_its_members():
    with pytest.raises(GraphError, match="dependency cycle: ") as info:
        MigrationGraph([m("001_a", "002_b"), m("002_b", "003_c"), m("003_c", "001_a")])
    assert all(v in str(info.value) for v in ("001_a", "002_b", "003_c"))


def test_a_missing_dependency_names_the_file_and_the_version():
    with pytest.raises(GraphError, match=r"migrations/002_b.py: depends on 001_gone, which does not exist"):
        MigrationGraph([m("002_b", "001_gone")])


def test_two_files_with_one_version_number_are_a_duplicate():
    with pytest.raises(GraphError, match="duplicate version 001: migrations/001_a.py and migrations/001_b.py"):
        MigrationGraph([m("001_a"), m("001_b")])


def test_resolve_accepts_full_version_or_number_and_rejects_others():
    graph = MigrationGraph([m("20240101_120000_add_users")])
    assert graph.resolve("20240101_120000").version == graph.resolve("20240101_120000_add_users").version
    with pytest.raises(UsageError, match="no migration with version '999'"):
        graph.resolve("999")


def test_dependents_are_transitive():
    graph = MigrationGraph([m("001_a"), m("002_b", "001_a"), m("003_c", "002_b"), m("004_d")])
    assert graph.dependents("001_a") == {"002_b", "003_c"}
