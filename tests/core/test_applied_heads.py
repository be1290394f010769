"""``MigrationGraph.applied_heads``: what ``ncm current`` prints, as pure logic."""

from pathlib import Path

from ncm_core.graph import MigrationGraph
from ncm_core.migration import Migration


def m(version: str, *deps: str) -> Migration:
    return Migration(version=version, path=Path(f"migrations/{version}.py"), checksum="x", depends_on=list(deps))


def test_without_depends_on_the_head_is_the_last_applied_in_the_order():
    graph = MigrationGraph([m("001_a"), m("002_b"), m("003_c")])
    assert graph.applied_heads({"001_a", "002_b"}) == ["002_b"]


def test_two_branches_have_a_head_each():
    graph = MigrationGraph([m("001_a"), m("002_b", "001_a"), m("003_c", "001_a")])
    assert graph.applied_heads({"001_a", "002_b", "003_c"}) == ["002_b", "003_c"]


def test_a_merge_is_the_one_head():
    graph = MigrationGraph([m("001_a"), m("002_b", "001_a"), m("003_c", "001_a"), m("004_d", "002_b", "003_c")])
    assert graph.applied_heads({"001_a", "002_b", "003_c", "004_d"}) == ["004_d"]


def test_nothing_applied_has_no_head():
    assert MigrationGraph([m("001_a")]).applied_heads(set()) == []


def test_a_history_version_with_no_file_is_ignored():
    assert MigrationGraph([m("001_a")]).applied_heads({"001_a", "009_gone"}) == ["001_a"]
