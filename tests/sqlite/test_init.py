"""`ncm init` through the real `ncm`: a starter project that runs, and refusals that write nothing."""

from starter_project import init_validate_and_run, ncm_in


def test_init_then_run_applies_the_example_migration_on_sqlite(tmp_path):
    assert ncm_in(tmp_path, "init").returncode == 0
    assert "1 migration(s) applied" in ncm_in(tmp_path, "run").stdout
    assert "001_create_example" in ncm_in(tmp_path, "status").stdout
    assert (tmp_path / "app.db").is_file()


def test_init_writes_a_project_that_validates_in_production(tmp_path):
    init_validate_and_run(tmp_path, "sqlite", f"sqlite+aiosqlite:///{tmp_path}/other.db")


def test_init_refuses_when_ncm_toml_exists_and_writes_nothing(tmp_path):
    (tmp_path / "ncm.toml").write_text("# mine\n")
    done = ncm_in(tmp_path, "init")
    assert done.returncode == 2 and done.stderr == f"error: {tmp_path}/ncm.toml already exists: ncm init starts a " \
                                                   "new project and changed nothing\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ncm.toml"]
    assert (tmp_path / "ncm.toml").read_text() == "# mine\n"


def test_init_for_a_database_no_installed_plugin_handles_is_refused_and_writes_nothing(tmp_path):
    done = ncm_in(tmp_path, "init", "--database", "oracle")
    assert done.returncode == 7 and "no installed backend for oracle" in done.stderr
    assert list(tmp_path.iterdir()) == []
