"""Waiting for a migration lock that can be tried without blocking, as most can."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from ncm_core.errors import LockTimeout

POLL_SECONDS = 0.05


async def wait_for(try_once: Callable[[], Awaitable[bool]], timeout: float, where: str,
                   holder: Callable[[], Awaitable[str | None]] | None = None) -> None:
    """Try until ``try_once()`` is True; past ``timeout`` seconds raise LockTimeout naming
    ``where`` and, when ``holder`` can tell, who holds the lock. The poll interval is
    jittered so that runners started together do not retry in step."""
    deadline = time.monotonic() + timeout
    while not await try_once():
        if time.monotonic() >= deadline:
            held_by = (await holder() if holder is not None else None) or "another runner"
            raise LockTimeout(f"{where}: the migration lock is held by {held_by}; gave up after {timeout:g} s")
        await asyncio.sleep(random.uniform(POLL_SECONDS, 2 * POLL_SECONDS))
