import os
import subprocess
import sys
import warnings

import pytest
from pydantic import SecretStr

from ncm_core import hookimpl
from ncm_core.config import MigrationConfig, MigrationEnvironment, load_config
from ncm_core.errors import ConfigError, PluginError
from ncm_core.settings import PluginSettings, SettingDeprecated

SPEC_VARIABLES = {
    "MIGRATION_DATABASE_URL": ("database_url", "postgresql+asyncpg://user:password@localhost/database"),
    "MIGRATION_DATABASE_TYPE": ("database_type", "postgresql"),
    "MIGRATION_MIGRATION_DIRECTORY": ("migration_directory", "db/migrations"),
    "MIGRATION_BACKUP_BEFORE_MIGRATION": ("backup_before_migration", "true"),
    "MIGRATION_AUTO_ROLLBACK_ON_FAILURE": ("auto_rollback_on_failure", "true"),
    "MIGRATION_ENCRYPTION_KEY": ("encryption_key", "your_encryption_key"),
    "MIGRATION_AUDIT_ENABLED": ("audit_enabled", "true"),
    "MIGRATION_ENVIRONMENT": ("environment", "production"),
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in [*SPEC_VARIABLES, "MIGRATION_DOCKER_ENABLED", "MIGRATION_DOCKER_IMAGE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_spec_variable_is_read(monkeypatch):
    for name, (_, value) in SPEC_VARIABLES.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    assert str(config.migration_directory) == "db/migrations"
    assert config.backup_before_migration and config.auto_rollback_on_failure and config.audit_enabled
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


# -- plugins' sections, through a real pluggy plugin --------------------------------
class DuckSettings(PluginSettings):
    PLUGIN_NAME = "duck"
    DEPRECATED = {"duck_memory": "memory", "memory_limit": "memory"}

    memory: str = "1GB"
    threads: int = 4
    token: SecretStr | None = None


class DuckPlugin:
    @hookimpl
    def ncm_register_settings(self):
        return [DuckSettings]


@pytest.fixture
def duck(register_plugin, monkeypatch):
    for name in ("MIGRATION_DUCK_MEMORY", "MIGRATION_DUCK_THREADS", "MIGRATION_DUCK_TOKEN", "MIGRATION_MEMORY_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    register_plugin(DuckPlugin(), name="duck")


def test_a_section_is_read_from_ncm_toml(duck, tmp_path):
    (tmp_path / "ncm.toml").write_text('[duck]\nmemory = "2GB"\n')
    assert load_config().section("duck") == DuckSettings(memory="2GB")


def test_a_section_is_read_from_pyproject_tool_ncm(duck, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.ncm.duck]\nthreads = 8\n')
    assert load_config().section("duck").threads == 8


def test_a_section_is_read_from_the_environment(duck, monkeypatch):
    monkeypatch.setenv("MIGRATION_DUCK_THREADS", "16")
    assert MigrationConfig().section("duck").threads == 16


def test_a_section_is_read_from_keyword_arguments(duck):
    assert MigrationConfig(duck={"memory": "3GB"}).section("duck").memory == "3GB"


def test_a_section_s_keys_follow_the_core_s_precedence(duck, monkeypatch, tmp_path):
    (tmp_path / "ncm.toml").write_text('[duck]\nmemory = "file"\nthreads = 1\ntoken = "from-file"\n')
    monkeypatch.setenv("MIGRATION_DUCK_MEMORY", "env")
    monkeypatch.setenv("MIGRATION_DUCK_THREADS", "2")
    section = load_config(duck={"threads": 3}).section("duck")
    assert (section.memory, section.threads, section.token.get_secret_value()) == ("env", 3, "from-file")


def test_a_section_nothing_sets_has_the_model_s_defaults(duck):
    assert MigrationConfig().section("duck") == DuckSettings()


def test_an_unknown_key_in_a_section_is_one_line_naming_section_key_and_known_keys(duck, tmp_path):
    (tmp_path / "ncm.toml").write_text('[duck]\nmemroy = "2GB"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(info.value) == ("invalid configuration: unknown key 'memroy' in section [duck] "
                               "(known: memory, threads, token)")


def test_a_bad_value_in_a_section_is_one_line_naming_the_key(duck, monkeypatch):
    monkeypatch.setenv("MIGRATION_DUCK_THREADS", "many")
    with pytest.raises(ConfigError, match=r"^invalid configuration: duck\.threads 'many': ") as info:
        load_config()
    assert "\n" not in str(info.value)


def test_a_section_no_installed_plugin_declares_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "ncm.toml").write_text('lock_timeout = 5\n\n[cockroach]\nregion = "eu"\n')
    with pytest.warns(UserWarning, match=r"no installed plugin reads the section \[cockroach\]"):
        config = load_config()
    assert config.lock_timeout == 5


def test_a_section_s_secrets_are_masked(duck):
    config = MigrationConfig(duck={"token": "quack-s3cret"})
    for text in (repr(config), config.mask("the server said: bad token quack-s3cret")):
        assert "quack-s3cret" not in text


def test_a_deprecated_name_reaches_its_section_with_a_warning_naming_the_new_spelling(duck):
    with pytest.warns(SettingDeprecated, match=r"duck_memory is deprecated: set memory in \[duck\] "
                                                r"\(MIGRATION_DUCK_MEMORY\)"):
        config = MigrationConfig(duck_memory="5GB")
    assert config.section("duck").memory == "5GB"


def test_a_deprecated_name_is_read_from_ncm_toml(duck, tmp_path):
    (tmp_path / "ncm.toml").write_text('memory_limit = "6GB"\n')
    with pytest.warns(SettingDeprecated, match="memory_limit is deprecated"):
        assert load_config().section("duck").memory == "6GB"


def test_a_deprecated_environment_variable_is_read(duck, monkeypatch):
    monkeypatch.setenv("MIGRATION_MEMORY_LIMIT", "7GB")
    with pytest.warns(SettingDeprecated, match="memory_limit is deprecated"):
        assert load_config().section("duck").memory == "7GB"


def test_a_variable_spelled_alike_under_both_names_is_not_deprecated(duck, monkeypatch):
    monkeypatch.setenv("MIGRATION_DUCK_MEMORY", "8GB")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_config().section("duck").memory == "8GB"


def test_the_new_spelling_wins_over_the_deprecated_one(duck):
    with pytest.warns(SettingDeprecated):
        config = MigrationConfig(duck={"memory": "new"}, memory_limit="old")
    assert config.section("duck").memory == "new"


def test_a_bad_value_under_a_deprecated_name_is_reported_under_that_name(duck):
    with pytest.warns(SettingDeprecated), pytest.raises(ConfigError, match=r"^invalid configuration: memory_limit: "):
        MigrationConfig(memory_limit=["not", "a", "string"])


def test_two_plugins_declaring_one_section_is_an_error_naming_both(duck, register_plugin):
    class Other(PluginSettings):
        PLUGIN_NAME = "duck"

    class OtherPlugin:
        @hookimpl
        def ncm_register_settings(self):
            return [Other]

    register_plugin(OtherPlugin(), name="other-duck")
    with pytest.raises(PluginError, match="'duck' is claimed by both plugin 'duck' and plugin 'other-duck'"):
        MigrationConfig(duck={"memory": "2GB"})


def test_a_configuration_without_sections_loads_no_plugin(tmp_path):
    code = ("import sys; from ncm_core.config import load_config; load_config();"
            "print('ncm_core.plugins' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")})
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_a_lock_timeout_that_is_not_a_positive_finite_number_is_rejected(monkeypatch, value):
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", value)
    with pytest.raises(ConfigError, match="lock_timeout: .*positive, finite number of seconds"):
        load_config()


