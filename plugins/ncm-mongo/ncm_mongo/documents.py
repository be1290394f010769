"""The history and audit collections: HistoryRecord and AuditEntry as BSON documents.

Field names are the SQL table's columns, so ``ncm history --json`` reads the same on every
backend. A history document's ``_id`` is its version, which makes a version unique without
a second index and lets one ``replace_one(..., upsert=True)`` write or overwrite it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timezone
from typing import Any

from bson.codec_options import CodecOptions

from ncm_core.history import AuditEntry, HistoryRecord

HISTORY = "ncm_migrations"
AUDIT = "ncm_audit"
LOCK = "ncm_lock"
BACKFILLS = "ncm_backfills"
"""The checkpoints of ``ctx.backfill`` (ncm_mongo.backfill): per backfill, a document for each of
its sessions (two on a replica set, one on a standalone server)."""

# BSON dates carry no zone; ncm's records are UTC-aware, so read them back that way.
UTC = CodecOptions(tz_aware=True, tzinfo=timezone.utc)

def history_document(record: HistoryRecord) -> dict[str, Any]:
    return {"_id": record.version, **asdict(record)}


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    return asdict(entry)
