"""Scratch files and directories that a killed ncm may leave behind, and their cleanup.

A backup or a restore writes beside its target under a recognisable prefix and holds an
exclusive ``flock`` on what it writes for as long as it works. The kernel releases that lock
when the process ends, however it ends (kill -9 included), so a later ncm that can take the
lock knows the writer is gone and removes what it left; one that cannot take it leaves the
entry alone, since another ncm is still working there. Between creating an entry and locking
it there is an instant when a sweep could remove it: the writer then fails with an error
(nothing half-written is ever kept), which is why the lock is taken at once.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("ncm")


def hold(fd: int) -> None:
    """Lock ``fd`` for this process; it was just created, so no one else holds it."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def scratch_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A new directory ``parent/prefix*``, locked while in use and removed afterwards."""
    path = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    fd = os.open(path, os.O_RDONLY)
    try:
        hold(fd)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep(parent: Path, prefix: str) -> list[Path]:
    """Remove every ``parent/prefix*`` whose writer is gone (its lock can be taken); each
    removal is logged as a warning, and the removed paths are returned."""
    removed = []
    for path in sorted(Path(parent).glob(glob.escape(prefix) + "*")):
        if _abandoned(path):
            removed.append(path)
            log.warning("removed %s, left by an interrupted ncm backup or restore", path)
    return removed


def _abandoned(path: Path) -> bool:
    """Remove ``path`` if no process holds its lock; False when one does, or it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
