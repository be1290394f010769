"""Templates ship with the backends: the core holds none, and a migration type's own template
wins over the backend's."""

from pathlib import Path

import pytest

import ncm_core
from ncm_core.errors import UsageError
from ncm_core.types.builtin import Schema
from ncm_core.types.interface import MigrationKind


class Permissions(MigrationKind):
    PLUGIN_NAME = "permissions"
    templates = {"sql": '"""$description"""\ntype = "permissions"\n'}


class SQLLike:
    TEMPLATE_FAMILY = "sql"
    TEMPLATES = None


@pytest.fixture
def redis_backend(tmp_path, monkeypatch):
    """A third party's backend whose templates live in its own package."""
    package = tmp_path / "ncm_redis_templates"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "schema.py.tmpl").write_text('"""$description"""\ntype = "schema"\nKEYS = []\n')
    monkeypatch.syspath_prepend(str(tmp_path))

    class RedisBackend:
        TEMPLATE_FAMILY = "redis"
        TEMPLATES = "ncm_redis_templates"

    return RedisBackend


def test_the_core_package_holds_no_templates():
    assert sorted(Path(ncm_core.__file__).parent.rglob("*.tmpl")) == []


def test_a_third_party_types_own_template_is_used():
    assert Permissions().render(SQLLike, description="Grant reads") == '"""Grant reads"""\ntype = "permissions"\n'


def test_a_backends_templates_package_serves_the_builtin_types(redis_backend):
    assert Schema().render(redis_backend, description="Add keys") == '"""Add keys"""\ntype = "schema"\nKEYS = []\n'


def test_a_types_own_template_wins_over_the_backends(redis_backend):
    class Overriding(MigrationKind):
        PLUGIN_NAME = "schema"
        templates = {"redis": "own"}

    assert Overriding().template(redis_backend) == "own"


def test_a_type_without_a_template_for_the_backend_is_one_usage_error(redis_backend):
    with pytest.raises(UsageError, match="^migration type 'permissions' has no template for redis databases$"):
        Permissions().template(redis_backend)
    with pytest.raises(UsageError, match="^migration type 'schema' has no template for sql databases$"):
        Schema().template(SQLLike)
