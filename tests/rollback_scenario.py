"""The issue's rollback scenario on a SQL database: 001 creates ``users``, 002 seeds it and 003
indexes it, none declaring ``depends_on``. Shared by the SQLite, PostgreSQL and MariaDB tests
of the rollback selectors; ``ncm`` runs the real command (``ncm(*args)``) on one database."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

Ncm = Callable[..., subprocess.CompletedProcess]

MIGRATIONS = {
    "001_add_users_table": '''"""Add users table."""
import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("username", sa.String(100), nullable=False))


def downgrade() -> None:
    op.drop_table("users")
''',
    "002_seed_users": '''"""Seed users."""
from alembic import op


def upgrade() -> None:
    op.execute("INSERT INTO users (id, username) VALUES (1, 'ada')")


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE id = 1")
''',
    "003_custom_index": '''"""Custom index."""
from alembic import op


def upgrade() -> None:
    op.create_index("ix_users_username", "users", ["username"])


def downgrade() -> None:
    op.drop_index("ix_users_username", table_name="users")
''',
}


def write_migrations(directory: Path) -> None:
    for name, source in MIGRATIONS.items():
        (directory / f"{name}.py").write_text(source, encoding="utf-8")


def states(ncm: Ncm) -> dict[str, str]:
    done = ncm("status", "--json")
    assert done.returncode == 0, done.stderr
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


def applied(ncm: Ncm) -> None:
    done = ncm("run")
    assert done.returncode == 0, done.stderr


def version_reverts_every_later_migration(ncm: Ncm) -> None:
    applied(ncm)
    done = ncm("rollback", "--version", "001_add_users_table")
    assert done.returncode == 0, done.stderr
    assert "3 migration(s) reverted" in done.stdout
    assert set(states(ncm).values()) == {"pending"}


def version_prints_the_plan_newest_first(ncm: Ncm) -> None:
    applied(ncm)
    out = ncm("rollback", "--version", "002").stdout
    assert out.index("003_custom_index") < out.index("002_seed_users") < out.index("migration(s) reverted")
    assert "001_add_users_table" not in out


def only_lists_the_later_migrations_that_stay_applied(ncm: Ncm) -> None:
    applied(ncm)
    done = ncm("rollback", "--only", "002")
    assert "stays applied: 003_custom_index" in done.stdout, done.stderr
    assert states(ncm) == {"001_add_users_table": "applied", "002_seed_users": "pending",
                           "003_custom_index": "applied"}


def to_keeps_the_version_and_reverts_what_follows(ncm: Ncm) -> None:
    applied(ncm)
    assert ncm("rollback", "--to", "001").returncode == 0
    assert states(ncm) == {"001_add_users_table": "applied", "002_seed_users": "pending",
                           "003_custom_index": "pending"}


def all_reverts_everything(ncm: Ncm) -> None:
    applied(ncm)
    assert ncm("rollback", "--all").returncode == 0
    assert set(states(ncm).values()) == {"pending"}


def dry_run_prints_the_down_sql_and_reverts_nothing(ncm: Ncm) -> None:
    applied(ncm)
    done = ncm("rollback", "--dry-run", "--version", "002")
    assert done.returncode == 0, done.stderr
    assert "plan: revert 2 migration(s)" in done.stdout
    assert "DROP INDEX" in done.stdout.upper() and "DELETE FROM users" in done.stdout
    assert set(states(ncm).values()) == {"applied"}


def steps_beyond_what_is_applied_is_bad_input(ncm: Ncm) -> None:
    applied(ncm)
    done = ncm("rollback", "--steps", "4")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --steps 4: only 3 migration(s) are applied; "
                                                "use --all to revert every one"]
    assert set(states(ncm).values()) == {"applied"}


def production_without_a_terminal_needs_yes(ncm: Ncm) -> None:
    applied(ncm)
    done = ncm("--environment", "production", "rollback", "--steps", "1")
    assert done.returncode == 2 and "pass --yes" in done.stderr
    assert set(states(ncm).values()) == {"applied"}
    assert ncm("--environment", "production", "rollback", "--steps", "1", "--yes").returncode == 0
    assert states(ncm)["003_custom_index"] == "pending"


def a_history_changed_under_the_plan_stops_the_rollback(ncm: Ncm, url: str, directory: Path) -> None:
    """A run holds the lock while ``rollback --steps 1`` plans: the run's step lands before the
    rollback gets the lock, so its plan (001) is no longer the last applied: exit 3, nothing reverted."""
    from faults import SQL_PLAIN, Child

    (directory / "001_add_users_table.py").write_text(MIGRATIONS["001_add_users_table"], encoding="utf-8")
    applied(ncm)
    (directory / "002_slow.py").write_text(SQL_PLAIN.format(transactional=True, first="slow_a", second="slow_b"))
    child = Child(url, directory, "run", pause=3)
    try:
        child.wait_for_mark()
        done = ncm("rollback", "--steps", "1")
    finally:
        code, _, err = child.finish()
    assert code == 0, err
    assert done.returncode == 3, done.stderr
    assert "plan: revert 1 migration(s)" in done.stdout and "001_add_users_table" in done.stdout
    assert "the history changed since the plan was printed" in done.stderr and "nothing was reverted" in done.stderr
    assert states(ncm) == {"001_add_users_table": "applied", "002_slow": "applied"}


def auto_rollback_says_reverted_as_rollback_does(ncm: Ncm, directory: Path) -> None:
    (directory.parent / "ncm.toml").write_text("auto_rollback_on_failure = true\n", encoding="utf-8")
    (directory / "001_add_users_table.py").write_text(MIGRATIONS["001_add_users_table"], encoding="utf-8")
    (directory / "002_breaks.py").write_text('''"""Breaks."""
from alembic import op


def upgrade() -> None:
    op.execute("INSERT INTO nowhere (id) VALUES (1)")


def downgrade() -> None:
    pass
''', encoding="utf-8")
    results = json.loads(ncm("run", "--json").stdout)["results"]
    assert results[-1] == {**results[-1], "version": "001_add_users_table", "status": "reverted"}
    assert {r["status"] for r in results} == {"applied", "failed", "reverted"}
    assert ncm("repair").returncode == 0
    assert re.search(r"^reverted\s+001_add_users_table", ncm("run").stderr, re.MULTILINE)
