"""The SQL machinery that ncm's PostgreSQL, MySQL and SQLite backends share.

It registers no hooks itself: each dialect plugin subclasses :class:`SQLBackend` and
changes only what differs (driver scheme, lock, transactional DDL), as Alembic's
dialect implementations do.
"""

from ncm_sql.backend import SQLBackend
from ncm_sql.context import SQLSession, SQLStepContext

__all__ = ["SQLBackend", "SQLSession", "SQLStepContext"]
