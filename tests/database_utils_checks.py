"""The spec's connection checks (its troubleshooting section), called as it calls them, on a
runner given initialised or fresh: shared by the SQLite and PostgreSQL tests."""

from __future__ import annotations

from pathlib import Path

from ncm_core import DatabaseUtils, MigrationConfig, MigrationRunner

ONE_MIGRATION = '''
from alembic import op

def upgrade():
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")

def downgrade():
    op.execute("DROP TABLE users")
'''


def fresh_runner(database_url: str, migrations: Path) -> MigrationRunner:
    """A runner as the spec makes one, before ``await runner.initialize()``."""
    (migrations / "001_users.py").write_text(ONE_MIGRATION, encoding="utf-8")
    return MigrationRunner(MigrationConfig(database_url=database_url, migration_directory=migrations))


async def both_checks(provider: MigrationRunner) -> tuple[bool, dict]:
    # Validate connection
    is_connected = await DatabaseUtils.validate_database_connection(provider)

    # Test environment
    results = await DatabaseUtils.test_migration_environment(provider)
    return is_connected, results
