"""The history and audit collections: HistoryRecord and AuditEntry as BSON documents.

Field names are the SQL table's columns, so ``ncm history --json`` reads the same on every
backend. A history document's ``_id`` is its version, which makes a version unique without
a second index and lets one ``replace_one(..., upsert=True)`` write or overwrite it.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timezone
from typing import Any

from bson.codec_options import CodecOptions

from ncm_core.history import AuditEntry, HistoryRecord

HISTORY = "ncm_migrations"
AUDIT = "ncm_audit"
LOCK = "ncm_lock"

# BSON dates carry no zone; ncm's records are UTC-aware, so read them back that way.
UTC = CodecOptions(tz_aware=True, tzinfo=timezone.utc)

_HISTORY_FIELDS = [f.name for f in fields(HistoryRecord)]
_AUDIT_FIELDS = [f.name for f in fields(AuditEntry)]


def history_document(record: HistoryRecord) -> dict[str, Any]:
    return {"_id": record.version, **asdict(record)}


def record_of(document: dict[str, Any]) -> HistoryRecord:
    return HistoryRecord(**{name: document[name] for name in _HISTORY_FIELDS if name in document})


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    return asdict(entry)


def entry_of(document: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{name: document[name] for name in _AUDIT_FIELDS if name in document})
