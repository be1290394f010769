"""pytest fixtures for ncm and its plugins (``-p ncm_core.testing.fixtures``)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ncm_core import plugins


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    return path


@pytest.fixture
def write_migration(migrations_dir: Path) -> Callable[[str, str], Path]:
    """``write_migration("001_users", source)`` writes a migration file (source is dedented)."""
    def write(name: str, source: str) -> Path:
        path = migrations_dir / f"{name}.py"
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def runner_factory(migrations_dir: Path):
    """``async with runner_factory(url, **config) as runner`` gives an initialized runner."""
    from ncm_core.config import MigrationConfig
    from ncm_core.runner import MigrationRunner

    @asynccontextmanager
    async def make(database_url: str, **config: Any) -> AsyncIterator[MigrationRunner]:
        config.setdefault("migration_directory", migrations_dir)
        runner = MigrationRunner(MigrationConfig(database_url=database_url, **config))
        await runner.initialize()
        try:
            yield runner
        finally:
            await runner.close()

    return make


@pytest.fixture
def register_plugin():
    """Register plugin objects for one test; they are unregistered afterwards."""
    pm = plugins.plugin_manager()
    registered: list[object] = []

    def register(plugin: object, name: str | None = None) -> object:
        pm.register(plugin, name=name)
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        pm.unregister(plugin)
