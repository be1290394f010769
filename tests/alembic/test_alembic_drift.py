"""Drift: the live schema compared with the models, both ways, usable in CI."""

from __future__ import annotations

import pytest
from schema_models import BASE, GROWN, create_schema, execute, write_models


async def test_drift_lists_what_the_models_have_and_the_database_lacks(runner_factory, database_url, project_dir):
    await create_schema(database_url, write_models(project_dir, BASE))
    async with runner_factory(database_url) as runner:
        differences = await runner.drift(write_models(project_dir, GROWN))
    assert "table products: in the models, not in the database" in differences
    assert "column users.nickname: in the models, not in the database" in differences
    assert "index ix_users_name on users(name): in the models, not in the database" in differences
    assert ("foreign key fk_orders_user_id_users orders(user_id) -> users(id): in the models, not in the database"
            in differences)
    assert any(line.startswith("column users.name: type is VARCHAR(50) in the database, VARCHAR(200) in the models")
               for line in differences)


async def test_drift_lists_what_the_database_has_and_the_models_lack(runner_factory, database_url, project_dir):
    models = write_models(project_dir, BASE)
    await create_schema(database_url, models)
    await execute(database_url, "ALTER TABLE users ADD COLUMN legacy_flag INTEGER",
                  "CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    async with runner_factory(database_url) as runner:
        differences = await runner.drift(models)
    assert sorted(differences) == ["column users.legacy_flag: in the database, not in the models",
                                   "table scratch: in the database, not in the models"]


async def test_drift_ignores_the_ncm_and_alembic_bookkeeping_tables(runner_factory, database_url, project_dir):
    models = write_models(project_dir, BASE)
    await create_schema(database_url, models)
    await execute(database_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    async with runner_factory(database_url, audit_enabled=True) as runner:
        await runner.run_migrations()  # creates ncm_migrations and ncm_audit
        assert await runner.drift(models) == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_validate_drift_exits_3_and_lists_the_differences(ncm, database_url, project_dir):
    (project_dir / "migrations").mkdir()  # validate checks the migrations too
    await create_schema(database_url, write_models(project_dir, BASE))
    done = ncm(database_url, "validate", "--drift", "--metadata", write_models(project_dir, GROWN))
    assert done.returncode == 3
    assert "error [drift] table products: in the models, not in the database" in done.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_check_drift_exits_3_and_lists_the_differences(ncm, database_url, project_dir):
    await create_schema(database_url, write_models(project_dir, BASE))
    done = ncm(database_url, "check", "--drift", MIGRATION_TARGET_METADATA=write_models(project_dir, GROWN))
    assert done.returncode == 3
    assert "drift: column users.nickname: in the models, not in the database" in done.stdout.splitlines()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_check_drift_exits_0_when_the_database_matches_the_models(ncm, database_url, project_dir):
    models = write_models(project_dir, BASE)
    await create_schema(database_url, models)
    done = ncm(database_url, "check", "--drift", "--metadata", models)
    assert done.returncode == 0, done.stderr
    assert "no drift: the database matches the models" in done.stdout
