"""Migration file formats as plugins: the Python format is registered like a third party's,
and a third party's format is asked for the files it claims."""

from pathlib import Path

import pytest

from ncm_core import hookimpl, plugins
from ncm_core.errors import MigrationFileError
from ncm_core.formats.interface import MigrationFormat
from ncm_core.migration import Migration, checksum, load_migrations, migration_files
from ncm_core.step import Step, StepForm


class TextFormat(MigrationFormat):
    """One statement per ``NNN_slug.txt`` file: enough to show what a format gives."""

    PLUGIN_NAME = "text"
    suffixes = (".txt",)
    naming = "001_slug.txt"

    def claims(self, path: Path) -> bool:
        return path.stem[:3].isdigit()

    def load(self, path, config):
        m = Migration(version=path.stem, path=path, checksum=checksum(path), description="from text")
        m.steps["up"] = Step(lambda: None, StepForm.SQL, False, (path.read_text().strip(),))
        return m


class TextPlugin:
    @hookimpl
    def ncm_register_migration_formats(self):
        return [TextFormat]


def test_the_python_format_is_registered_through_the_hook():
    assert plugins.collect("ncm_register_migration_formats")["python"].__module__ == "ncm_core.formats.python"


def test_a_third_party_format_loads_the_files_it_claims_beside_python_ones(tmp_path, register_plugin):
    register_plugin(TextPlugin(), name="text-format")
    (tmp_path / "001_a.py").write_text('"""A."""\ndef upgrade():\n    pass\n')
    (tmp_path / "002_b.txt").write_text("CREATE TABLE b (id int)\n")
    loaded = load_migrations(tmp_path)
    assert [(m.version, m.description) for m in loaded] == [("001_a", "A."), ("002_b", "from text")]
    assert loaded[1].step("up").statements == ("CREATE TABLE b (id int)",)


def test_a_file_with_a_formats_suffix_that_it_does_not_claim_is_an_error_naming_its_pattern(tmp_path, register_plugin):
    register_plugin(TextPlugin(), name="text-format")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(MigrationFileError, match=r"notes.txt: a migration file of this kind is named 001_slug.txt "
                                                 r"\(text\)"):
        migration_files(tmp_path)


def test_two_formats_claiming_one_file_is_an_error_naming_both(tmp_path, register_plugin):
    class Other(TextFormat):
        PLUGIN_NAME = "other-text"

    class OtherPlugin:
        @hookimpl
        def ncm_register_migration_formats(self):
            return [Other]

    register_plugin(TextPlugin(), name="text-format")
    register_plugin(OtherPlugin(), name="other-format")
    (tmp_path / "001_a.txt").write_text("SELECT 1")
    with pytest.raises(MigrationFileError, match="001_a.txt: is claimed by two migration formats, other-text and text"):
        migration_files(tmp_path)


def test_a_sql_step_is_refused_by_a_backend_that_awaits_python(tmp_path, register_plugin):
    register_plugin(TextPlugin(), name="text-format")
    (tmp_path / "001_a.txt").write_text("SELECT 1")
    [m] = load_migrations(tmp_path)
    with pytest.raises(MigrationFileError, match="001_a.txt: is a SQL migration, and this backend awaits: "
                                                 "this database takes only Python migrations"):
        m.require_async("up", "this backend awaits")
