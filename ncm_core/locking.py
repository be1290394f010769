"""Waiting for a migration lock, and keeping a lease: what every backend's ``lock()`` shares.

A backend whose database has a lock that the server frees when its holder disconnects
(PostgreSQL's advisory locks, MySQL's ``GET_LOCK``, a file lock) only needs
:func:`wait_for`. One without (MongoDB) keeps a :class:`Lease`: a record that expires
unless renewed, which :func:`holding` renews in the background while the run lasts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Protocol

from ncm_core.errors import LockTimeout

log = logging.getLogger("ncm")
POLL_SECONDS = 0.05


async def wait_for(try_once: Callable[[], Awaitable[bool]], timeout: float, where: str,
                   holder: Callable[[], Awaitable[str | None]] | None = None, what: str = "the migration lock") -> None:
    """Try until ``try_once()`` is True; past ``timeout`` seconds raise LockTimeout naming
    ``where``, ``what`` (the migration lock, a backfill's claim) and, when ``holder`` can tell,
    who holds it. The poll interval is jittered so that runners started together do not retry
    in step."""
    deadline = time.monotonic() + timeout
    while not await try_once():
        if time.monotonic() >= deadline:
            held_by = (await holder() if holder is not None else None) or "another runner"
            raise LockTimeout(f"{where}: {what} is held by {held_by}; gave up after {timeout:g} s")
        await asyncio.sleep(random.uniform(POLL_SECONDS, 2 * POLL_SECONDS))


def this_process() -> tuple[str, int]:
    """(host, pid) as a lock records its holder."""
    return socket.gethostname(), os.getpid()


def dead_here(host: str | None, pid: int | None) -> bool:
    """Whether a lock's holder is a process of this host that no longer exists: such a lock
    can be taken over at once, where one held elsewhere can only expire."""
    if host != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease(Protocol):
    """A lock that expires unless renewed. ``lost`` is set when a renewal finds it taken."""

    duration: float
    lost: bool

    async def acquire(self) -> bool: ...

    async def renew(self) -> bool: ...

    async def release(self) -> None: ...

    async def holder(self) -> str | None: ...


@asynccontextmanager
async def holding(lease: Lease, timeout: float, where: str, what: str = "the migration lock") -> AsyncIterator[None]:
    """Wait for ``lease``, renew it every third of its duration while the block runs, and
    release it at the end. The block must check ``lease.lost`` before each step."""
    await wait_for(lease.acquire, timeout, where, lease.holder, what)
    keeper = asyncio.create_task(_keep(lease))
    try:
        yield
    finally:
        keeper.cancel()
        with suppress(asyncio.CancelledError):
            await keeper
        await lease.release()


async def _keep(lease: Lease) -> None:
    """Renew until cancelled; a lease lost to a takeover is flagged, not retried."""
    while True:
        await asyncio.sleep(lease.duration / 3)
        try:
            if not await lease.renew():
                lease.lost = True
                log.error("the migration lock lease expired and another runner took it over")
                return
        except Exception as exc:
            log.warning("could not renew the migration lock lease (will retry): %s", type(exc).__name__)
