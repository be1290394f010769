"""The server-wide names ncm uses on MySQL/MariaDB (GET_LOCK's lock, a restore's side
databases and moved-aside views) and how the lock's holder is named: shared by the backend,
the restore and the history reader, which reads them without SQLAlchemy."""

from __future__ import annotations

import hashlib
import re
import time

SIDE_INFIX = "_ncm_restore_"
OLD = re.compile(r"ncm_old_[0-9a-f]{8}_\d+")  # a live view moved aside by a restore
PROCESS = "SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = %s"
"""The lock holder's session, by IS_USED_LOCK's connection id (the driver's %s placeholder)."""


def lock_name(database: str, backfill: str | None = None) -> str:
    """GET_LOCK's name for a database (names are server-wide, at most 64 characters); with
    ``backfill`` (a version), the claim of that migration's backfill."""
    name = f"ncm:{database}" + (f":backfill:{backfill}" if backfill is not None else "")
    return name if len(name) <= 64 else "ncm:" + hashlib.sha256(name[4:].encode()).hexdigest()[:60]


def side_prefix(database: str) -> str:
    """``<db>_ncm_restore_``; a long name is cut and kept unique with a hash (a database
    name has at most 64 characters, and ``<id>_old`` takes 12)."""
    prefix = f"{database}{SIDE_INFIX}"
    if len(prefix) + 12 > 64:
        prefix = f"{database[:30]}_{hashlib.sha256(database.encode()).hexdigest()[:8]}{SIDE_INFIX}"
    return prefix


def holder_text(owner: int, user: str | None, host: str | None, seconds: int | None) -> str:
    """The lock's holder from IS_USED_LOCK's connection id and its PROCESSLIST row (USER,
    HOST, TIME), if it has one. "since" is worked out from TIME, whole seconds: two reads
    may differ by one."""
    if user is None:
        return f"connection {owner}"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - (seconds or 0)))
    return f"connection {owner} ({user}@{host}, since {since})"
