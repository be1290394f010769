"""What ``ncm status`` and ``ncm current`` tell in an incident, on a SQL database: shared by the
SQLite, PostgreSQL and MariaDB tests; ``ncm`` runs the real command (``ncm(*args)``)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

Ncm = Callable[..., subprocess.CompletedProcess]

TABLE = '''"""Create {name}."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE {name} (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE {name}")
'''
BREAKS = '''"""Breaks."""
from alembic import op


def upgrade() -> None:
    op.execute("INSERT INTO nowhere (id) VALUES (1)")


def downgrade() -> None:
    pass
'''


def write(directory: Path, version: str, source: str) -> None:
    (directory / f"{version}.py").write_text(source, encoding="utf-8")


def one_failed(ncm: Ncm, directory: Path) -> None:
    """001 applied, 002 failed, 003 pending."""
    write(directory, "001_users", TABLE.format(name="users"))
    write(directory, "002_breaks", BREAKS)
    write(directory, "003_orders", TABLE.format(name="orders"))
    assert ncm("run").returncode == 1


def status_shows_why_a_migration_failed_and_the_statement(ncm: Ncm, directory: Path) -> None:
    one_failed(ncm, directory)
    out = ncm("status").stdout
    (line,) = [x for x in out.splitlines() if x.startswith("failed: ")]
    assert "migration 002_breaks failed: " in line and "nowhere" in line
    assert "(statement: INSERT INTO nowhere (id) VALUES (1))" in line


def status_counts_failed_apart_from_pending(ncm: Ncm, directory: Path) -> None:
    one_failed(ncm, directory)
    assert "current: 001_users; pending: 1; failed: 1" in ncm("status").stdout
    state = json.loads(ncm("status", "--json").stdout)
    assert (state["pending"], state["failed"]) == (1, 1)


def exit_code_is_0_at_head(ncm: Ncm, directory: Path) -> None:
    write(directory, "001_users", TABLE.format(name="users"))
    assert ncm("run").returncode == 0
    assert ncm("status", "--exit-code").returncode == 0


def exit_code_is_3_with_pending(ncm: Ncm, directory: Path) -> None:
    write(directory, "001_users", TABLE.format(name="users"))
    assert ncm("status", "--exit-code").returncode == 3
    assert ncm("status").returncode == 0


def exit_code_is_1_with_a_failed_migration(ncm: Ncm, directory: Path) -> None:
    one_failed(ncm, directory)
    assert ncm("status", "--exit-code", "--json").returncode == 1


def current_prints_the_applied_head(ncm: Ncm, directory: Path) -> None:
    write(directory, "001_users", TABLE.format(name="users"))
    write(directory, "002_orders", TABLE.format(name="orders"))
    assert ncm("run", "--target-version", "001").returncode == 0
    assert ncm("current").stdout == "001_users\n"
    assert json.loads(ncm("current", "--json").stdout)["heads"] == ["001_users"]


def current_prints_one_head_per_branch(ncm: Ncm, directory: Path) -> None:
    write(directory, "001_users", TABLE.format(name="users"))
    write(directory, "002_orders", TABLE.format(name="orders") + '\ndepends_on = ["001_users"]\n')
    write(directory, "003_items", TABLE.format(name="items") + '\ndepends_on = ["001_users"]\n')
    assert ncm("run").returncode == 0
    assert ncm("current").stdout.splitlines() == ["002_orders", "003_items"]
