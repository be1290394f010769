"""The user's spec examples, as written there, with only the import line (and the URL) changed."""

import asyncio

import pytest

from ncm_core import (
    AbstractMigration,
    DatabaseUtils,
    MigrationConfig,
    MigrationEnvironment,
    MigrationRunner,
    MigrationType,
)


def test_complete_migration_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    async def run_migrations():
        # Configure migration
        config = MigrationConfig(
            database_url="sqlite+aiosqlite:///database.db",
            database_type="sqlite",
            migration_directory="migrations",
            backup_before_migration=False,
            auto_rollback_on_failure=True
        )

        # Create runner
        runner = MigrationRunner(config)
        await runner.initialize()

        try:
            # Create migration
            version = await runner.create_migration(
                "Add user table with audit fields",
                MigrationType.SCHEMA
            )
            print(f"Created migration: {version}")

            # Run migrations
            results = await runner.run_migrations()

            # Check results
            for result in results:
                print(f"{result['version']}: {result['status']}")

            # Validate migrations
            is_valid = await runner.validate_migrations()
            print(f"All migrations valid: {is_valid}")

        finally:
            await runner.close()

    asyncio.run(run_migrations())
    out = capsys.readouterr().out
    assert "Created migration: " in out and "_add_user_table_with_audit_fields: applied" in out
    assert "All migrations valid: True" in out


def test_configuration_file_example(monkeypatch):
    monkeypatch.delenv("MIGRATION_DATABASE_URL", raising=False)
    with pytest.warns(DeprecationWarning, match="docker_enabled is deprecated and does nothing"):
        config = MigrationConfig(
            database_url="postgresql+asyncpg://user:password@localhost/database",
            database_type="postgresql",
            migration_directory="migrations",
            backup_before_migration=True,
            auto_rollback_on_failure=True,
            environment=MigrationEnvironment.PRODUCTION,
            docker_enabled=True
        )
    assert config.environment == "production" and "password" not in repr(config)


async def test_custom_migration_class_example(tmp_path, write_migration, runner_factory):
    write_migration("001_users", '''
        from alembic import op

        def upgrade():
            op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
            op.execute("INSERT INTO users (email) VALUES ('a@example.org')")
    ''')
    write_migration("002_index_users_email", '''
        from ncm_core import AbstractMigration

        class CustomMigration(AbstractMigration):
            async def up(self, session):
                # Custom upgrade logic
                await session.execute("CREATE INDEX idx_users_email ON users(email)")

            async def down(self, session):
                # Custom rollback logic
                await session.execute("DROP INDEX idx_users_email")

            async def validate(self, session):
                # Custom validation
                result = await session.execute("SELECT COUNT(*) FROM users")
                return result.scalar() > 0
    ''')
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied", "applied"]
        assert [r["status"] for r in await runner.rollback_migration(version="002")] == ["reverted"]
    assert issubclass(AbstractMigration, object)


async def test_connection_check_examples(tmp_path, runner_factory):
    async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/app.db") as provider:
        # Validate connection
        is_connected = await DatabaseUtils.validate_database_connection(provider)

        # Test environment
        results = await DatabaseUtils.test_migration_environment(provider)
    assert is_connected is True
    assert results["connection"] is True and results["pending"] == 0 and results["valid"] is True
    assert await DatabaseUtils.validate_database_connection(f"sqlite+aiosqlite:///{tmp_path}/no/dir/x.db") is False
