"""``ncm wait --at-head`` on SQLite, through the real command."""

import os
import subprocess

from interrupt import NCM

USERS = '''"""Add users."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
'''


def test_wait_exits_0_at_head(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    ncm("run")
    assert ncm("wait", "--at-head", "--timeout", "5").stderr.startswith("at head: ")


def test_wait_exits_3_on_timeout_with_pending_migrations(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    done = ncm("wait", "--at-head", "--timeout", "0", check=3)
    assert done.stderr.endswith("is not at head (1 migration(s) not applied, first 001_users (pending))\n")


def test_wait_returns_once_a_run_has_applied_the_migrations(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    environ["MIGRATION_DATABASE_URL"] = f"sqlite+aiosqlite:///{project}/app.db"
    waiting = subprocess.Popen([NCM, "wait", "--at-head", "--timeout", "120", "--interval", "0.1"], cwd=project,
                               env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ncm("run")
        assert waiting.wait(timeout=120) == 0
    finally:
        waiting.kill()


def test_wait_without_a_condition_is_one_line(project, ncm):
    assert ncm("wait", check=2).stderr == "error: ncm wait needs what to wait for: --at-head\n"


def test_wait_counts_a_deferred_backfill_as_at_head(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (project / "migrations" / "002_fill.py").write_text(
        '"""Fill."""\n\n\nasync def upgrade(ctx):\n    async for batch in ctx.backfill("users"):\n'
        '        await batch.execute("UPDATE users SET id = id WHERE id BETWEEN :lo AND :hi")\n')
    (project / "migrations" / "003_more.py").write_text(USERS.replace("users", "more"))
    ncm("run", "--defer-backfills")
    assert ncm("wait", "--at-head", "--timeout", "5").stderr.startswith("at head: ")
