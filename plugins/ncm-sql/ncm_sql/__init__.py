"""The SQL machinery that ncm's PostgreSQL, MySQL and SQLite backends share.

Each dialect plugin subclasses :class:`SQLBackend` and changes only what differs (driver
scheme, lock, transactional DDL), as Alembic's dialect implementations do. The hooks this
package implements declare the ``[sql]`` section that every SQL backend reads, the
``[placeholders]`` of Flyway-named files, and the two SQL file formats (dbmate/goose and Flyway).

Loading the plugin imports no SQLAlchemy: ``SQLBackend`` and the contexts are imported when
first named, so that a MongoDB run with ncm-sql installed stays free of the SQL layer.
"""

from typing import Any

from ncm_core import hookimpl

__all__ = ["SQLBackend", "SQLSession", "SQLStepContext"]

_LAZY = {"SQLBackend": "ncm_sql.backend", "SQLSession": "ncm_sql.context", "SQLStepContext": "ncm_sql.context"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ncm_sql' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)


@hookimpl
def ncm_register_settings():
    from ncm_sql.placeholders import Placeholders
    from ncm_sql.settings import SQLSettings

    return [SQLSettings, Placeholders]


@hookimpl
def ncm_register_migration_formats():
    from ncm_sql.flyway import FlywayFormat
    from ncm_sql.sqlformat import SQLFileFormat

    return [SQLFileFormat, FlywayFormat]


@hookimpl
def ncm_register_lint_rules():
    from ncm_sql.lint.rules import NarrowedType, WholeTableWrite

    return [NarrowedType, WholeTableWrite]
