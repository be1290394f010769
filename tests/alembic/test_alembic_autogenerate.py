"""ncm create --autogenerate: Alembic's comparison of the live database with the models, written
as a migration that applies and reverts cleanly, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from schema_models import BASE, EMPTY, GROWN, SHOP, create_schema, operations, schema, write_models

from ncm_core.errors import UsageError


def created_file(runner, version: str) -> str:
    return (Path(runner.config.migration_directory) / f"{version}.py").read_text()


async def test_autogenerate_creates_tables_indexes_unique_constraints_and_foreign_keys(
        runner_factory, database_url, project_dir):
    models = write_models(project_dir, SHOP)
    async with runner_factory(database_url) as runner:
        version = await runner.create_migration("Add shop", "schema", autogenerate=True, metadata=models)
        source = created_file(runner, version)
        assert {"create_table", "create_index"} <= operations(source)
        assert "sa.UniqueConstraint('email'" in source and "sa.ForeignKeyConstraint(['user_id'], ['users.id']" in source

        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
        assert await runner.drift(models) == []
        assert [r["status"] for r in await runner.rollback_migration(version)] == ["reverted"]
        assert await schema(database_url) == {}


async def test_autogenerate_adds_columns_indexes_unique_constraints_foreign_keys_and_changes_types(
        runner_factory, database_url, project_dir):
    before, after = write_models(project_dir, BASE), write_models(project_dir, GROWN)
    await create_schema(database_url, before)
    async with runner_factory(database_url) as runner:
        version = await runner.create_migration("Grow", "schema", autogenerate=True, metadata=after)
        source = created_file(runner, version)
        assert {"create_table", "add_column", "alter_column", "create_index", "create_unique_constraint",
                "create_foreign_key"} <= operations(source)

        await runner.run_migrations()
        assert await runner.drift(after) == []
        await runner.rollback_migration(version)
        assert await runner.drift(before) == []


async def test_autogenerate_removes_tables_columns_indexes_unique_constraints_foreign_keys_and_changes_types(
        runner_factory, database_url, project_dir):
    before, after = write_models(project_dir, GROWN), write_models(project_dir, BASE)
    await create_schema(database_url, before)
    async with runner_factory(database_url) as runner:
        version = await runner.create_migration("Shrink", "schema", autogenerate=True, metadata=after)
        source = created_file(runner, version)
        assert {"drop_table", "drop_column", "alter_column", "drop_index", "drop_constraint"} <= operations(source)
        assert "uq_users_email" in source and "fk_orders_user_id_users" in source

        await runner.run_migrations()
        assert await runner.drift(after) == []
        await runner.rollback_migration(version)
        assert await runner.drift(before) == []


async def test_nothing_to_generate_is_a_clear_error_and_writes_no_file(runner_factory, database_url, project_dir,
                                                                       migrations_dir):
    models = write_models(project_dir, BASE)
    await create_schema(database_url, models)
    async with runner_factory(database_url) as runner:
        with pytest.raises(UsageError, match=f"nothing to generate: the database already matches {models}"):
            await runner.create_migration("Nothing", "schema", autogenerate=True, metadata=models)
    assert list(migrations_dir.iterdir()) == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_empty_writes_the_template_when_nothing_differs(runner_factory, database_url, project_dir):
    models = write_models(project_dir, EMPTY)
    async with runner_factory(database_url) as runner:
        version = await runner.create_migration("Placeholder", "schema", autogenerate=True, metadata=models,
                                                empty=True)
        assert "def upgrade() -> None:" in created_file(runner, version)
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_autogenerate_refuses_while_migrations_are_pending(runner_factory, database_url, project_dir,
                                                                 write_migration):
    write_migration("001_users", '''
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
    ''')
    async with runner_factory(database_url) as runner:
        with pytest.raises(UsageError, match=r"not up to date \(1 pending, first 001_users\): run `ncm run` first"):
            await runner.create_migration("Too early", "schema", autogenerate=True,
                                          metadata=write_models(project_dir, SHOP))


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_autogenerate_without_models_says_where_to_name_them(runner_factory, database_url):
    async with runner_factory(database_url) as runner:
        with pytest.raises(UsageError, match="pass --metadata module:attribute .* or set target_metadata"):
            await runner.create_migration("No models", "schema", autogenerate=True)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_create_autogenerate_reads_target_metadata_from_the_environment(ncm, database_url, project_dir):
    models = write_models(project_dir, SHOP)
    done = ncm(database_url, "create", "Add shop", "--type", "schema", "--autogenerate",
               MIGRATION_TARGET_METADATA=models)
    assert done.returncode == 0, done.stderr
    [path] = (project_dir / "migrations").glob("*_add_shop.py")
    assert "op.create_table('users'" in path.read_text()
    assert ncm(database_url, "run").returncode == 0
    assert ncm(database_url, "check", "--drift", "--metadata", models).returncode == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_check_drift_reads_target_metadata_from_the_sql_section_of_ncm_toml(ncm, database_url, project_dir):
    models = write_models(project_dir, SHOP)
    (project_dir / "ncm.toml").write_text(f'[sql]\ntarget_metadata = "{models}"\n')
    done = ncm(database_url, "check", "--drift")
    assert done.returncode == 3 and "users" in done.stdout, done.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_create_autogenerate_with_nothing_to_do_exits_2_without_a_file(ncm, database_url, project_dir):
    models = write_models(project_dir, EMPTY)
    done = ncm(database_url, "create", "Nothing", "--autogenerate", "--metadata", models)
    assert (done.returncode, done.stderr) == (2, f"error: nothing to generate: the database already matches "
                                                 f"{models} (pass --empty to write the file anyway)\n")
    assert not (project_dir / "migrations").exists() or not any((project_dir / "migrations").iterdir())


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("ref", "message"), [
    ("models", "target metadata 'models' is not module:attribute, e.g. myapp.models:Base.metadata"),
    ("no_such_models:metadata", "cannot import no_such_models for target metadata: ModuleNotFoundError"),
    ("{module}:Base.metadata", "target metadata '{module}:Base.metadata': {module} has no attribute Base.metadata"),
    ("{module}:sa", "target metadata '{module}:sa' is a module, not a SQLAlchemy MetaData"),
])
def test_a_bad_metadata_reference_is_one_clear_line(ncm, database_url, project_dir, ref, message):
    module = write_models(project_dir, EMPTY).split(":")[0]
    done = ncm(database_url, "create", "x", "--autogenerate", "--metadata", ref.format(module=module))
    assert done.returncode == 2
    assert done.stderr.startswith("error: " + message.format(module=module))
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
