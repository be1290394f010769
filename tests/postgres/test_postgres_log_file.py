"""``log_file`` on PostgreSQL, with a password in the URL that must never reach the log."""

import pytest
import sqlalchemy as sa

from log_file_checks import events, write_migrations

PASSWORD = "pg-s3cret-pw"


@pytest.fixture
def url_with_password(database_url):
    """The test database's URL with a password (the test server trusts local connections, so
    any password connects; ncm sees it as a user's would be)."""
    return sa.make_url(database_url).set(password=PASSWORD).render_as_string(hide_password=False)


def test_a_text_log_of_a_failed_run_has_the_error_and_statement_and_no_password(ncm, migrations_dir,
                                                                                 url_with_password):
    write_migrations(migrations_dir, failing=True)
    done = ncm(url_with_password, "run", MIGRATION_LOG_FILE="migration.log")
    assert done.returncode == 1, done.stderr
    text = (migrations_dir.parent / "migration.log").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert " run start: 2 migration(s) to apply (001_users, 002_seed) on postgresql+asyncpg://postgres:***@" in lines[0]
    assert any(" INFO  001_users: applied in " in line for line in lines)
    failed = next(line for line in lines if " ERROR 002_seed: failed applying it after " in line)
    assert "UniqueViolationError" in failed and "statement: INSERT INTO users (id, name) VALUES (1, 'bob')" in failed
    assert " ERROR run end: failed in " in lines[-1]
    assert PASSWORD not in text


def test_a_jsonl_log_of_a_run_and_its_rollback_has_every_event_and_no_password(ncm, migrations_dir,
                                                                                  url_with_password):
    write_migrations(migrations_dir)
    assert ncm(url_with_password, "run", MIGRATION_LOG_FILE="migration.jsonl").returncode == 0
    assert ncm(url_with_password, "rollback", "--steps", "1", MIGRATION_LOG_FILE="migration.jsonl").returncode == 0
    path = migrations_dir.parent / "migration.jsonl"
    logged = events(path)
    assert [e["event"] for e in logged] == ["run_start", "migration_start", "migration_end", "run_end",
                                            "rollback_start", "migration_start", "migration_end", "rollback_end"]
    assert logged[0]["database"].startswith("postgresql+asyncpg://postgres:***@")
    assert [e["status"] for e in logged if e["event"] == "migration_end"] == ["applied", "reverted"]
    assert PASSWORD not in path.read_text(encoding="utf-8")


def test_a_jsonl_failure_whose_statement_quotes_the_password_has_it_masked(ncm, migrations_dir,
                                                                             url_with_password):
    (migrations_dir / "001_leaky.py").write_text(
        f'from alembic import op\n\ndef upgrade():\n    op.execute("SELECT * FROM nowhere WHERE x = \'{PASSWORD}\'")\n',
        encoding="utf-8")
    assert ncm(url_with_password, "run", MIGRATION_LOG_FILE="migration.jsonl").returncode == 1
    path = migrations_dir.parent / "migration.jsonl"
    failed = next(e for e in events(path) if e["event"] == "migration_failed")
    assert failed["statement"] == "SELECT * FROM nowhere WHERE x = '***'" and "nowhere" in failed["error"]
    assert PASSWORD not in path.read_text(encoding="utf-8")
