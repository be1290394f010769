"""Progress for long data migrations: a bar on a terminal, a log line every 10% elsewhere."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("ncm")


class Progress:
    def __init__(self, total: int, description: str) -> None:
        self.total = max(int(total or 0), 0)
        self.description = description
        self.done = 0
        self._bar = None
        self._task = None
        self._next_report = 0.1

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, advance=count)
        elif self.total and self.done / self.total >= self._next_report:
            log.info("%s: %d/%d (%d%%)", self.description, self.done, self.total, 100 * self.done // self.total)
            while self._next_report <= self.done / self.total:
                self._next_report += 0.1


@contextmanager
def progress(total: int, description: str = "migrating") -> Iterator[Progress]:
    """``with ctx.progress(total, "users") as p: p.advance(len(batch))``."""
    tracker = Progress(total, description)
    if sys.stderr.isatty():
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            tracker._bar, tracker._task = bar, bar.add_task(description, total=tracker.total or None)
            yield tracker
    else:
        yield tracker
