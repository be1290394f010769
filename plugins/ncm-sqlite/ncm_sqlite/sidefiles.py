"""The files ncm keeps beside a SQLite database: the migration lock's file, as the backend
writes it and as anyone reads it (the holder, pid, host and since, on the first line; the step
it is on on the second), and the scratch copies of backups and restores. Kept apart from the
backend so ``ncm status`` reads them without importing SQLAlchemy."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ncm_core import scratch

SCRATCH = (".ncm-backup-", ".ncm-restore-")  # the prefixes of dump's and restore's scratch directories


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".ncm-lock")


def claim_path(database: Path, version: str) -> Path:
    """The lock file of the claim of a migration's backfill (``ncm backfill`` holds it)."""
    return database.with_name(f"{database.name}.ncm-backfill-{version}")


def lines(database: Path, path: Path | None = None) -> list[str]:
    """The holder, then the step it said it is on, if any (each "" when absent), of the
    migration lock's file or of the lock file ``path``."""
    return ((path or lock_path(database)).read_text(errors="replace").strip().splitlines() or [""]) + [""]


def write(fd: int, text: str) -> None:
    """The lock file's text, written over the old before it is cut to length, so a reader
    never finds it empty while the lock is held."""
    data = text.encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def holder(database: Path, path: Path | None = None) -> str | None:
    """What the holder wrote, while the lock (or the lock file ``path``) is held; None when it is free."""
    path = path or lock_path(database)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return lines(database, path)[0] or "another process"
    finally:
        os.close(fd)


def noted_step(database: Path) -> str | None:
    """The version the holder said it is applying or reverting; None when the lock is free."""
    if holder(database) is None:
        return None
    _, note, *_ = lines(database)
    return note.split(" ", 1)[1] if " " in note else None


def sweep(database: Path) -> None:
    """Remove the scratch copies a killed backup or restore left; those of one still running
    are locked and kept. Every command does it, ``ncm status`` included."""
    for prefix in SCRATCH:
        scratch.sweep(database.parent, prefix)
