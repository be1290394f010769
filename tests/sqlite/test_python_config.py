"""``ncm --config FILE.py``: a Python configuration file holding ``config = MigrationConfig(...)``."""

import pytest

CONFIG = '''
from ncm_core import MigrationConfig

config = MigrationConfig(migration_directory="db/migrations", lock_timeout=5)
'''


def test_a_python_config_files_settings_are_used_by_the_cli(ncm, project):
    (project / "settings.py").write_text(CONFIG, encoding="utf-8")
    (project / "db" / "migrations").mkdir(parents=True)
    (project / "db" / "migrations" / "001_users.py").write_text(
        'from alembic import op\n\ndef upgrade():\n    op.execute("CREATE TABLE users (id INTEGER)")\n', encoding="utf-8")
    assert "001_users" in ncm("--config", "settings.py", "status").stdout
    ncm("--config", "settings.py", "run")
    assert "applied" in ncm("--config", "settings.py", "status").stdout


def test_a_python_config_file_leaves_ncm_toml_unread(ncm, project):
    (project / "settings.py").write_text(CONFIG, encoding="utf-8")
    (project / "db" / "migrations").mkdir(parents=True)
    (project / "ncm.toml").write_text('migration_directory = "elsewhere"\n', encoding="utf-8")
    ncm("--config", "settings.py", "status")


@pytest.mark.parametrize(("source", "message"), [
    ("settings = 1\n", "config file bad.py defines no `config`: write config = MigrationConfig(...)"),
    ("config = {'database_url': 'sqlite+aiosqlite:///x.db'}\n",
     "config file bad.py: `config` is a dict, not a MigrationConfig"),
    ("import os\n\nraise RuntimeError('no secrets here')\n",
     "config file bad.py:3 raised RuntimeError: no secrets here"),
    ("config = (\n", "config file bad.py: invalid Python at line 1: '(' was never closed"),
    ("from ncm_core import MigrationConfig\nconfig = MigrationConfig(lock_timeout=-1)\n",
     "config file bad.py: invalid configuration: lock_timeout: Value error, must be a positive"),
], ids=["no-config", "not-a-MigrationConfig", "raises", "syntax-error", "invalid-value"])
def test_a_bad_python_config_file_is_one_line_naming_it(ncm, project, source, message):
    (project / "bad.py").write_text(source, encoding="utf-8")
    done = ncm("--config", "bad.py", "status", check=2)
    assert done.stderr.startswith(f"error: {message}") and done.stderr.count("\n") == 1
    assert not (project / "app.db").exists()


def test_a_python_config_file_raising_with_a_url_has_its_password_masked(ncm, project):
    (project / "bad.py").write_text("raise ValueError('cannot reach postgresql://app:hunter22@db/x')\n",
                                    encoding="utf-8")
    done = ncm("--config", "bad.py", "status", check=2)
    assert "hunter22" not in done.stderr and "app:***@db" in done.stderr