def test_a_negative_backup_retention_is_rejected():
    with pytest.raises(ConfigError, match="backup_retention: .*0 \\(keep every backup\\) or more"):
        load_config(backup_retention=-1)


def test_the_removed_docker_settings_are_accepted_with_a_deprecation_warning():
    with pytest.warns(SettingDeprecated) as caught:
        config = MigrationConfig(docker_enabled=True, docker_image="ncm-migration:1.2")
    assert sorted(str(w.message).split(" is ")[0] for w in caught) == ["docker_enabled", "docker_image"]
    assert not hasattr(config, "docker_enabled") and "docker" not in repr(config)


def test_the_removed_docker_variables_are_accepted_with_a_deprecation_warning(monkeypatch):
    monkeypatch.setenv("MIGRATION_DOCKER_IMAGE", "ncm-migration:1.2")
    with pytest.warns(SettingDeprecated, match="MIGRATION_DOCKER_IMAGE is deprecated and does nothing"):
        load_config()


def test_an_environment_section_merges_a_plugin_section_key_by_key(tmp_path):
    (tmp_path / "ncm.toml").write_text('[mysql]\ncharset = "latin1"\nengine = "MyISAM"\n\n'
                                       '[environments.production.mysql]\nengine = "InnoDB"\n', encoding="utf-8")
    config = load_config(database_url="mysql+aiomysql://u@h/db", environment="production")
    assert (config.section("mysql").charset, config.section("mysql").engine) == ("latin1", "InnoDB")
