"""Settings that did nothing were removed; a project that still sets them keeps working."""


def test_ncm_toml_setting_docker_enabled_runs_with_one_deprecation_line(ncm, project):
    (project / "ncm.toml").write_text('docker_enabled = true\n', encoding="utf-8")
    done = ncm("status")
    assert done.stderr.count("\n") == 1
    assert "warning: docker_enabled is deprecated and does nothing" in done.stderr


def test_migration_docker_image_variable_runs_with_one_deprecation_line(ncm):
    done = ncm("status", env={"MIGRATION_DOCKER_IMAGE": "ncm-migration:latest"})
    assert done.stderr.count("\n") == 1
    assert "warning: MIGRATION_DOCKER_IMAGE is deprecated and does nothing" in done.stderr
