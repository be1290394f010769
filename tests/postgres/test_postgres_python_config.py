"""The spec's configuration file, Python as written there (only the import line changed), read by
``ncm --config migration_config.py`` against PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ncm_core.config import MigrationEnvironment, load_config
from ncm_core.settings import SettingDeprecated

SPEC_CONFIG_FILE = '''
# migration_config.py
from ncm_core import MigrationConfig, MigrationEnvironment

config = MigrationConfig(
    database_url="postgresql+asyncpg://user:password@localhost/database",
    database_type="postgresql",
    migration_directory="migrations",
    backup_before_migration=True,
    auto_rollback_on_failure=True,
    environment=MigrationEnvironment.PRODUCTION,
    docker_enabled=True
)
'''

USERS = '''
from alembic import op

def upgrade():
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
'''


def test_status_reads_the_specs_python_config_file(ncm, migrations_dir, database_url):
    (migrations_dir.parent / "migration_config.py").write_text(SPEC_CONFIG_FILE, encoding="utf-8")
    (migrations_dir / "001_users.py").write_text(USERS, encoding="utf-8")
    done = ncm(database_url, "--config", "migration_config.py", "status")
    assert done.returncode == 0, done.stderr
    assert "001_users" in done.stdout and "pending" in done.stdout
    assert done.stderr.startswith("warning: docker_enabled is deprecated") and done.stderr.count("\n") == 1


def test_the_python_config_files_url_is_used_and_its_password_never_shown(migrations_dir):
    (migrations_dir.parent / "migration_config.py").write_text(SPEC_CONFIG_FILE, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    done = subprocess.run([sys.executable, "-m", "ncm_core", "--config", "migration_config.py", "status"],
                          env=environ, cwd=migrations_dir.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "postgresql+asyncpg://user:***@localhost/database" in done.stderr
    assert "password" not in done.stderr


def test_the_environment_overrides_the_python_config_file_and_the_file_the_defaults(project, monkeypatch,
                                                                                    database_url):
    (project / "migration_config.py").write_text(SPEC_CONFIG_FILE, encoding="utf-8")
    monkeypatch.setenv("MIGRATION_DATABASE_URL", database_url)
    monkeypatch.setenv("MIGRATION_BACKUP_BEFORE_MIGRATION", "false")
    with pytest.warns(SettingDeprecated, match="docker_enabled"):
        config = load_config(Path("migration_config.py"))
    assert config.database_url == database_url and config.backup_before_migration is False
    assert config.environment is MigrationEnvironment.PRODUCTION and config.auto_rollback_on_failure is True
