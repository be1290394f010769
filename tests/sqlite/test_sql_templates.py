"""`ncm create` on a SQL database: the SQL templates come from ncm-sql, and a third party's
type brings its own."""

import pytest

from ncm_core import hookimpl
from ncm_core.errors import UsageError
from ncm_core.history import APPLIED
from ncm_core.types.interface import MigrationKind


class Permissions(MigrationKind):
    PLUGIN_NAME = "permissions"
    templates = {"sql": '"""$description"""\nfrom alembic import op\n\ntype = "permissions"\n\n\n'
                        'def upgrade():\n    op.execute("CREATE TABLE grants (who TEXT)")\n'}


class Unwritten(MigrationKind):
    PLUGIN_NAME = "unwritten"


class TypesPlugin:
    @hookimpl
    def ncm_register_migration_types(self):
        return [Permissions, Unwritten]


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'app.db'}"


async def test_builtin_types_are_written_from_ncm_sqls_templates(url, runner_factory, migrations_dir):
    from importlib import resources

    async with runner_factory(url) as runner:
        version = await runner.create_migration("Add users", "schema")
    source = resources.files("ncm_sql.templates").joinpath("schema.py.tmpl").read_text()
    assert (migrations_dir / f"{version}.py").read_text().splitlines()[3:] == source.splitlines()[3:]


async def test_a_third_party_types_template_is_written_and_applies(url, runner_factory, migrations_dir,
                                                                   register_plugin):
    register_plugin(TypesPlugin())
    async with runner_factory(url) as runner:
        version = await runner.create_migration("Grant reads", "permissions")
        assert (migrations_dir / f"{version}.py").read_text().startswith('"""Grant reads"""\n')
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]


async def test_a_type_with_no_sql_template_is_a_usage_error(url, runner_factory, register_plugin):
    register_plugin(TypesPlugin())
    async with runner_factory(url) as runner:
        with pytest.raises(UsageError, match="^migration type 'unwritten' has no template for sql databases$"):
            await runner.create_migration("Nothing", "unwritten")
