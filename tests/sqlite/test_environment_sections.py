"""``[environments.<name>]`` sections of ncm.toml and ``[tool.ncm.environments.<name>]`` of
pyproject.toml, selected by ``--environment`` or MIGRATION_ENVIRONMENT."""

import pytest

NCM_TOML = '''
migration_directory = "migrations"

[environments.production]
migration_directory = "production_migrations"

[environments.staging]
migration_directory = "staging_migrations"
'''


@pytest.fixture
def two_directories(project):
    """One migration in migrations/, another in production_migrations/: status says which is read."""
    (project / "production_migrations").mkdir()
    body = 'from alembic import op\n\ndef upgrade():\n    op.execute("CREATE TABLE t (id INTEGER)")\n'
    (project / "migrations" / "001_everywhere.py").write_text(body, encoding="utf-8")
    (project / "production_migrations" / "001_production_only.py").write_text(body, encoding="utf-8")
    return project


def test_the_environment_option_selects_its_section_over_the_top_level(ncm, two_directories):
    (two_directories / "ncm.toml").write_text(NCM_TOML, encoding="utf-8")
    assert "001_production_only" in ncm("--environment", "production", "status").stdout


def test_migration_environment_selects_its_section(ncm, two_directories):
    (two_directories / "ncm.toml").write_text(NCM_TOML, encoding="utf-8")
    assert "001_production_only" in ncm("status", env={"MIGRATION_ENVIRONMENT": "production"}).stdout


def test_the_top_level_applies_when_no_section_is_selected(ncm, two_directories):
    (two_directories / "ncm.toml").write_text(NCM_TOML, encoding="utf-8")
    assert "001_everywhere" in ncm("status").stdout
    assert "001_everywhere" in ncm("--environment", "testing", "status").stdout


def test_the_files_own_environment_selects_its_section(ncm, two_directories):
    (two_directories / "ncm.toml").write_text('environment = "production"\n' + NCM_TOML, encoding="utf-8")
    assert "001_production_only" in ncm("status").stdout


def test_an_environment_variable_outranks_the_environment_section(ncm, two_directories):
    (two_directories / "ncm.toml").write_text(NCM_TOML, encoding="utf-8")
    done = ncm("--environment", "production", "status", env={"MIGRATION_MIGRATION_DIRECTORY": "migrations"})
    assert "001_everywhere" in done.stdout


def test_pyproject_environment_section_is_read(ncm, two_directories):
    (two_directories / "pyproject.toml").write_text(
        '[tool.ncm]\nmigration_directory = "migrations"\n\n'
        '[tool.ncm.environments.production]\nmigration_directory = "production_migrations"\n', encoding="utf-8")
    assert "001_production_only" in ncm("--environment", "production", "status").stdout


def test_an_unknown_environment_section_is_one_error_naming_it(ncm, project):
    (project / "ncm.toml").write_text('[environments.prod]\nlock_timeout = 5\n', encoding="utf-8")
    done = ncm("status", check=2)
    assert done.stderr == ("error: config file ncm.toml: [environments.prod] is not an environment "
                           "(known: development, testing, staging, production)\n")


def test_an_environment_section_cannot_set_the_environment(ncm, project):
    (project / "ncm.toml").write_text('[environments.staging]\nenvironment = "production"\n', encoding="utf-8")
    assert "cannot set environment" in ncm("status", check=2).stderr


def test_a_misspelled_key_in_an_environment_section_is_an_error(ncm, project):
    (project / "ncm.toml").write_text('[environments.production]\nlock_timout = 5\n', encoding="utf-8")
    assert "lock_timout" in ncm("--environment", "production", "status", check=2).stderr
