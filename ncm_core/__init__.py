"""ncm: one migration engine for PostgreSQL, MySQL/MariaDB, SQLite and MongoDB.

The public API. Names resolve on first use, so ``import ncm_core`` (and ``ncm --help``)
does not pay for pydantic or any database layer.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig, MigrationEnvironment
    from ncm_core.database_utils import DatabaseUtils
    from ncm_core.hookspecs import hookimpl
    from ncm_core.migration import AbstractMigration, MigrationType
    from ncm_core.runner import MigrationRunner

_PUBLIC = {
    "MigrationRunner": "ncm_core.runner",
    "MigrationConfig": "ncm_core.config",
    "MigrationEnvironment": "ncm_core.config",
    "MigrationType": "ncm_core.migration",
    "AbstractMigration": "ncm_core.migration",
    "DatabaseUtils": "ncm_core.database_utils",
    "hookimpl": "ncm_core.hookspecs",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'ncm_core' has no attribute {name!r}")
