"""The migration lock, a session advisory lock: its key and how its holder is named. Shared
by the backend and the history reader, so ``ncm status`` names the holder without SQLAlchemy."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ncm_sql.sqlfiles import read_sql


def lock_key(database: str, schema: str | None, backfill: str | None = None) -> int:
    """The advisory lock's 64-bit key: one lock per database and schema, same on every machine;
    with ``backfill`` (a version), the claim of that migration's backfill."""
    name = f"ncm:{database}:{schema or ''}" + (f":backfill:{backfill}" if backfill is not None else "")
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def halves(key: int) -> tuple[int, int]:
    """The key as pg_locks shows it: classid (high 32 bits) and objid (low 32 bits)."""
    return (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF


def holder_sql() -> str:
    """The query of the holder's session, with the key's halves as $1 and $2."""
    return read_sql("ncm_postgres", "lock_holder.sql")


def holder_text(row: Mapping[str, Any]) -> str:
    """The holder as ``status`` and a waiting run name it: its application_name (ncm's says
    pid and host), server pid, user, client and since when."""
    since = row["state_change"].astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if row["state_change"] else "?"
    return (f"{row['application_name'] or 'a session'} (server pid {row['pid']}, user {row['usename']}, "
            f"client {row['client'] or 'local socket'}, since {since})")
