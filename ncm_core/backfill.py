"""Resumable batched backfills: what every backend's ``ctx.backfill`` shares.

``async for batch in ctx.backfill("users", key="id", size=10_000)`` walks a table (a
collection) by key ranges; each batch is committed in its own transaction, away from any
run-wide one, together with a checkpoint (the last key done, the rows done) where the
database allows, so a batch and its checkpoint stick or vanish together. A run that dies
(kill -9, a lost node) or is stopped (SIGTERM) leaves the checkpoint; the next ``ncm run`` or
``ncm backfill`` starts after it. The backend keeps the checkpoints (SQL: the table
``ncm_backfills``; MongoDB: the collection); this module holds the parts that do not depend
on the database: the checkpoint, the throttle and the options a run passes down.

A backfill is *claimed* while it runs (the backend's ``backfill_claim``: a lock of its own,
freed by the server or the OS when its holder dies, or a lease that expires on MongoDB), so
two processes never run one backfill at once. ``ncm backfill`` holds the claim, not the
migration lock, while its batches run: the migration lock is taken only for its history writes
(:meth:`BackfillOptions.recording`), so a deploy's ``ncm run`` is not kept waiting for hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ncm_core.errors import LockTimeout
from ncm_core.history import now

if TYPE_CHECKING:
    from ncm_core.progress import Progress

log = logging.getLogger("ncm")

RUNNING, DONE, DEFERRED = "running", "done", "deferred"
"""A checkpoint's state: batches under way (or interrupted), all done, or left by
``ncm run --defer-backfills`` for ``ncm backfill``."""
BACKFILL_CALL = re.compile(rb"\.backfill\(")
"""What marks a migration file as one that backfills (read from its text, without importing it)."""
DEFAULT_TARGET_MS = 200
DEFAULT_SIZE = 10_000
"""Rows a batch asks for unless the migration says: a batch pays a fixed cost (finding its
range, writing its checkpoint, one durable commit: ~15 ms on MariaDB), which 1,000-row batches
would spend more time on than on the rows; the adaptive target shrinks a slower batch."""


class BackfillClaimed(LockTimeout):
    """Another process holds the claim of the backfill a run is about to start."""


class BackfillStopped(Exception):
    """Raised by a backfill after the batch it was on is committed, when the run was asked to
    stop (SIGTERM, Ctrl-C): the migration stays in progress, to resume at its checkpoint."""


@dataclass
class Checkpoint:
    """How far one backfill of one migration got."""

    version: str
    name: str
    key_done: Any = None
    """The last key of the last committed batch; None before the first."""
    rows_done: int = 0
    rows_total: int | None = None
    """Rows done plus those left when the backfill (re)started: for the share and the ETA."""
    seconds: float = 0.0
    """Time spent in batches, summed over runs: the rate is rows over this, not over the
    wall clock since it started (which counts the time a killed run lay dead)."""
    state: str = RUNNING
    started_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def rate(self) -> float | None:
        """Rows per second, or None before the first batch."""
        return self.rows_done / self.seconds if self.seconds > 0 and self.rows_done else None

    @property
    def eta_seconds(self) -> float | None:
        if self.state == DONE:
            return 0.0
        rate = self.rate
        if rate is None or self.rows_total is None:
            return None
        return max(self.rows_total - self.rows_done, 0) / rate

    def as_status(self) -> dict[str, Any]:
        """What ``ncm status`` (and ``--json``) shows of it."""
        rate = self.rate
        eta = self.eta_seconds
        return {"name": self.name, "state": self.state, "rows_done": self.rows_done, "rows_total": self.rows_total,
                "rate": round(rate, 1) if rate is not None else None,
                "eta_seconds": round(eta, 1) if eta is not None else None,
                "key_done": self.key_done, "updated_at": self.updated_at.isoformat()}


def encode_key(key: Any) -> str | None:
    """A key as the checkpoint stores it (JSON: integers and strings keep their type)."""
    return None if key is None else json.dumps(key, default=str)


def decode_key(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass
class BackfillOptions:
    """What the command asks of every backfill of a run (``--batch-size``, ``--batch-pause``,
    ``--batch-target``, ``--defer-backfills``), and how it asks one to stop."""

    batch_size: int | None = None
    """Overrides the ``size`` a migration gives."""
    pause: float = 0.0
    """Seconds to wait between two batches (replicas catch up, the app gets the locks)."""
    target_ms: int = DEFAULT_TARGET_MS
    """Adaptive batches: a batch that takes longer than this shrinks the next one (0: fixed size)."""
    defer: bool = False
    """``ncm run --defer-backfills``: the migrations that backfill are left pending."""
    only: bool = False
    """``ncm backfill``: only the migrations that backfill run."""
    stop_requested: bool = False
    relock: Callable[[], AbstractAsyncContextManager[None]] | None = None
    """Set while ``ncm backfill`` runs a step without the migration lock: what takes it."""

    @asynccontextmanager
    async def recording(self) -> AsyncIterator[bool]:
        """Around each history write of a backend (the step's ``running`` and ``applied``
        records, a failure, the audit): the migration lock, for that write alone, when the
        step runs without it; True when it was taken here, so that the write commits before
        it is released. Re-entrant: a write inside another takes nothing more."""
        relock, self.relock = self.relock, None
        try:
            if relock is None:
                yield False
            else:
                async with relock():
                    yield True
        finally:
            self.relock = relock

    def throttle(self, size: int) -> Throttle:
        return Throttle(self.batch_size or size, self.pause, self.target_ms / 1000 if self.target_ms else None)


@dataclass
class Throttle:
    """The size of the next batch and the wait before it. A batch slower than ``target``
    shrinks the next in proportion (so lock time stays near the target); a batch under it
    lets the size grow back in proportion too, at most doubling (one fast batch may be luck)
    and never past the size asked for. Growing only after a batch well under the target kept
    a backfill whose batches take near the target at the size of its slowest batch (a
    million MongoDB documents in 112 batches where 100 were asked)."""

    size: int
    pause: float = 0.0
    target: float | None = DEFAULT_TARGET_MS / 1000
    minimum: int = 1
    asked: int = 0

    def __post_init__(self) -> None:
        self.asked = self.size

    def after(self, seconds: float) -> None:
        """Adjust to a batch that took ``seconds``."""
        if self.target is None or seconds <= 0:
            return
        if seconds > self.target:
            self.size = max(self.minimum, int(self.size * self.target / seconds))
        elif self.size < self.asked:
            self.size = min(self.asked, self.size * 2, int(self.size * self.target / seconds))


class Clock:
    """Time spent in one batch, for the throttle and the checkpoint's rate."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


