"""Python migration files (``001_slug.py``, ``YYYYMMDD_HHMMSS_slug.py``, Alembic revisions):
the built-in format, registered through the same hook as a third party's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ncm_core.formats.interface import MigrationFormat
from ncm_core.migration import Migration, checksum, load_migration
from ncm_core.static_cache import StaticCache


class PythonFormat(MigrationFormat):
    PLUGIN_NAME = "python"
    suffixes = (".py",)
    naming = "YYYYMMDD_HHMMSS_slug.py or 001_slug.py"
    creates = ".py"

    def describe(self, description: str) -> str:
        """Inside the docstring: a backslash or triple quote must not end or bend it."""
        return description.replace("\\", "\\\\").replace('"""', "'''")

    def with_dependencies(self, text: str, versions: list[str]) -> str:
        from ncm_core.autogenerate import with_dependencies

        return with_dependencies(text, versions)

    def load(self, path: Path, config: Any) -> Migration:
        return load_migration(path)

    def load_all(self, paths: list[Path], config: Any, known: dict[Path, Migration]) -> list[Migration]:
        """A file whose checksum matches the previous load is not read again; one that matches
        what the directory's static cache holds is not parsed again."""
        caches: dict[Path, StaticCache] = {}
        loaded = []
        for path in paths:
            previous = known.get(path)
            if previous and previous.checksum == checksum(path):
                loaded.append(previous)
                continue
            cache = caches.get(path.parent) or caches.setdefault(path.parent, StaticCache(path.parent))
            loaded.append(load_migration(path, cache))
        for directory, cache in caches.items():
            cache.save({p.name for p in paths if p.parent == directory})
        return loaded
