"""``ncm init``: a starter project for one backend, an ``ncm.toml``, a ``migrations/``
directory with one example migration, and its ``ncm.sum``. The example comes from the
backend's plugin (``example.py.tmpl`` in its ``TEMPLATES`` package), like the templates of
``ncm create``, so the core holds no database's code."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from ncm_core import plugins, sumfile
from ncm_core.backend import Backend
from ncm_core.errors import PluginError, UsageError
from ncm_core.runner import PLUGIN_HINTS

CONFIG_FILE = "ncm.toml"
MIGRATIONS = "migrations"
EXAMPLE = "001_create_example.py"

CONFIG = '''\
# ncm reads this file from the directory it runs in; MIGRATION_* variables and flags override it.
# Every setting: the README's Configuration section.
database_url = "{url}"   # a password goes in MIGRATION_DATABASE_URL, not here
migration_directory = "{migrations}"
# environment = "production"   # default development; elsewhere a stale ncm.sum is an error
'''


def backend_for(database: str) -> type[Backend]:
    """The installed backend whose DATABASE_TYPE is ``database``."""
    backends = plugins.collect("ncm_register_backends").values()
    for cls in backends:
        if cls.DATABASE_TYPE == database:
            return cls
    known = ", ".join(sorted(cls.DATABASE_TYPE for cls in backends)) or "none"
    raise PluginError(f"no installed backend for {database} (installed: {known}); "
                      f"pip install {PLUGIN_HINTS.get(database, 'ncm-' + database)}")


def example_migration(backend: type[Backend]) -> str:
    resource = resources.files(backend.TEMPLATES).joinpath("example.py.tmpl") if backend.TEMPLATES else None
    if resource is None or not resource.is_file():
        raise UsageError(f"the {backend.DATABASE_TYPE} backend ({backend.PLUGIN_NAME}) ships no example migration")
    return Template(resource.read_text(encoding="utf-8")).safe_substitute()


def write_project(root: Path, database: str) -> list[Path]:
    """Write the starter files under ``root``; return them. Nothing is written when
    ``ncm.toml`` exists already or the backend is missing."""
    config = root / CONFIG_FILE
    if config.exists():
        raise UsageError(f"{config} already exists: ncm init starts a new project and changed nothing")
    backend = backend_for(database)
    example = root / MIGRATIONS / EXAMPLE
    if example.exists():
        raise UsageError(f"{example} already exists: ncm init starts a new project and changed nothing")
    text = example_migration(backend)
    example.parent.mkdir(parents=True, exist_ok=True)
    example.write_text(text, encoding="utf-8")
    url = backend.STARTER_URL or f"{backend.URL_SCHEMES[0]}://"
    config.write_text(CONFIG.format(url=url, migrations=MIGRATIONS), encoding="utf-8")
    return [config, example, sumfile.write(example.parent)]