NOT_READ = object()
"""What :meth:`ReadAhead.take` gives when the bounds must be read now."""


class ReadAhead:
    """A backfill's next batch bounds, read while the batch runs, so that the server finds
    them beside the batch's work rather than between batches. They are only used when the
    next batch starts after the same key and is as long (the throttle may have changed the
    size meanwhile); a read that fails turns reading ahead off, and the bounds are read
    between batches from then on."""

    def __init__(self, on: bool = True) -> None:
        self.on = on
        self.task: asyncio.Task[tuple[Any, int, Any]] | None = None

    def start(self, key: Any, size: int, read: Callable[[Any, int], Awaitable[Any]]) -> None:
        """``read(key, size)``: the bounds of the ``size`` keys after ``key``."""
        if self.on:
            self.task = asyncio.create_task(self._read(key, size, read))

    @staticmethod
    async def _read(key: Any, size: int, read: Callable[[Any, int], Awaitable[Any]]) -> tuple[Any, int, Any]:
        return key, size, await read(key, size)

    async def take(self, key: Any, size: int) -> Any:
        """The bounds read ahead for the batch after ``key`` of ``size``, or NOT_READ."""
        task, self.task = self.task, None
        if task is None:
            return NOT_READ
        try:
            read_key, read_size, bounds = await task
        except Exception as exc:
            log.debug("reading a batch's bounds ahead failed (%s); reading them between batches from now on", exc)
            self.on = False
            return NOT_READ
        return bounds if (read_key, read_size) == (key, size) else NOT_READ

    async def stop(self) -> bool:
        """Whether a read was still under way (it is cancelled)."""
        task, self.task = self.task, None
        if task is None:
            return False
        cut = not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return cut


class LeftCount:
    """The rows a backfill has left, counted in the background while its first batches run,
    for the checkpoint's ``rows_total`` and the progress share: counting a million rows took
    1% (PostgreSQL) to 3% (MongoDB) of a backfill of them, and on a big table would hold the
    first batch back for seconds. A count that fails leaves the ETA unknown, not the backfill."""

    def __init__(self) -> None:
        self.task: asyncio.Task[int] | None = None
        self.rows_done = 0

    def start(self, point: Checkpoint, count: Coroutine[Any, Any, int]) -> None:
        """``count``: the rows after ``point``'s key."""
        self.rows_done = point.rows_done
        self.task = asyncio.create_task(count)

    def take(self, point: Checkpoint, progress: Progress | None) -> None:
        """Into the checkpoint about to be written, when the count has ended."""
        if self.task is None or not self.task.done():
            return
        task, self.task = self.task, None
        if task.cancelled() or task.exception() is not None:
            log.debug("counting the rows a backfill has left failed (%s); its ETA is unknown",
                      "cancelled" if task.cancelled() else task.exception())
            return
        point.rows_total = self.rows_done + task.result()
        if progress is not None:
            progress.total = task.result()

    async def join(self, point: Checkpoint, progress: Progress | None) -> None:
        """:meth:`take` once the count has ended: the first checkpoint then always has the
        total, the count having run beside the first batch."""
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.take(point, progress)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
