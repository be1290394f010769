"""Every command's --json output, through the real `ncm` on SQLite, against the JSON Schema
docs/json.md documents for it; and every command has one there."""

import json

import pytest
from cyclopts import App
from jsonschema import Draft202012Validator
from json_schemas import documented_schemas, schema_errors

from ncm_core.cli import app
from ncm_core.plugins import plugin_manager

USERS = '''"""Add users table."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
'''
ONE_WAY = '''"""Add a one-way table."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE one_way (id INTEGER)")
'''
TABLES = '''"""Two tables."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE legacy (id INTEGER)")
    op.execute("CREATE TABLE other (id INTEGER)")
'''
DROPS = '''"""Drops a table."""
from alembic import op


def upgrade() -> None:
    op.drop_table("legacy")  # ncm: allow DS102 -- emptied in 0041
    op.execute("DROP TABLE other")
'''
BROKEN = '''"""Breaks."""
from alembic import op


def upgrade() -> None:
    op.execute("INSERT INTO nowhere VALUES (1)")


def downgrade() -> None:
    pass
'''


BACKFILL = '''"""Fills a column."""


async def upgrade(ctx):
    async for batch in ctx.backfill("users", key="id", size=10):
        await batch.execute("UPDATE users SET id = id WHERE id BETWEEN :lo AND :hi")
'''


def deferred(project, ncm):
    applied(project, ncm)
    written(project, ncm, "002_fill", BACKFILL)
    ncm("run", "--defer-backfills")


def applied(project, ncm, name="001_users", source=USERS):
    (project / "migrations" / f"{name}.py").write_text(source)
    ncm("run")


def written(project, ncm, name="001_users", source=USERS):
    (project / "migrations" / f"{name}.py").write_text(source)


def failed(project, ncm):
    written(project, ncm, "001_breaks", BROKEN)
    ncm("run", check=1)


def backed_up(project, ncm):
    applied(project, ncm)
    ncm("backup", "b1")


def nothing(project, ncm):
    pass


def two_applied(project, ncm):
    written(project, ncm, "002_orders", USERS.replace("users", "orders"))
    applied(project, ncm)


def failing_with_auto_rollback(project, ncm):
    (project / "ncm.toml").write_text("auto_rollback_on_failure = true\n")
    written(project, ncm)
    written(project, ncm, "002_breaks", BROKEN)


# (title in docs/json.md, what the project holds first, the command, its exit code, the field that must not be
# empty or zero)
CASES = {
    "init": ("ncm init", nothing, ["init"], 0, "files"),
    "create": ("ncm create", nothing, ["create", "Add users"], 0, None),
    "hash": ("ncm hash", written, ["hash"], 0, "files"),
    "run": ("ncm run", written, ["run"], 0, "results"),
    "run-dry-run": ("ncm run", written, ["run", "--dry-run"], 0, "results"),
    "run-failed": ("ncm run", lambda p, n: written(p, n, "001_breaks", BROKEN), ["run"], 1, "results"),
    "run-auto-rollback": ("ncm run", failing_with_auto_rollback, ["run"], 1, "results"),
    "rollback": ("ncm rollback", applied, ["rollback", "--steps", "1"], 0, "results"),
    "rollback-dry-run": ("ncm rollback", applied, ["rollback", "--steps", "1", "--dry-run"], 0, "results"),
    "rollback-only": ("ncm rollback", two_applied, ["rollback", "--only", "001_users"], 0, "stays_applied"),
    "current": ("ncm current", applied, ["current"], 0, "heads"),
    "backfill": ("ncm backfill", deferred, ["backfill"], 0, "results"),
    "status-deferred": ("ncm status", deferred, ["status"], 0, "migrations"),
    "status": ("ncm status", lambda p, n: (applied(p, n), written(p, n, "002_more")), ["status"], 0, "migrations"),
    "status-failed": ("ncm status", failed, ["status"], 0, "failed"),
    "validate": ("ncm validate", lambda p, n: written(p, n, "001_one_way", ONE_WAY), ["validate"], 0, "problems"),
    "lint": ("ncm lint", lambda p, n: (applied(p, n, "001_tables", TABLES), written(p, n, "002_drop", DROPS)),
             ["lint"], 3, "findings"),
    "validate-invalid": ("ncm validate", failed, ["validate"], 3, "problems"),
    "history": ("ncm history", applied, ["history"], 0, "records"),
    "history-audit": ("ncm history", applied, ["history", "--audit"], 0, "audit"),
    "baseline": ("ncm baseline", written, ["baseline", "--version", "001_users"], 0, "records"),
    "repair": ("ncm repair", failed, ["repair"], 0, "actions"),
    "backup": ("ncm backup", applied, ["backup", "b1"], 0, None),
    "backup-list": ("ncm backup", backed_up, ["backup", "list"], 0, "backups"),
    "restore": ("ncm restore", backed_up, ["restore", "b1", "--yes"], 0, None),
    "check": ("ncm check", nothing, ["check"], 0, None),
    "unlock": ("ncm unlock", nothing, ["unlock", "--yes"], 0, None),
    "wait": ("ncm wait", applied, ["wait", "--at-head", "--timeout", "5"], 0, None),
    "wait-timeout": ("ncm wait", written, ["wait", "--at-head", "--timeout", "0"], 3, None),
    "plugins": ("ncm plugins", nothing, ["plugins"], 0, "plugins"),
    "completion": ("ncm completion", nothing, ["completion", "bash"], 0, None),
    "completion-install": ("ncm completion", nothing, ["completion", "fish", "--install"], 0, None),
}


def test_every_documented_schema_is_a_valid_json_schema():
    schemas = documented_schemas()
    assert schemas
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


def test_every_command_has_a_documented_schema_and_a_case_here():
    fresh = App()  # what the plugins add, asked anew: the app may hold their commands already
    plugin_manager().hook.ncm_register_commands(app=fresh)
    from_plugins = set(fresh)
    commands = {f"ncm {name}" for name in app if not name.startswith("-") and name not in from_plugins}
    assert commands == set(documented_schemas()) - {"ncm --targets"}
    assert commands == {title for title, *_ in CASES.values()}


@pytest.mark.parametrize("case", CASES)
def test_json_output_matches_its_documented_schema(case, project, ncm):
    title, setup, args, code, nonempty = CASES[case]
    env = {"MIGRATION_AUDIT_ENABLED": "true", "HOME": str(project / "home")}
    setup(project, lambda *a, check=0: ncm(*a, env=env, check=check))
    output = json.loads(ncm(*args, "--json", env=env, check=code).stdout)
    assert schema_errors(title, output) == [], output
    assert output["schema_version"] == 1
    assert nonempty is None or output[nonempty], output
