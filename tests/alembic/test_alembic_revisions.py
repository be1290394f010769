"""How an Alembic revision file becomes an ncm migration: identity, dependencies, names."""

from __future__ import annotations

import pytest

from ncm_core.errors import GraphError, MigrationFileError, UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import load_migration, load_migrations


def revision(rev: str, down: object = None, labels: object = None, message: str = "a change") -> str:
    return f'''"""{message}

Revision ID: {rev}
"""
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
    pass
'''


def test_an_alembic_revision_is_loaded_whatever_its_file_name(write_migration):
    path = write_migration("ae1027a6acf_add_a_column", revision("ae1027a6acf", "1975ea83b712", message="add a column"))
    migration = load_migration(path)
    assert (migration.version, migration.number, migration.depends_on, migration.description) == (
        "ae1027a6acf", "ae1027a6acf", ["1975ea83b712"], "add a column")


def test_numeric_revision_ids_are_versions_of_their_own(write_migration):
    write_migration("0001_initial", revision("0001"))
    write_migration("0001_extra", revision("0001_extra", "0001"))
    graph = MigrationGraph(load_migrations(write_migration("0002", revision("0002", "0001_extra")).parent))
    assert [m.version for m in graph.order] == ["0001", "0001_extra", "0002"]


def test_a_down_revision_that_is_not_a_string_or_tuple_is_a_file_error(write_migration):
    path = write_migration("abc123_bad", revision("abc123", 42))
    with pytest.raises(MigrationFileError, match="abc123_bad.py: down_revision must be a string, a tuple of strings or None"):
        load_migration(path)


def test_a_branch_label_used_twice_is_a_graph_error(write_migration):
    write_migration("aaa111_one", revision("aaa111", labels=("billing",)))
    directory = write_migration("bbb222_two", revision("bbb222", labels="billing")).parent
    with pytest.raises(GraphError, match="branch label 'billing' of .*bbb222_two.py is already the name of .*aaa111_one.py"):
        MigrationGraph(load_migrations(directory))


def test_alembic_depends_on_may_name_a_branch_label(write_migration):
    write_migration("aaa111_one", revision("aaa111", labels=("billing",)))
    source = revision("bbb222").replace("depends_on = None", 'depends_on = "billing"')
    graph = MigrationGraph(load_migrations(write_migration("bbb222_two", source).parent))
    assert graph.deps["bbb222"] == ["aaa111"]


def test_label_at_head_of_a_branch_with_two_heads_is_ambiguous(write_migration):
    write_migration("aaa111_root", revision("aaa111", labels=("core",)))
    write_migration("bbb222_left", revision("bbb222", "aaa111"))
    graph = MigrationGraph(load_migrations(write_migration("ccc333_right", revision("ccc333", "aaa111")).parent))
    with pytest.raises(UsageError, match=r"core@head is ambiguous: the branch has 2 heads \(bbb222, ccc333\)"):
        graph.resolve("core@head")
