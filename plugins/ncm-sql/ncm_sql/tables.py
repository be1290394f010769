"""The history and audit tables, as SQLAlchemy Core tables so every dialect gets its own DDL."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from ncm_core.history import AuditEntry, HistoryRecord, from_fields

HISTORY_TABLE = "ncm_migrations"
AUDIT_TABLE = "ncm_audit"
BACKFILL_TABLE = "ncm_backfills"
BACKFILL_NAME_LENGTH = 48
"""With the version's 191 characters, a key within MyISAM's 1000 bytes in utf8mb4."""


def added_columns() -> list[sa.Column]:
    """The history table's columns that ncm 0.1 did not have: a table made by it gains them
    (all nullable) the first time a newer ncm reads it."""
    return [sa.Column("runner", sa.String(255)), sa.Column("statements_done", sa.Integer)]


def missing_columns(sync_conn: sa.Connection, table: sa.Table) -> list[sa.Column] | None:
    """The added columns ``table`` lacks; None when there is no such table."""
    inspector = sa.inspect(sync_conn)
    if not inspector.has_table(table.name, schema=table.schema):
        return None
    present = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
    return [column for column in added_columns() if column.name not in present]


def add_missing_columns(sync_conn: sa.Connection, table: sa.Table) -> None:
    name = sync_conn.dialect.identifier_preparer.format_table(table)
    for column in missing_columns(sync_conn, table) or []:
        sync_conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {column.name} {column.type.compile(sync_conn.dialect)}"))


def build(schema: str | None) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    metadata = sa.MetaData(schema=schema)
    history = sa.Table(
        HISTORY_TABLE, metadata,
        sa.Column("version", sa.String(191), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applied_at", sa.DateTime, nullable=False),
        sa.Column("execution_ms", sa.Integer, nullable=False),
        sa.Column("applied_by", sa.String(255), nullable=False),
        sa.Column("error", sa.Text),
        *added_columns(),
    )
    audit = sa.Table(
        AUDIT_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("version", sa.String(191)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("details", sa.Text),
    )
    return metadata, history, audit


def backfill_table(metadata: sa.MetaData) -> sa.Table:
    """The checkpoints of ``ctx.backfill`` (ncm_core.backfill), one row per backfill of a
    migration: a table of its own, so the history table keeps exactly HistoryRecord's columns."""
    return sa.Table(
        BACKFILL_TABLE, metadata,
        sa.Column("version", sa.String(191), primary_key=True),
        sa.Column("name", sa.String(BACKFILL_NAME_LENGTH), primary_key=True),
        sa.Column("key_done", sa.Text),
        sa.Column("rows_done", sa.BigInteger, nullable=False),
        sa.Column("rows_total", sa.BigInteger),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def naive_utc(moment: datetime) -> datetime:
    """Stored without a zone (portable across dialects), always in UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def aware(moment: datetime) -> datetime:
    """A stored (naive, UTC) moment as the aware datetime ncm works with."""
    return moment.replace(tzinfo=timezone.utc)


def history_row(record: HistoryRecord) -> dict:
    row = {c: getattr(record, c) for c in ("version", "description", "type", "checksum", "status",
                                            "execution_ms", "applied_by", "error", "runner", "statements_done")}
    row["applied_at"] = naive_utc(record.applied_at)
    return row


def record_of(row: sa.Row) -> HistoryRecord:
    data = dict(row._mapping)
    data["applied_at"] = data["applied_at"].replace(tzinfo=timezone.utc)
    return HistoryRecord(**data)


def audit_row(entry: AuditEntry) -> dict:
    return {"at": naive_utc(entry.at), "action": entry.action, "version": entry.version,
            "outcome": entry.outcome, "actor": entry.actor, "details": entry.details}


def entry_of(row: sa.Row) -> AuditEntry:
    data = dict(row._mapping)
    data["at"] = data["at"].replace(tzinfo=timezone.utc)
    return from_fields(AuditEntry, data)
