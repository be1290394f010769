import pytest

from ncm_core.errors import MigrationFileError
from ncm_core.migration import checksum, load_migration, load_migrations


def test_checksum_ignores_line_endings_and_bom(tmp_path):
    unix, windows = tmp_path / "a.py", tmp_path / "b.py"
    unix.write_bytes(b"def upgrade():\n    pass\n")
    windows.write_bytes(b"\xef\xbb\xbfdef upgrade():\r\n    pass\r\n")
    assert checksum(unix) == checksum(windows)


def test_checksum_changes_with_content(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("def upgrade():\n    pass\n")
    before = checksum(path)
    path.write_text("def upgrade():\n    return None\n")
    assert checksum(path) != before


def test_function_form_metadata(write_migration):
    path = write_migration("20240101_120000_add_users", '''
        """Add users table.

        More words.
        """
        type = "seed"
        depends_on = "001_base"
        transactional = False

        def upgrade():
            pass
    ''')
    m = load_migration(path)
    assert (m.version, m.number, m.description, m.type, m.depends_on, m.transactional) == (
        "20240101_120000_add_users", "20240101_120000", "Add users table.", "seed", ["001_base"], False)
    assert not m.reversible


def test_class_form_metadata_and_add_dependency(write_migration):
    path = write_migration("002_index", '''
        from ncm_core import AbstractMigration, MigrationType

        migration.add_dependency("001_create_users_table")

        class AddIndex(AbstractMigration):
            """Index users by email."""
            type = MigrationType.INDEX

            async def up(self, session):
                pass

            async def down(self, session):
                pass
    ''')
    m = load_migration(path)
    assert (m.description, m.type, m.depends_on, m.reversible) == (
        "Index users by email.", "index", ["001_create_users_table"], True)


def test_a_file_name_that_is_not_a_version_is_an_error(write_migration):
    path = write_migration("add_users", "def upgrade():\n    pass\n")
    with pytest.raises(MigrationFileError, match="add_users.py: a migration file is named YYYYMMDD_HHMMSS_slug.py"):
        load_migration(path)


def test_a_syntax_error_names_file_and_line(write_migration):
    path = write_migration("001_broken", "def upgrade():\n    pass\n\ndef downgrade(:\n")
    with pytest.raises(MigrationFileError, match=r"001_broken.py:4: syntax error"):
        load_migration(path)


def test_an_import_error_names_file_and_line(write_migration):
    path = write_migration("001_broken", "import os\nimport no_such_module_here\n")
    with pytest.raises(MigrationFileError, match=r"001_broken.py:2: cannot be loaded: ModuleNotFoundError"):
        load_migration(path)


def test_a_file_without_upgrade_or_class_is_an_error(write_migration):
    path = write_migration("001_empty", '"""Nothing."""\n')
    with pytest.raises(MigrationFileError, match="neither upgrade\\(\\) nor an AbstractMigration class"):
        load_migration(path)


def test_private_files_are_not_migrations(migrations_dir, write_migration):
    write_migration("001_a", "def upgrade():\n    pass\n")
    (migrations_dir / "__init__.py").write_text("")
    (migrations_dir / "_helpers.py").write_text("x = 1\n")
    assert [m.version for m in load_migrations(migrations_dir)] == ["001_a"]


def test_a_missing_directory_is_an_error_naming_it(tmp_path):
    with pytest.raises(MigrationFileError, match=f"migration directory {tmp_path / 'nope'} does not exist"):
        load_migrations(tmp_path / "nope")
