"""Progress for long data migrations: a rich bar on a terminal; elsewhere (a CI log, a container's
stderr, ``kubectl logs``) a plain line on stderr every ``NCM_PROGRESS_INTERVAL`` seconds (5 by
default) and at every further 10%, with the count done, the rate and the time left."""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

INTERVAL_ENV = "NCM_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 5.0


def report_interval() -> float:
    """Seconds between two lines off a terminal: NCM_PROGRESS_INTERVAL, else the default (a value
    that is not a positive number is warned about and the default used: progress must never
    fail a migration)."""
    raw = os.environ.get(INTERVAL_ENV)
    if raw is None:
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        warnings.warn(f"{INTERVAL_ENV} must be a positive number of seconds; using {DEFAULT_INTERVAL:g}",
                      stacklevel=2)
        return DEFAULT_INTERVAL
    return seconds


class Progress:
    """``advance(n)`` counts work done; off a terminal it decides when a line is due."""

    def __init__(self, total: int | None, description: str) -> None:
        self.total = max(int(total or 0), 0)
        self.description = description
        self.done = 0
        self.interval = report_interval()
        self.started = self._last = time.monotonic()
        self._next_tenth = 1
        self._bar: Any = None
        self._task: Any = None

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, advance=count)
            return
        now = time.monotonic()
        tenth = 10 * self.done // self.total if self.total else 0
        if tenth >= self._next_tenth or now - self._last >= self.interval:
            self._next_tenth = max(self._next_tenth, tenth + 1)
            self._last = now
            sys.stderr.write(self.line(now) + "\n")
            sys.stderr.flush()

    def line(self, now: float) -> str:
        """``progress users: 4000/10000 (40%), 2150/s, ETA 3s`` (no share nor ETA without a total)."""
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        if not self.total:
            return f"progress {self.description}: {self.done} done, {rate:.0f}/s, {duration(elapsed)} so far"
        left = max(self.total - self.done, 0)
        eta = duration(left / rate) if rate > 0 else "unknown"
        return (f"progress {self.description}: {self.done}/{self.total} ({100 * self.done // self.total}%), "
                f"{rate:.0f}/s, ETA {eta}")


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@contextmanager
def progress(total: int | None, description: str = "migrating") -> Iterator[Progress]:
    """``with ctx.progress(total, "users") as p: p.advance(len(batch))``."""
    tracker = Progress(total, description)
    if sys.stderr.isatty():
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            tracker._bar, tracker._task = bar, bar.add_task(description, total=tracker.total or None)
            yield tracker
    else:
        yield tracker
