"""``ncm validate`` imports every migration file to find one that cannot be imported, but not
again a file that imported last time, while neither it nor any module it used has changed
(ncm_core.import_cache). The real console script; each file notes it was imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NCM = str(Path(sys.executable).with_name("ncm"))

MIGRATION = '''"""{version}."""
import noted_{version}


def upgrade():
    pass
'''
NOTING = '''import os

with open(os.environ["NCM_TEST_IMPORTS"], "a") as noted:
    noted.write("{version}\\n")
'''
"""The module each migration imports (a file read statically is imported only when needed):
importing it notes the migration's version."""


class Validate:
    """``ncm validate`` in the project, bytecode written as on a user's machine; a call returns
    the files it imported."""

    def __init__(self, project: Path, lib: Path, imports: Path) -> None:
        self.project, self.imports, self.stderr = project, imports, ""
        self.environ = {k: v for k, v in os.environ.items()
                        if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("MIGRATION_")}
        self.environ.update(NCM_TEST_IMPORTS=str(imports), PYTHONPATH=str(lib),
                            MIGRATION_DATABASE_URL=f"sqlite+aiosqlite:///{project}/app.db")

    def __call__(self, check: int = 0, **more: str) -> list[str]:
        self.imports.write_text("")
        done = subprocess.run([NCM, "validate"], capture_output=True, text=True, cwd=self.project,
                              env={**self.environ, **more}, timeout=120)
        assert done.returncode == check, done.stderr
        self.stderr = done.stderr
        return self.imports.read_text().split()


@pytest.fixture
def validate(project, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    for version in ("001_users", "002_orders"):
        (project / "migrations" / f"{version}.py").write_text(MIGRATION.format(version=version))
        (lib / f"noted_{version}.py").write_text(NOTING.format(version=version))
    return Validate(project, lib, tmp_path / "imports.log")


def test_the_first_validate_imports_every_file(validate):
    assert validate() == ["001_users", "002_orders"]


def test_a_second_validate_imports_none_that_imported_unchanged(validate):
    validate()
    assert validate() == []


def test_an_edited_file_is_imported_again_alone(validate, project):
    validate()
    path = project / "migrations" / "002_orders.py"
    path.write_text(path.read_text() + "\n# edited\n")
    assert validate() == ["002_orders"]


def test_an_edit_that_breaks_the_import_is_found(validate, project):
    validate()
    path = project / "migrations" / "002_orders.py"
    path.write_text(path.read_text().replace("noted_002_orders", "noted_nowhere"))
    validate(check=2)
    assert "002_orders.py:2: cannot be loaded: ModuleNotFoundError: No module named 'noted_nowhere'" in validate.stderr


def test_a_changed_module_the_files_import_has_every_file_imported_again(validate, tmp_path):
    validate()
    helper = tmp_path / "lib" / "noted_001_users.py"
    helper.write_text(helper.read_text() + "VALUE = 2\n")
    assert validate() == ["001_users", "002_orders"]


def test_a_module_made_to_fail_fails_validate_again(validate, tmp_path):
    validate()
    (tmp_path / "lib" / "noted_002_orders.py").write_text("raise ImportError('gone')\n")
    validate(check=2)
    assert "002_orders.py:2: cannot be loaded: ImportError: gone" in validate.stderr


def test_a_file_that_failed_is_imported_again_next_time(validate, project):
    path = project / "migrations" / "002_orders.py"
    good = path.read_text()
    path.write_text(good + "\nimport os.nowhere\n")
    validate(check=2)
    path.write_text(good)
    assert validate() == ["001_users", "002_orders"]


def test_another_search_path_has_every_file_imported_again(validate, tmp_path):
    validate()
    other = tmp_path / "other"
    other.mkdir()
    assert validate(PYTHONPATH=f"{tmp_path / 'lib'}{os.pathsep}{other}") == ["001_users", "002_orders"]


def test_nothing_is_kept_under_pythondontwritebytecode(validate, project):
    validate(PYTHONDONTWRITEBYTECODE="1")
    assert not list((project / "migrations").glob("__pycache__/ncm-imports.*"))
    assert validate() == ["001_users", "002_orders"]


def test_a_module_installed_where_python_looks_has_every_file_imported_again(validate, tmp_path):
    validate()
    (tmp_path / "lib" / "newly_installed.py").write_text("")
    assert validate() == ["001_users", "002_orders"]
