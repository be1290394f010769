"""``ncm run --sql`` and ``ncm rollback --sql`` on a SQL database: the script, applied with the
database's own client, does what the run would have done. Shared by the SQLite, PostgreSQL and
MariaDB tests; ``ncm(*args)`` runs the real command, ``apply(script)`` feeds the client."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

Ncm = Callable[..., subprocess.CompletedProcess]
Apply = Callable[[str], None]

TABLE = '''"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(50)))
    op.create_index("ix_{name}_label", "{name}", ["label"])
    op.execute("INSERT INTO {name} (id, label) VALUES (1, 'it''s {name}')")


def downgrade():
    op.drop_table("{name}")
'''
VERSIONS = ["001_add_users", "002_add_orders", "003_add_items"]


def write_migrations(directory: Path) -> None:
    for version in VERSIONS:
        (directory / f"{version}.py").write_text(TABLE.format(name=version.split("_")[2]))


def states(ncm: Ncm) -> dict[str, str]:
    done = ncm("status", "--json")
    assert done.returncode == 0, done.stderr
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


def script(ncm: Ncm, *args: str) -> str:
    done = ncm(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_script_from_base_leaves_the_database_at_head(ncm: Ncm, apply: Apply, directory: Path) -> None:
    write_migrations(directory)
    apply(script(ncm, "run", "--sql", "--from", "base"))
    assert ncm("status", "--exit-code").returncode == 0
    assert ncm("validate").returncode == 0, ncm("validate").stderr
    assert states(ncm) == dict.fromkeys(VERSIONS, "applied")


def check_script_without_from_starts_where_the_history_is(ncm: Ncm, apply: Apply, directory: Path) -> None:
    write_migrations(directory)
    assert ncm("run", "--target-version", VERSIONS[0]).returncode == 0
    text = script(ncm, "run", "--sql")
    assert VERSIONS[0] not in text and "CREATE TABLE IF NOT EXISTS ncm_migrations" not in text
    apply(text)
    assert states(ncm) == dict.fromkeys(VERSIONS, "applied")


def check_rollback_script_reverts_what_the_rollback_would(ncm: Ncm, apply: Apply, directory: Path) -> None:
    write_migrations(directory)
    assert ncm("run").returncode == 0
    apply(script(ncm, "rollback", "--sql", "--to", VERSIONS[0]))
    assert states(ncm) == {VERSIONS[0]: "applied", VERSIONS[1]: "pending", VERSIONS[2]: "pending"}
    assert ncm("run").returncode == 0, "the reverted migrations apply again: their tables are gone"


def check_script_from_a_version_needs_no_database(ncm_unreachable: Ncm, directory: Path) -> None:
    write_migrations(directory)
    up = script(ncm_unreachable, "run", "--sql", "--from", VERSIONS[0])
    assert VERSIONS[0] not in up and VERSIONS[1] in up and VERSIONS[2] in up
    down = script(ncm_unreachable, "rollback", "--sql", "--all", "--from", VERSIONS[1])
    assert down.index(VERSIONS[1]) < down.index(VERSIONS[0]) and VERSIONS[2] not in down
