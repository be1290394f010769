"""A third party's ncm plugin: a validator, an after-migration hook and a command."""

import json
import os

from ncm_core import hookimpl
from ncm_core.validators.interface import Problem, Validator


class RequireDescription(Validator):
    """Every migration says what it does in its docstring."""

    PLUGIN_NAME = "example-require-description"

    def check(self, migrations, history):
        for m in migrations:
            if m.description == m.version:
                yield Problem.warning(self, m.version, f"{m.path}: add a docstring saying what it does")


@hookimpl
def ncm_register_validators():
    return [RequireDescription]


@hookimpl
def ncm_after_migration(migration, direction, result):
    """Append one JSON line per step to $NCM_EXAMPLE_LOG (a stand-in for a metrics call)."""
    if path := os.environ.get("NCM_EXAMPLE_LOG"):
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"version": migration.version, "direction": direction,
                                  "duration_ms": result["duration_ms"]}) + "\n")


@hookimpl
def ncm_register_commands(app):
    """By import path, so the command's module loads only when it runs."""
    app.command("ncm_plugin_example_commands:example_steps", name="example-steps",
                help="Print the steps the after-migration hook logged to $NCM_EXAMPLE_LOG.")
