"""The third-party example plugin, installed from plugins/ncm-plugin-example, seen through the CLI."""

import json


def test_it_is_discovered_with_its_validator_and_hook(ncm):
    plugins = {p["name"]: p for p in json.loads(ncm("plugins", "--json").stdout)}
    assert plugins["example"]["distribution"] == "ncm-plugin-example"
    assert plugins["example"]["provides"] == {"validators": ["example-require-description"],
                                             "hooks": ["after_migration"]}


def test_its_validator_warns_about_a_migration_without_docstring(project, ncm):
    (project / "migrations" / "001_quiet.py").write_text("def upgrade():\n    pass\n")
    out = ncm("validate").stdout
    assert "[example-require-description]" in out and "001_quiet.py: add a docstring" in out


def test_its_after_migration_hook_runs_for_each_step(project, ncm):
    (project / "migrations" / "001_a.py").write_text('"""A."""\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n')
    log = project / "steps.jsonl"
    ncm("run", env={"NCM_EXAMPLE_LOG": str(log)})
    ncm("rollback", "--steps", "1", env={"NCM_EXAMPLE_LOG": str(log)})
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(s["version"], s["direction"]) for s in steps] == [("001_a", "up"), ("001_a", "down")]


def test_it_can_be_disabled(ncm):
    plugins = json.loads(ncm("plugins", "--json", env={"NCM_DISABLE_PLUGINS": "example"}).stdout)
    assert "example" not in {p["name"] for p in plugins}
