"""``log_file`` (``MIGRATION_LOG_FILE``): a log of every run and rollback, for ``tail -f migration.log``.

A built-in plugin, on the lifecycle hooks any third party has: the run's start (direction,
plan, database, environment, who), each step's start and end with its duration, a failure
with its error and statement, the run's end with its outcome, and a run refused before its
first step with the reason. A file named ``*.jsonl``
gets one JSON object per line (for log shippers); any other name, one readable line per event.
Lines are appended and flushed one by one, so ``tail -f`` shows a run as it goes and two
runners' lines never interleave within a line. Every text is masked with the configuration's
secrets (the URL's password, the encryption key, plugins' secret settings) before it is written.
"""

from __future__ import annotations

import json
import time
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ncm_core.errors import ConfigError
from ncm_core.history import this_runner
from ncm_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from ncm_core.errors import MigrationFailed
    from ncm_core.migration import Migration
    from ncm_core.runner import MigrationRunner

_DOING = {"up": "applying", "down": "rolling back"}
_logs: weakref.WeakKeyDictionary[MigrationRunner, RunLog] = weakref.WeakKeyDictionary()


class RunLog:
    """The log file of one run: open from its start to its end."""

    def __init__(self, runner: MigrationRunner, path: Path) -> None:
        self.mask = runner.config.mask
        self.jsonl = path.suffix == ".jsonl"
        self.started = time.perf_counter()
        self.steps: dict[str, float] = {}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"log_file {path} cannot be written: {exc.strerror or exc}") from None

    def write(self, level: str, event: str, text: str, **fields: Any) -> None:
        """One line: ``fields`` as JSON for ``*.jsonl``, else ``text`` after the time and level."""
        moment = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.jsonl:
            record = {"time": moment, "level": level, "event": event, **fields}
            line = json.dumps({key: self._masked(value) for key, value in record.items()}, default=str)
        else:
            line = self.mask(f"{moment} {level:<5} {' '.join(text.split())}")
        self.file.write(line + "\n")
        self.file.flush()

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, list):
            return [self._masked(v) for v in value]
        if isinstance(value, dict):
            return {k: self._masked(v) for k, v in value.items()}
        return value

    def since(self, started: float) -> int:
        return int((time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self.file.close()


def _log(runner: MigrationRunner) -> RunLog | None:
    return _logs.get(runner)


@hookimpl
def ncm_before_run(runner: MigrationRunner, plan: list[Migration], direction: str) -> None:
    path = runner.config.log_file
    if path is None:
        return
    log = _logs[runner] = RunLog(runner, Path(path))
    versions = [m.version for m in plan]
    config = runner.config
    what = "run" if direction == "up" else "rollback"
    log.write("INFO", f"{what}_start",
              f"{what} start: {len(plan)} migration(s) to {'apply' if direction == 'up' else 'roll back'} "
              f"({', '.join(versions)}) on {config.safe_url}, environment {config.environment.value}, "
              f"by {this_runner()}",
              direction=direction, migrations=versions, database=config.safe_url,
              environment=config.environment.value, runner=this_runner())


@hookimpl
def ncm_on_refused(runner: MigrationRunner, direction: str, error: Exception) -> None:
    path = runner.config.log_file
    if path is None:
        return
    log = RunLog(runner, Path(path))
    what = "run" if direction == "up" else "rollback"
    try:
        log.write("ERROR", f"{what}_refused", f"{what} refused on {runner.config.safe_url}: {error}",
                  direction=direction, database=runner.config.safe_url, error=str(error), runner=this_runner())
    finally:
        log.close()


@hookimpl
def ncm_before_migration(runner: MigrationRunner, migration: Migration, direction: str) -> None:
    if (log := _log(runner)) is None:
        return
    log.steps[migration.version] = time.perf_counter()
    log.write("INFO", "migration_start", f"{migration.version}: {_DOING[direction]} ({migration.type})",
              version=migration.version, direction=direction, type=migration.type,
              description=migration.description)


@hookimpl
def ncm_after_migration(runner: MigrationRunner, migration: Migration, direction: str,
                        result: dict[str, Any]) -> None:
    if (log := _log(runner)) is None:
        return
    log.write("INFO", "migration_end", f"{migration.version}: {result['status']} in {result['duration_ms']} ms",
              version=migration.version, direction=direction, status=result["status"],
              duration_ms=result["duration_ms"])


@hookimpl
def ncm_on_failure(runner: MigrationRunner, migration: Migration, direction: str, error: MigrationFailed) -> None:
    if (log := _log(runner)) is None:
        return
    elapsed = log.since(log.steps.get(migration.version, log.started))
    statement, message = error.statement, error.error
    where = f"; statement: {statement}" if statement else ""
    log.write("ERROR", "migration_failed",
              f"{migration.version}: failed {_DOING[direction]} it after {elapsed} ms: {message}{where}",
              version=migration.version, direction=direction, status="failed", duration_ms=elapsed,
              error=message, statement=statement)


@hookimpl
def ncm_after_run(runner: MigrationRunner, results: list[dict[str, Any]], direction: str) -> None:
    log = _logs.pop(runner, None)
    if log is None:
        return
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    planned = len(runner.plan[1]) if runner.plan is not None else len(results)
    outcome = ("failed" if "failed" in counts else "stopped" if runner.stop_requested is not None
               else "ok" if len(results) >= planned else "interrupted")
    what = "run" if direction == "up" else "rollback"
    summary = ", ".join(f"{status} {count}" for status, count in counts.items()) or "nothing done"
    try:
        log.write({"ok": "INFO", "failed": "ERROR"}.get(outcome, "WARN"), f"{what}_end",
                  f"{what} end: {outcome} in {log.since(log.started)} ms ({summary})",
                  direction=direction, outcome=outcome, duration_ms=log.since(log.started), counts=counts)
    finally:
        log.close()
