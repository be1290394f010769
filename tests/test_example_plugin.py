"""The third-party example plugin, installed from plugins/ncm-plugin-example, seen through the CLI."""

import json
import subprocess
import sys


def test_it_is_discovered_with_its_validator_and_hook(ncm):
    plugins = {p["name"]: p for p in json.loads(ncm("plugins", "--json").stdout)["plugins"]}
    assert plugins["example"]["distribution"] == "ncm-plugin-example"
    assert plugins["example"]["provides"] == {"validators": ["example-require-description"],
                                             "hooks": ["after_migration"], "commands": ["example-steps"]}


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
    assert "example" not in {p["name"] for p in plugins["plugins"]} and plugins["disabled"] == ["example"]


def test_its_command_is_listed_in_the_help(ncm):
    assert "example-steps" in ncm("--help").stdout


def test_its_command_prints_the_logged_steps(project, ncm):
    (project / "migrations" / "001_a.py").write_text('"""A."""\ndef upgrade():\n    pass\n')
    log = project / "steps.jsonl"
    assert ncm("example-steps", env={"NCM_EXAMPLE_LOG": str(log)}).stdout.strip() == "no steps logged"
    ncm("run", env={"NCM_EXAMPLE_LOG": str(log)})
    (line,) = ncm("example-steps", env={"NCM_EXAMPLE_LOG": str(log)}).stdout.splitlines()
    assert json.loads(line)["version"] == "001_a"


def test_the_help_does_not_import_its_command_module():
    code = ("import sys; from ncm_core.cli import run_cli; run_cli(['--help']); "
            "print('ncm_plugin_example_commands' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "example-steps" in done.stdout
    assert done.stderr.strip() == "False"
