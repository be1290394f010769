from importlib import metadata

import pytest

from ncm_core import hookimpl, plugins
from ncm_core.errors import PluginError
from ncm_core.validators.interface import Validator


@pytest.fixture
def fresh_plugins():
    """A plugin manager built anew for the test (and rebuilt afterwards)."""
    plugins.get_plugins.cache_clear()
    yield plugins.get_plugins
    plugins.get_plugins.cache_clear()


class FakeDist:
    name, version = "ncm-fake", "9.9"


class FakeEntryPoint:
    def __init__(self, name, load):
        self.name, self._load, self.dist = name, load, FakeDist()

    def load(self):
        return self._load()


def entry_points(monkeypatch, *eps):
    monkeypatch.setattr(metadata, "entry_points", lambda group: list(eps) if group == "ncm" else [])


def test_builtins_are_registered_through_the_hooks():
    assert {"schema", "data", "index", "seed"} <= set(plugins.collect("ncm_register_migration_types"))
    assert {"checksums", "missing-files", "failed-records"} <= set(plugins.collect("ncm_register_validators"))
    assert "local" in plugins.collect("ncm_register_backup_stores")


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_work(monkeypatch, fresh_plugins):
    def broken():
        raise ImportError("no module named 'boto3'")

    entry_points(monkeypatch, FakeEntryPoint("s3", broken))
    (info,) = fresh_plugins().broken
    assert (info.name, info.distribution, info.version) == ("s3", "ncm-fake", "9.9")
    assert "boto3" in info.error
    assert "schema" in plugins.collect("ncm_register_migration_types")


def test_a_misspelled_hook_is_reported_not_loaded(monkeypatch, fresh_plugins):
    class Typo:
        @hookimpl
        def ncm_afer_migration(self, migration):
            pass

    entry_points(monkeypatch, FakeEntryPoint("typo", Typo))
    (info,) = fresh_plugins().broken
    assert info.name == "typo" and "ncm_afer_migration" in info.error
    assert fresh_plugins().manager.get_plugin("typo") is None


def test_disabled_plugins_are_not_loaded(monkeypatch, fresh_plugins):
    loaded = []
    entry_points(monkeypatch, FakeEntryPoint("noisy", lambda: loaded.append(1)))
    monkeypatch.setenv("NCM_DISABLE_PLUGINS", "noisy, other")
    assert fresh_plugins().disabled == ["noisy", "other"] and loaded == []


def test_two_classes_with_one_name_are_an_error_naming_both(register_plugin):
    class Impostor(Validator):
        PLUGIN_NAME = "checksums"

    class Plugin:
        @hookimpl
        def ncm_register_validators(self):
            return [Impostor]

    register_plugin(Plugin(), name="impostor-plugin")
    with pytest.raises(PluginError, match="'checksums' is claimed by both plugin .* and plugin 'impostor-plugin'"):
        plugins.collect("ncm_register_validators")


def test_describe_lists_what_each_plugin_provides(register_plugin):
    class Metrics:
        @hookimpl
        def ncm_after_run(self, results):
            pass

    register_plugin(Metrics(), name="metrics")
    described = {i.name: i for i in plugins.describe()}
    assert described["metrics"].provides == {"hooks": ["after_run"]}
    assert described["ncm_core.types.hooks"].provides["migration_types"] == ["schema", "data", "index", "seed"]


def test_a_registration_hook_that_raises_is_reported_and_the_rest_work(fresh_plugins, register_plugin):
    class MissingDriver:
        @hookimpl
        def ncm_register_backends(self):
            raise ImportError("No module named 'asyncpg'")

    register_plugin(MissingDriver(), name="pg-without-driver")
    assert plugins.collect("ncm_register_backends").get("sqlite") is not None
    (info,) = [b for b in fresh_plugins().broken if b.name == "pg-without-driver"]
    assert "asyncpg" in info.error


def test_backend_registration_is_asked_for_the_scheme_a_run_needs(fresh_plugins, register_plugin):
    asked = []

    class Selective:
        @hookimpl
        def ncm_register_backends(self, scheme):
            asked.append(scheme)
            return []

    class Unconditional:
        @hookimpl
        def ncm_register_backends(self):
            return []

    register_plugin(Selective(), name="selective")
    register_plugin(Unconditional(), name="unconditional")
    plugins.collect("ncm_register_backends", scheme="duckdb")
    plugins.collect("ncm_register_backends")
    assert asked == ["duckdb", None]


def test_a_plugin_that_fails_to_load_is_an_error_with_strict_plugins(monkeypatch, fresh_plugins):
    def broken():
        raise ImportError("no module named 'boto3'")

    monkeypatch.setenv("NCM_STRICT_PLUGINS", "1")
    entry_points(monkeypatch, FakeEntryPoint("s3", broken))
    with pytest.raises(PluginError, match=r"^plugin s3 \(ncm-fake 9.9\) failed to load: ImportError: .*boto3"):
        fresh_plugins()


def test_a_command_registration_that_raises_is_reported_and_the_others_register(fresh_plugins, register_plugin):
    from cyclopts import App

    class Broken:
        @hookimpl
        def ncm_register_commands(self, app):
            raise RuntimeError("cannot add my command")

    class Good:
        @hookimpl
        def ncm_register_commands(self, app):
            app.command("json:dumps", name="good-command", help="a command added by import path")

    register_plugin(Broken(), name="broken-commands")
    register_plugin(Good(), name="good-commands")
    app = App(name="ncm")
    plugins.register_commands(app)
    assert "good-command" in app
    (info,) = [b for b in fresh_plugins().broken if b.name == "broken-commands"]
    assert "cannot add my command" in info.error
    assert {i.name: i for i in plugins.describe()}["good-commands"].provides == {"commands": ["good-command"]}
