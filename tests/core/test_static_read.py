"""Migration files read from their syntax tree: imported only when they run, with the same
metadata an import would give."""

from __future__ import annotations

import json
import sys

import pytest

from ncm_core.migration import load_migration



@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str):
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        return path

    return write


def test_a_plain_file_is_not_imported_to_learn_its_metadata(write):
    migration = load_migration(write("001_users", '"""Create users."""\ntype = "data"\n\n\ndef upgrade():\n    pass\n'))
    assert (migration.description, migration.type) == ("Create users.", "data")
    assert migration.deferred and migration.module is None


def test_a_plain_file_is_imported_when_its_step_is_called(write):
    migration = load_migration(write("001_users", "calls = []\n\n\ndef upgrade(ctx):\n    calls.append(ctx)\n"))
    migration.step("up").call_sync("ctx")
    assert not migration.deferred
    assert migration.module.calls == ["ctx"]


@pytest.mark.parametrize("text", [
    '"""Doc\n\n    more."""\ntype = "seed"\ndepends_on = ["000_a"]\ntransactional = False\n\n\n'
    "async def upgrade(ctx):\n    pass\n\n\ndef downgrade():\n    pass\n\n\nasync def validate(ctx):\n    return True\n",
    'from ncm_core import MigrationType\ntype = MigrationType.INDEX\ndepends_on: list[str] = []\n\n\n'
    "def upgrade(ctx):\n    pass\n",
    'revision = "abc123"\ndown_revision = ("r1", "r2")\nbranch_labels = "feature"\n\n\ndef upgrade():\n    pass\n',
], ids=["every-field", "enum-type", "alembic-revision"])
def test_static_metadata_is_what_the_import_gives(write, text):
    static = load_migration(write("001_a", text))
    imported = load_migration(write("001_b", f"{text}\nif True:\n    pass\n"))  # an `if`: imported
    assert static.deferred and not imported.deferred

    def shape(m):
        return {"version": m.version, "description": m.description.replace(m.version, "VERSION"), "type": m.type, "depends_on": m.depends_on,
                "transactional": m.transactional, "alembic": m.alembic, "aliases": m.aliases,
                "steps": {d: (s.form, s.takes_ctx) for d, s in m.steps.items()},
                "validation": m.validation and (m.validation.form, m.validation.takes_ctx)}

    assert shape(static) == {**shape(imported), "version": shape(static)["version"]}


@pytest.mark.parametrize("text", [
    'depends_on = ["001_" + "a"]\n\n\ndef upgrade():\n    pass\n',
    "migration.add_dependency('001_a')\n\n\ndef upgrade():\n    pass\n",
    "import functools\n\n\n@functools.cache\ndef upgrade():\n    pass\n",
    "from helpers import upgrade\n",
    "class Up:\n    pass\n\n\ndef upgrade():\n    pass\n",
], ids=["computed-depends-on", "add-dependency", "decorated-step", "imported-step", "class"])
def test_a_file_only_its_import_can_describe_is_imported(write, tmp_path, text):
    (tmp_path / "helpers.py").write_text("def upgrade():\n    pass\n")
    sys.path.insert(0, str(tmp_path))
    try:
        migration = load_migration(write("002_b", text))
    finally:
        sys.path.remove(str(tmp_path))
    assert not migration.deferred


def test_an_unknown_enum_member_is_the_import_error_it_always_was(write):
    path = write("001_a", "from ncm_core import MigrationType\ntype = MigrationType.NOPE\n\n\ndef upgrade():\n    pass\n")
    with pytest.raises(Exception, match=r"001_a.py:2: cannot be loaded: AttributeError"):
        load_migration(path)


def test_run_refuses_a_pending_file_that_cannot_be_imported_before_anything_runs(ncm, project):
    (project / "migrations" / "001_a.py").write_text('"""A."""\nfrom alembic import op\n\n\ndef upgrade():\n'
                                                      '    op.execute("CREATE TABLE a (id INTEGER)")\n')
    (project / "migrations" / "002_b.py").write_text('"""B."""\nimport no_such_module\n\n\ndef upgrade():\n    pass\n')
    done = ncm("run", check=None)
    assert done.returncode != 0
    assert "002_b.py:2: cannot be loaded: ModuleNotFoundError" in done.stderr
    states = {m["version"]: m["state"] for m in json.loads(ncm("status", "--json").stdout)["migrations"]}
    assert states == {"001_a": "pending", "002_b": "pending"}


def test_validate_imports_every_file(ncm, project):
    (project / "migrations" / "001_a.py").write_text('"""A."""\nimport no_such_module\n\n\ndef upgrade():\n    pass\n')
    done = ncm("validate", check=None)
    assert done.returncode != 0
    assert "001_a.py:2: cannot be loaded: ModuleNotFoundError" in done.stderr
