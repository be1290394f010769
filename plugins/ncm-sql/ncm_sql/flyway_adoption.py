"""Reading where Flyway left a database, so ncm can adopt it without re-running anything.

Flyway's history table, as Flyway creates it (``getRawCreateScript`` of
flyway-database-postgresql's ``PostgreSQLDatabase`` and flyway-mysql's ``MySQLDatabase``,
https://github.com/flyway/flyway; https://documentation.red-gate.com/fd/flyway-schema-history-table):
``flyway_schema_history (installed_rank INT, version VARCHAR(50), description VARCHAR(200),
type VARCHAR(20), script VARCHAR(1000), checksum INT, installed_by VARCHAR(100), installed_on
TIMESTAMP, execution_time INT, success BOOLEAN)``, one row per attempt in ``installed_rank``
order. ``version`` is NULL for a repeatable migration; ``type`` is ``SQL``/``JDBC``/... for a
versioned one, ``BASELINE`` for ``flyway baseline``'s marker, ``SCHEMA`` for the schemas Flyway
created, ``UNDO_SQL``/``UNDO_JDBC``/... for an undo, ``DELETE`` for a row ``flyway repair``
marked as deleted. A row whose ``success`` is false (MySQL keeps one for a failed migration,
having no transactional DDL) applied nothing that can be counted on, so it is not read.
"""

from __future__ import annotations

import sqlalchemy as sa

from ncm_core.adoption import FlywayHistory
from ncm_core.errors import UsageError

HISTORY_TABLE = "flyway_schema_history"
HISTORY = sa.table(HISTORY_TABLE, sa.column("installed_rank"), sa.column("version"), sa.column("type"),
                   sa.column("success"))


def history(connection: sa.Connection) -> FlywayHistory:
    if not sa.inspect(connection).has_table(HISTORY_TABLE):
        raise UsageError(f"this database has no {HISTORY_TABLE} table, so Flyway does not manage it; "
                         "to record migrations as applied up to a version, use `ncm baseline --version V`")
    rows = connection.execute(sa.select(HISTORY.c.version, HISTORY.c.type, HISTORY.c.success)
                              .order_by(HISTORY.c.installed_rank))
    applied: dict[str, None] = {}
    baseline = None
    for version, kind, success in rows:
        if not success or version is None or kind == "SCHEMA":
            continue
        if kind == "BASELINE":
            baseline = version
        elif kind.startswith("UNDO_") or kind == "DELETE":
            applied.pop(version, None)
        else:
            applied[version] = None
    if not applied and baseline is None:
        raise UsageError(f"{HISTORY_TABLE} records no successful versioned migration: Flyway applied nothing "
                         "here, so run `ncm run` instead")
    return FlywayHistory(list(applied), baseline)
