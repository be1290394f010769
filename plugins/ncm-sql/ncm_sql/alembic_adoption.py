"""Reading where Alembic left a database, so ncm can adopt it without re-running anything."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from ncm_core.errors import UsageError

VERSION_TABLE = "alembic_version"


def current_heads(connection: sa.Connection, version_table: str = VERSION_TABLE) -> list[str]:
    """The revisions in ``alembic_version`` (one row per head), read by Alembic itself."""
    if not sa.inspect(connection).has_table(version_table):
        raise UsageError(
            f"this database has no {version_table} table, so Alembic does not manage it; "
            "to record migrations as applied up to a version, use `ncm baseline --version V`"
        )
    context = MigrationContext.configure(connection, opts={"version_table": version_table})
    heads = list(context.get_current_heads())
    if not heads:
        raise UsageError(f"{version_table} is empty: Alembic applied nothing here, so run `ncm run` instead")
    return heads
