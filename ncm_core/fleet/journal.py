"""A fan-out run's journal: one JSON line per event (a target started, finished, failed),
appended to a local file that every process of the run shares. Each line is written with a
single ``write`` on a file opened for appending, so the lines of concurrent processes (the
pods of an Indexed Job on a shared volume, two runners of one shard) never interleave.

``--resume RUN_ID`` (or ``--run-id`` given again) skips the targets the journal says are done."""

from __future__ import annotations

import json
import os
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ncm_core.errors import UsageError

DEFAULT_JOURNAL = Path("ncm-journal.jsonl")
DONE = "done"


def new_run_id() -> str:
    """A run id that sorts by time and does not collide between hosts starting at once."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


class Journal:
    """The events of one run in a journal file (which may hold many runs)."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self._offset = 0
        self._done: set[str] = set()
        self._seen = False

    def record(self, target: str, event: str, **details: Any) -> None:
        line = json.dumps({"run": self.run_id, "target": target, "event": event,
                           "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                           "by": f"pid {os.getpid()} on {socket.gethostname()}", **details}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def done(self) -> set[str]:
        """The targets this run finished, by any process (a target done once stays done: a
        duplicate runner that then timed out on its lock does not undo it). The file is read
        on from where the last call stopped, so asking before every target costs only the
        new lines."""
        for event in self._new_events():
            if event.get("run") == self.run_id:
                self._seen = True
                if event.get("event") == DONE:
                    self._done.add(event["target"])
        return self._done

    def exists(self) -> bool:
        """Whether the journal holds any event of this run."""
        self.done()
        return self._seen

    def _new_events(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]
        events = []
        for line in complete.splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise UsageError(f"journal {self.path}: a line that is not JSON near byte {self._offset}") from None
        self._offset += len(complete)
        return events


def events(path: Path, run_id: str) -> list[dict[str, Any]]:
    """Every event of one run, in the order written (for a second operator, and for tests)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [e for e in map(json.loads, lines) if e.get("run") == run_id]
