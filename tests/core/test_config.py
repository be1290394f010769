import pytest

from ncm_core.config import MigrationConfig, MigrationEnvironment, load_config
from ncm_core.errors import ConfigError

SPEC_VARIABLES = {
    "MIGRATION_DATABASE_URL": ("database_url", "postgresql+asyncpg://user:password@localhost/database"),
    "MIGRATION_DATABASE_TYPE": ("database_type", "postgresql"),
    "MIGRATION_MIGRATION_DIRECTORY": ("migration_directory", "db/migrations"),
    "MIGRATION_BACKUP_BEFORE_MIGRATION": ("backup_before_migration", "true"),
    "MIGRATION_AUTO_ROLLBACK_ON_FAILURE": ("auto_rollback_on_failure", "true"),
    "MIGRATION_DOCKER_ENABLED": ("docker_enabled", "true"),
    "MIGRATION_DOCKER_IMAGE": ("docker_image", "ncm-migration:1.2"),
    "MIGRATION_ENCRYPTION_KEY": ("encryption_key", "your_encryption_key"),
    "MIGRATION_AUDIT_ENABLED": ("audit_enabled", "true"),
    "MIGRATION_ENVIRONMENT": ("environment", "production"),
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SPEC_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_spec_variable_is_read(monkeypatch):
    for name, (_, value) in SPEC_VARIABLES.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    assert str(config.migration_directory) == "db/migrations"
    assert config.backup_before_migration and config.auto_rollback_on_failure and config.audit_enabled
    assert config.docker_enabled and config.docker_image == "ncm-migration:1.2"
    assert config.encryption_key.get_secret_value() == "your_encryption_key"
    assert config.environment is MigrationEnvironment.PRODUCTION


def test_defaults_are_the_embedded_sqlite_database():
    config = load_config()
    assert config.database_url == "sqlite+aiosqlite:///ncm.db" and config.database_type == "sqlite"


def test_database_type_is_inferred_from_the_url():
    assert MigrationConfig(database_url="mysql+aiomysql://u:p@h/db").database_type == "mysql"
    assert MigrationConfig(database_url="mongodb+srv://u:p@cluster/db").database_type == "mongodb"


def test_database_type_that_contradicts_the_url_is_an_error():
    with pytest.raises(ConfigError, match="database_type 'mysql' does not match the URL's 'postgresql'"):
        load_config(database_url="postgresql://u@h/db", database_type="mysql")


def test_flags_beat_environment_beat_file(monkeypatch, tmp_path):
    (tmp_path / "ncm.toml").write_text('migration_directory = "from_file"\nlock_timeout = 5\naudit_enabled = true\n')
    monkeypatch.setenv("MIGRATION_MIGRATION_DIRECTORY", "from_env")
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "7")
    config = load_config(lock_timeout=9)
    assert (str(config.migration_directory), config.lock_timeout, config.audit_enabled) == ("from_env", 9, True)


def test_pyproject_tool_ncm_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.ncm]\nbackup_directory = "snapshots"\n')
    assert str(load_config().backup_directory) == "snapshots"


def test_explicit_config_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_unknown_key_in_file_names_the_key(tmp_path):
    (tmp_path / "ncm.toml").write_text('lock_timout = 5\n')
    with pytest.raises(ConfigError, match="lock_timout"):
        load_config()


def test_bad_value_is_one_line_naming_the_field(monkeypatch):
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="^invalid configuration: lock_timeout: ") as info:
        load_config()
    assert "\n" not in str(info.value)


def test_secrets_never_appear_in_repr_or_str():
    config = MigrationConfig(database_url="postgresql://admin:hunter2@db/app", encryption_key="k3y-material")
    for text in (repr(config), str(config), config.safe_url, config.mask("failed for admin:hunter2 with k3y-material")):
        assert "hunter2" not in text and "k3y-material" not in text
