"""The minimal backend of ncm_core.backend's docstring, run as written through the contract suite:
a third party's backend written only against the documented contract."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap

import pytest

from ncm_core import backend as backend_module
from ncm_core.capabilities import SupportsAudit, SupportsBackup, require
from ncm_core.errors import UsageError
from ncm_core.testing.contract import CoreContract


def docstring_backend(directory):
    """The docstring's example, written to a module of its own and imported."""
    example = re.search(r"::\n\n(.*?)\n(?=\S)", backend_module.__doc__ + "\nEND", re.S).group(1)
    path = directory / "ncm_jsonfile_example.py"
    path.write_text(textwrap.dedent(example))
    spec = importlib.util.spec_from_file_location("ncm_jsonfile_example", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def minimal_backend(tmp_path_factory, register_plugin):
    module = docstring_backend(tmp_path_factory.mktemp("plugin"))
    register_plugin(module, name="jsonfile-example")
    yield module
    sys.modules.pop(module.__name__, None)


class TestMinimalBackendContract(CoreContract):
    @pytest.fixture
    def database_url(self, tmp_path, minimal_backend):
        return f"jsonfile://{tmp_path}/db.json"

    @pytest.fixture
    def unreachable_url(self, tmp_path, minimal_backend):
        return f"jsonfile://{tmp_path}/no/such/directory/db.json"

    def create_source(self, name):
        return (f'"""Create {name}."""\n\nasync def upgrade(ctx):\n    ctx.data["{name}"] = True\n\n\n'
                f'async def downgrade(ctx):\n    del ctx.data["{name}"]\n')

    def failing_source(self, name):
        return f'async def upgrade(ctx):\n    ctx.data["{name}"] = True\n    raise RuntimeError("boom")\n'

    def invalid_source(self, name):
        return (f'async def upgrade(ctx):\n    ctx.data["{name}"] = True\n\n\n'
                'async def validate(ctx):\n    return False\n')

    def class_source(self, name):
        return ("from ncm_core import AbstractMigration\n\n\nclass Create(AbstractMigration):\n"
                f'    async def up(self, session):\n        session["{name}"] = True\n\n'
                f'    async def down(self, session):\n        del session["{name}"]\n')

    async def exists(self, runner, name):
        return name in runner.db.load()["data"]


async def test_a_backend_without_backups_says_so_in_one_line(minimal_backend, tmp_path, write_migration,
                                                             runner_factory):
    async with runner_factory(f"jsonfile://{tmp_path}/db.json") as runner:
        assert not isinstance(runner.db, SupportsBackup)
        with pytest.raises(UsageError, match="^the jsonfile backend cannot back up$"):
            await runner.backup_database()


async def test_a_backend_without_an_audit_log_refuses_audit_enabled(minimal_backend, tmp_path, write_migration,
                                                                   runner_factory):
    write_migration("001_a", 'async def upgrade(ctx):\n    ctx.data["a"] = 1\n')
    async with runner_factory(f"jsonfile://{tmp_path}/db.json", audit_enabled=True) as runner:
        with pytest.raises(UsageError, match="cannot keep an audit log"):
            await runner.run_migrations()


async def test_a_backend_without_lock_introspection_reports_no_holder(minimal_backend, tmp_path, runner_factory):
    async with runner_factory(f"jsonfile://{tmp_path}/db.json") as runner:
        assert await runner.lock_holder() is None


def test_require_returns_the_backend_that_has_the_capability():
    class Audited:
        PLUGIN_NAME = "audited"

        async def read_audit(self):
            return []

        async def write_audit(self, entry):
            pass

    backend = Audited()
    assert require(backend, SupportsAudit, "keep an audit log") is backend
