"""MigrationRunner: plan -> lock -> backup -> apply -> validate -> record.

The runner owns the order and the rules (what is pending, what blocks a run, what a
rollback must revert); backends own how a step touches their database.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import traceback
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ncm_core import adoption, backup, plugins, sumfile
from ncm_core.lint import gate as lint_gate
from ncm_core import autogenerate as filling
from ncm_core.backend import Backend, GeneratedSteps
from ncm_core.capabilities import (
    SupportsAlembicAdoption,
    SupportsAudit,
    SupportsBackfill,
    SupportsBackup,
    SupportsFlywayAdoption,
    SupportsGolangMigrateAdoption,
    SupportsLockHolder,
    SupportsModels,
    SupportsOfflineSQL,
    SupportsResume,
    SupportsStepNote,
    SupportsUnlock,
    require,
)
from ncm_core.backfill import BackfillClaimed, BackfillOptions, BackfillStopped
from ncm_core.config import MigrationConfig, load_config
from ncm_core.errors import (
    BackupError,
    ConfigError,
    ConnectionLost,
    LockTimeout,
    MigrationFailed,
    PluginError,
    UsageError,
    ValidationFailed,
)
from ncm_core.graph import MigrationGraph
from ncm_core.locking import dead_here
from ncm_core.history import (
    APPLIED,
    BASELINE,
    FAILED,
    REVERTING,
    RUNNING,
    UNFINISHED,
    AuditEntry,
    HistoryRecord,
    this_runner,
)
from ncm_core.import_cache import ImportCache
from ncm_core.migration import Migration, MigrationFileError, MigrationType, load_migrations
from ncm_core.reader import HistorySnapshot, read_light
from ncm_core.rollback import rollback_plan
from ncm_core.validators.interface import ERROR, WARNING, Problem

log = logging.getLogger("ncm")
PLUGIN_HINTS = {"postgresql": "ncm-postgres", "mysql": "ncm-mysql", "sqlite": "ncm-sqlite", "mongodb": "ncm-mongo"}
"""The package that brings each built-in database, for the message saying what to install."""


def backend_class(config: MigrationConfig) -> type[Backend]:
    scheme = config.database_url.split("://", 1)[0]
    for cls in plugins.collect("ncm_register_backends", scheme=scheme.lower()).values():
        if cls.claims(config.database_url):
            return cls
    backends = plugins.collect("ncm_register_backends").values()
    known = ", ".join(sorted(s for cls in backends for s in cls.URL_SCHEMES)) or "none installed"
    raise PluginError(
        f"no installed backend handles {scheme}:// URLs (known schemes: {known}); "
        f"install the plugin for {config.database_type}, e.g. pip install "
        f"{PLUGIN_HINTS.get(config.database_type or '', 'ncm-' + str(config.database_type))}"
    )


def _creating_format(name: str) -> Any:
    """The installed format ``ncm create --format`` names, if it writes new files."""
    from ncm_core.formats.registry import formats

    found = {f.PLUGIN_NAME: f for f in formats() if f.creates}
    if name not in found:
        raise UsageError(f"ncm create cannot write a {name!r} migration (formats it writes: {', '.join(found)})")
    return found[name]


@contextmanager
def _creating(path: Path) -> Iterator[None]:
    """A new migration file or directory that cannot be made (a read-only filesystem, no
    permission, a file in the way) as one line naming it, not an internal error."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror or exc} (`ncm create` writes to "
                          "migration_directory)") from None


def located(exc: BaseException, path: Path) -> str | None:
    """``file:line`` of the migration's own code where the step's error was raised, found in
    the original exception's traceback (the backend raises MigrationFailed from it)."""
    cause = exc.__cause__ or exc.__context__
    frames = traceback.extract_tb(cause.__traceback__) if cause is not None else []
    mine = [f for f in frames if Path(f.filename).resolve() == path.resolve()]
    return f"{path}:{mine[-1].lineno}" if mine else None


def interrupted(record: HistoryRecord) -> str:
    """What an unfinished record means, and the ways out of it."""
    doing = "applying" if record.status == RUNNING else "rolling back"
    done = f" after {record.statements_done} statement(s)" if record.statements_done is not None else ""
    v = record.version
    return (f"{v} was interrupted while {doing} it ({record.runner or 'unknown runner'}, started "
            f"{record.applied_at:%Y-%m-%d %H:%M:%S} UTC){done}, so it is partially applied: check what it "
            f"changed, then finish it by hand and run `ncm repair --mark-applied {v}`, or undo it by hand "
            f"and run `ncm repair --mark-pending {v}`, or run its down step with `ncm rollback --version {v}`")


def _outside_transaction(m: Migration) -> None:
    """A backfill commits batch by batch: its migration is not one transaction, so it runs as a
    ``transactional = False`` step does (the strategy each backend has for those)."""
    if m.transactional:
        raise MigrationFileError(f"{m.path}: calls ctx.backfill, which commits each batch on its own: "
                                 "remove transactional = True")
    m.transactional = False


class MigrationRunner:
    def __init__(self, config: MigrationConfig | None = None) -> None:
        self.config = config if config is not None else load_config()
        self.backend: Backend | None = None
        self.graph: MigrationGraph | None = None
        self.created: Path | None = None
        """The file the last ``create_migration`` wrote."""
        self.last_backup: dict[str, Any] | None = None
        """The backup ``backup_before_migration`` took in the last run (manifest and location)."""
        self.plan: tuple[str, list[Migration]] | None = None
        """The direction and the migrations of the run under way (or the last one)."""
        self.stop_requested: int | None = None
        """The signal that asked the run to stop once its current step is done."""
        self.backfill_options = BackfillOptions()
        """What ``ctx.backfill`` is asked (``--batch-size`` and the rest), handed to the backend."""
        self._claims: set[str] = set()
        """The versions whose backfill claim this runner holds."""
        self.left_to: str | None = None
        """Why ``run_backfills`` stopped before a backfill: another process holds its claim."""
        self._workers: dict[str, str | None] = {}
        """Who holds each open backfill's claim, as the last ``get_status`` read it."""

    # -- lifecycle -------------------------------------------------------------------
    async def initialize(self) -> None:
        """Connect. The migration files are read by the commands that need them (each before it
        changes anything), so a broken file or a missing directory does not stop ``backup``,
        ``restore``, ``check`` or ``history``."""
        self.backend = backend_class(self.config)(self.config)
        await self.backend.connect()

    async def close(self) -> None:
        """Disconnect; the runner is then as before ``initialize`` (and may be initialised again)."""
        if self.backend is not None:
            backend, self.backend = self.backend, None
            await backend.close()

    async def __aenter__(self) -> MigrationRunner:
        await self.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def db(self) -> Backend:
        if self.backend is None:
            raise UsageError("the runner is not initialized: await runner.initialize() first")
        return self.backend

    def load(self) -> MigrationGraph:
        """(Re)read the migration directory; files created since the last load are seen."""
        known = {m.path: m for m in self.graph.order} if self.graph is not None else None
        migrations = load_migrations(Path(self.config.migration_directory), known, self.config)
        kinds = plugins.collect("ncm_register_migration_types")
        for m in migrations:
            if m.type not in kinds:
                raise MigrationFileError(
                    f"{m.path}: type {m.type!r} is not a registered migration type ({', '.join(kinds)})"
                )
            if m.transaction_mode is None and self.config.transaction_mode == "none":
                m.transactional = False
            if m.backfills:
                _outside_transaction(m)
            elif m.transactional is None:
                m.transactional = kinds[m.type].transactional
        self.graph = MigrationGraph(migrations)
        return self.graph

    async def history(self) -> dict[str, HistoryRecord]:
        return {r.version: r for r in await self.db.read_history()}

    # -- running ---------------------------------------------------------------------
    async def run_migrations(self, target_version: str | None = None, dry_run: bool = False,
                             allow: Collection[str] = ()) -> list[dict[str, Any]]:
        """Apply pending migrations (up to ``target_version``); one result dict per step.
        ``allow``: the lint codes whose error-level findings lint on run lets through."""
        graph = self.load()
        target = graph.resolve(target_version) if target_version is not None else None
        self.db.backfill_options = self.backfill_options
        if dry_run:
            plan = self._runnable(self._backfill_plan(self._pending(graph, await self.history(), target)), "up")
            async with self.db.dry_run_scope():
                return [{"version": m.version, "description": m.description, "status": "dry-run",
                         "statements": await self.db.dry_run(m, "up")} for m in plan]
        async with self.db.lock():
            history = await self.history()
            try:
                problems = self.problems(graph, history)
                self._raise_on_errors(problems)
                self._warn_on_run(problems)
                plan = self._runnable(self._backfill_plan(self._pending(graph, history, target)), "up")
                self._refuse_interrupted(plan, history)
                await self._refuse_claimed(plan)
                if plan and lint_gate.applies(self):
                    await lint_gate.check_plan(self, plan, allow)
            except ValidationFailed as exc:
                self._hook("ncm_on_refused", direction="up", error=exc)
                raise
            if not plan:
                return []
            if self.config.backup_before_migration:
                require(self.db, SupportsBackup, "back up (backup_before_migration)")
                self.last_backup = await self._backup(None)
            self.plan = ("up", plan)
            self._hook("ncm_before_run", plan=plan, direction="up")
            results: list[dict[str, Any]] = []
            try:
                async with self.db.run_scope():
                    await self._apply_plan(plan, results, history)
            except ConnectionLost as exc:
                raise ConnectionLost(f"{exc}; {await self.outcome()}") from exc
            finally:
                self._hook("ncm_after_run", results=results, direction="up")
        return results

    async def up_to_date(self, target_version: str | None = None) -> bool:
        """Whether a run would find nothing to do, told by the backend's history reader
        without connecting the backend: the lock free (the holder is read first), nothing
        pending, unfinished or refused. When it cannot tell, False, and the run goes the
        whole way, with the lock. The no-op run of every deploy costs a status read (and
        reads the files once: as ``ncm run`` read them before connecting, if it did)."""
        graph = self.graph if self.graph is not None else self.load()
        target = graph.resolve(target_version) if target_version is not None else None
        snapshot = await read_light(self.config) if self.backend is None else None
        if snapshot is None or snapshot.lock_holder is not None:
            return False
        history = {r.version: r for r in snapshot.records}
        problems = self.problems(graph, history)
        if (any(p.severity == ERROR for p in problems) or self._pending(graph, history, target)
                or any(r.status in UNFINISHED for r in history.values())):
            return False
        self._warn_on_run(problems)
        return True

    # -- ncm backfill ----------------------------------------------------------------
    async def run_backfills(self) -> list[dict[str, Any]]:
        """``ncm backfill``: the pending migrations that backfill, in order, each run under its
        claim instead of the migration lock. The lock is taken only to plan (and back up) and
        for each history write (``BackfillOptions.recording``), so a deploy's ``ncm run`` goes
        on meanwhile; the plan is read again after each migration, under the lock. A backfill
        another process holds the claim of (past ``lock_timeout``) ends this worker's work:
        the backfills after it wait for it, and that process goes on to them."""
        graph = self.load()
        options = self.backfill_options
        options.only, options.relock = True, self.db.lock
        self.db.backfill_options = options
        results: list[dict[str, Any]] = []
        try:
            plan = await self._planned_backfills(graph, first=True)
            if not plan:
                return results
            self.plan = ("up", plan)
            self._hook("ncm_before_run", plan=plan, direction="up")
            try:
                await self._work_through(graph, plan, results)
            except ConnectionLost as exc:
                raise ConnectionLost(f"{exc}; {await self.outcome()}") from exc
            finally:
                self._hook("ncm_after_run", results=results, direction="up")
        finally:
            options.relock = None
        return results

    async def _work_through(self, graph: MigrationGraph, plan: list[Migration], results: list[dict[str, Any]]) -> None:
        done: list[Migration] = []
        while plan and self.stop_requested is None:
            m = plan[0]
            if m in done:  # recorded applied, yet planned again: never run a backfill twice
                raise ValidationFailed(f"{m.version} was applied but is still pending; run `ncm status`")
            try:
                async with self._claimed(m):
                    record = (await self.history()).get(m.version)
                    if record is None or record.status == RUNNING:  # else another worker finished it
                        async with self.db.run_scope():
                            results.append(await self._step(m, "up", resume=record))
            except BackfillClaimed as exc:
                self.left_to = str(exc)
                break
            if results and results[-1]["version"] == m.version:
                if results[-1]["status"] == FAILED and self.config.auto_rollback_on_failure:
                    async with self.db.run_scope():
                        await self._auto_rollback(m, done, results)
                if results[-1]["status"] != APPLIED:
                    return
                done.append(m)
            plan = await self._planned_backfills(self.load(), first=False)
        await self._audit("run", None, "ok", f"{len(done)} applied")

    async def _planned_backfills(self, graph: MigrationGraph, first: bool) -> list[Migration]:
        """The pending backfills, read under the migration lock. The first plan is checked as a
        run checks its plan (checksums, failed records, interrupted steps, lint) and backed up
        before; those read after a backfill are not checked again: a deploy may have applied
        migrations this worker's files do not have (an older image), which is no reason to stop."""
        async with self.backfill_options.recording():
            history = await self.history()
            try:
                problems = self.problems(graph, history) if first else []
                self._raise_on_errors(problems)
                plan = self._runnable(self._backfill_plan(self._pending(graph, history, None)), "up")
                self._refuse_interrupted(plan, history)
                if first:
                    self._warn_on_run(problems)
                    if plan and lint_gate.applies(self):
                        await lint_gate.check_plan(self, plan, ())
            except ValidationFailed as exc:
                self._hook("ncm_on_refused", direction="up", error=exc)
                raise
            if first and plan and self.config.backup_before_migration:
                require(self.db, SupportsBackup, "back up (backup_before_migration)")
                self.last_backup = await self._backup(None)
        return plan

    async def _apply_plan(self, plan: list[Migration], results: list[dict[str, Any]],
                          history: dict[str, HistoryRecord]) -> None:
        done: list[Migration] = []
        for m in plan:
            if self.stop_requested is not None:
                return
            result = await self._step(m, "up", resume=history.get(m.version))
            results.append(result)
            if result["status"] == FAILED:
                if self.config.auto_rollback_on_failure:
                    await self._auto_rollback(m, done, results)
                return
            done.append(m)
        await self._audit("run", None, "ok", f"{len(done)} applied")

    async def _auto_rollback(self, failed: Migration, done: list[Migration], results: list[dict[str, Any]]) -> None:
        """Undo this run: the failed step where it left changes, then what it applied, newest first."""
        if not self.db.is_atomic(failed) and failed.reversible:
            result = await self._step(failed, "down")
            results.append(result)
            if result["status"] == FAILED:
                return
        for m in reversed(done):
            result = await self._step(m, "down")
            results.append(result)
            if result["status"] == FAILED:
                return

    async def _step(self, m: Migration, direction: str, resume: HistoryRecord | None = None) -> dict[str, Any]:
        async with self._claimed(m):
            return await self._claimed_step(m, direction, resume)

    async def _claimed_step(self, m: Migration, direction: str, resume: HistoryRecord | None) -> dict[str, Any]:
        record = HistoryRecord(m.version, m.description, m.type, m.checksum)
        self._hook("ncm_before_migration", migration=m, direction=direction)
        started = time.perf_counter()
        try:
            if isinstance(self.db, SupportsStepNote):
                await self.db.note_step(m.version, direction)
            if m.backfills and isinstance(self.db, SupportsBackfill) and not (
                    direction == "up" and resume is not None and self._resumes_backfill(resume)):
                await self.db.clear_backfills(m.version)  # a fresh start: nothing of a former apply counts
            if not self.db.is_atomic(m):
                await self._mark_running(m, record, direction, resume)
            await self.db.apply(m, direction, record)
        except BackfillStopped as exc:
            log.warning("%s", exc)
            return {"version": m.version, "description": m.description, "status": "in progress",
                    "duration_ms": int((time.perf_counter() - started) * 1000), "error": None}
        except ConnectionLost as exc:
            raise ConnectionLost(f"lost the connection to the database during {m.version} "
                                 f"({'applying' if direction == 'up' else 'rolling back'} it): {exc}") from exc
        except MigrationFailed as exc:
            error = exc.error if exc.location else f"{exc.error} ({located(exc, m.path) or m.path})"
            exc = MigrationFailed(m.version, self.config.mask(error),
                                  self.config.mask(exc.statement) if exc.statement else None, location=True)
            elapsed = int((time.perf_counter() - started) * 1000)
            if (direction == "up" or not self.db.is_atomic(m)) and not await self._applied_elsewhere(m):
                record.status, record.error, record.execution_ms = FAILED, str(exc), elapsed
                await self.db.record_failure(record)
            log.error("%s", exc)
            await self._audit("migrate" if direction == "up" else "rollback", m.version, "failed", exc.error)
            self._hook("ncm_on_failure", migration=m, direction=direction, error=exc)
            return {"version": m.version, "description": m.description, "status": FAILED,
                    "duration_ms": elapsed, "error": exc.error, "statement": exc.statement}
        elapsed = int((time.perf_counter() - started) * 1000)
        status = APPLIED if direction == "up" else "reverted"
        result = {"version": m.version, "description": m.description, "status": status, "duration_ms": elapsed}
        log.info("%s %s in %d ms", status, m.version, elapsed)
        await self._audit("migrate" if direction == "up" else "rollback", m.version, "ok", None)
        self._hook("ncm_after_migration", migration=m, direction=direction, result=result)
        return result

    async def _mark_running(self, m: Migration, record: HistoryRecord, direction: str,
                            resume: HistoryRecord | None) -> None:
        """Say, before the first statement of a step the database cannot roll back, that it is
        under way: if this process dies, the record is what tells the next run. Where the
        backend can resume the step, its journal starts at what an interrupted run completed."""
        journaled = direction == "up" and isinstance(self.db, SupportsResume) and self.db.resumable(m)
        done = resume.statements_done if resume is not None and resume.status == RUNNING else None
        record.status = RUNNING if direction == "up" else REVERTING
        record.runner, record.statements_done = this_runner(), (done or 0) if journaled else None
        await self.db.write_history(record)
        record.status = APPLIED

    async def _applied_elsewhere(self, m: Migration) -> bool:
        """Whether the history already says ``m`` is applied: a failure must never overwrite that
        (it would only happen if another runner applied it meanwhile, which the lock prevents)."""
        current = next((r for r in await self.db.read_history() if r.version == m.version), None)
        if current is not None and current.status in (APPLIED, BASELINE):
            log.error("%s is recorded as %s; its failure here is not recorded over it", m.version, current.status)
            return True
        return False

    def _refuse_interrupted(self, plan: list[Migration], history: dict[str, HistoryRecord]) -> None:
        """An interrupted step runs again only where the backend can resume it where it
        stopped; otherwise one line says how to recover, and nothing runs."""
        planned = {m.version: m for m in plan}
        for record in history.values():
            if record.status not in UNFINISHED:
                continue
            m = planned.get(record.version)
            if (m is not None and record.status == RUNNING and record.checksum == m.checksum
                    and record.statements_done is not None
                    and isinstance(self.db, SupportsResume) and self.db.resumable(m)):
                log.warning("%s was interrupted after %d statement(s); resuming at the next one",
                            m.version, record.statements_done)
                continue
            if self._resumes_backfill(record):
                if m is not None:
                    log.warning("%s was interrupted during its backfill; resuming at its checkpoint", m.version)
                continue
            raise ValidationFailed(f"refusing to run: {interrupted(record)}")

    async def _refuse_claimed(self, plan: list[Migration]) -> None:
        """A backfill another process is running (``ncm backfill``, or a run's) is not run a
        second time: a run whose plan holds one is refused at once, nothing applied (exit 5),
        as it would wait hours for it; ``--defer-backfills`` leaves it to that process."""
        for m in plan:
            if m.backfills and isinstance(self.db, SupportsBackfill):
                holder = await self.db.backfill_claimant(m.version)
                if holder is not None:
                    raise BackfillClaimed(
                        f"refusing to run: {m.version} is being backfilled by {holder}; it and the migrations "
                        f"after it wait for it (`ncm status` shows its progress), or `ncm run --defer-backfills` "
                        f"applies the others now")

    @asynccontextmanager
    async def _claimed(self, m: Migration) -> AsyncIterator[None]:
        """The claim of ``m``'s backfill held for the block (once per runner: re-entrant), so
        that no other process runs it meanwhile; the block of a migration that does not
        backfill runs as it is. A claim held past ``lock_timeout`` is BackfillClaimed."""
        if not m.backfills or not isinstance(self.db, SupportsBackfill) or m.version in self._claims:
            yield
            return
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.db.backfill_claim(m.version, self.config.lock_timeout))
            except LockTimeout as exc:
                raise BackfillClaimed(str(exc)) from None
            self._claims.add(m.version)
            try:
                yield
            finally:
                self._claims.discard(m.version)

    def _resumes_backfill(self, record: HistoryRecord) -> bool:
        """Whether ``record`` is a backfill that stopped part way: it resumes at its checkpoint
        whenever it runs next, and a run that leaves it (``--defer-backfills``) is not refused."""
        m = self.graph.by_version.get(record.version) if self.graph is not None else None
        return m is not None and m.backfills and record.status == RUNNING and record.checksum == m.checksum

    def _backfill_plan(self, plan: list[Migration]) -> list[Migration]:
        """``plan`` without the migrations that backfill (``--defer-backfills``), or with only
        them (``ncm backfill``)."""
        options = self.backfill_options
        if options.only:
            return [m for m in plan if m.backfills]
        if options.defer:
            for m in plan:
                if m.backfills:
                    log.info("%s backfills: deferred to `ncm backfill`", m.version)
            return [m for m in plan if not m.backfills]
        return plan

    def _runnable(self, plan: list[Migration], direction: str) -> list[Migration]:
        """``plan``, once every step of it is known to exist and to suit the backend: a file
        that cannot run is refused before anything runs."""
        for m in plan:
            m.import_code()
            m.step(direction)
            if self.db.ASYNC_ONLY:
                m.require_async(direction, self.db.ASYNC_ONLY)
        return plan

    @staticmethod
    def _pending(graph: MigrationGraph, history: dict[str, HistoryRecord], target: Migration | None) -> list[Migration]:
        order = graph.order
        if target is not None:
            order = order[: order.index(target) + 1]
        return [m for m in order if m.version not in history or history[m.version].status == RUNNING
                or (m.repeatable and history[m.version].checksum != m.checksum)]

    def request_stop(self, signum: int) -> None:
        """Stop the run once its current step is done (and recorded): what SIGTERM and a first
        Ctrl-C ask of ``ncm run`` and ``ncm rollback``. A backfill stops after its current batch."""
        self.stop_requested = signum
        self.backfill_options.stop_requested = True

    async def outcome(self) -> str:
        """What the history says of the last run's plan, read afresh: after a stop, a lost
        connection or a cancelled step, this (not what the run printed) is what stuck."""
        if self.plan is None:
            return "no migration had started"
        direction, plan = self.plan
        try:
            history = await self.history()
        except Exception as exc:
            return f"could not read the history to say what stuck ({type(exc).__name__}); run `ncm status`"
        unfinished = [m.version for m in plan if m.version in history and history[m.version].status in UNFINISHED]
        if direction == "up":
            done = [m.version for m in plan if history.get(m.version) and history[m.version].status == APPLIED]
            rest = [m.version for m in plan if m.version not in done and m.version not in unfinished]
            parts = [f"applied: {', '.join(done) or 'none'}", f"not applied: {', '.join(rest) or 'none'}"]
        else:
            done = [m.version for m in plan if m.version not in history]
            rest = [m.version for m in plan if m.version in history and m.version not in unfinished]
            parts = [f"reverted: {', '.join(done) or 'none'}", f"still applied: {', '.join(rest) or 'none'}"]
        if unfinished:
            parts.append(f"interrupted part way: {', '.join(unfinished)} (see `ncm status`)")
        return "; ".join(parts)

    # -- offline SQL -----------------------------------------------------------------
    async def run_script(self, target_version: str | None = None, start: str | None = None) -> str:
        """``ncm run --sql``: the pending migrations (up to ``target_version``) as one SQL script
        to apply with the database's client. ``start`` ("base" or a version) says where the
        database is instead of reading it, so nothing connects; without it the history is read."""
        db, graph = self._scripting(), self.load()
        target = graph.resolve(target_version) if target_version is not None else None
        history, create_tables = await self._script_start(graph, start)
        plan = self._runnable(self._pending(graph, history, target), "up")
        steps = [(m, HistoryRecord(m.version, m.description, m.type, m.checksum)) for m in plan]
        return await db.script(steps, "up", create_tables)

    async def rollback_script(self, start: str | None = None, **selectors: Any) -> str:
        """``ncm rollback --sql``: what the rollback selectors (see ``ncm_core.rollback``) would
        revert, as one SQL script; ``start`` as for :meth:`run_script`."""
        db, graph = self._scripting(), self.load()
        history, _ = await self._script_start(graph, start)
        plan = self._runnable(rollback_plan(graph, history, **selectors), "down")
        return await db.script([(m, history[m.version]) for m in plan], "down", False)

    def _scripting(self) -> SupportsOfflineSQL:
        if self.backend is None:  # --from: the script is written without connecting
            self.backend = backend_class(self.config)(self.config)
        return require(self.backend, SupportsOfflineSQL, "write a migration plan as SQL (--sql)")

    async def _script_start(self, graph: MigrationGraph, start: str | None) -> tuple[dict[str, HistoryRecord], bool]:
        """The history the script starts from, and whether it must create ncm's tables."""
        if start is None:
            return await self.history(), not await self._scripting().has_history_tables()
        if start == "base":
            return {}, True
        upto = graph.order[: graph.order.index(graph.resolve(start)) + 1]
        return {m.version: HistoryRecord(m.version, m.description, m.type, m.checksum) for m in upto}, False

    # -- rolling back ----------------------------------------------------------------
    async def plan_rollback(self, version: str | None = None, steps: int | None = None, *, only: str | None = None,
                            to: str | None = None, all_: bool = False) -> list[Migration]:
        """What ``rollback_migration`` with these selectors would revert, newest first, read
        without the lock: for printing the plan (and asking) before anything runs."""
        return rollback_plan(self.load(), await self.history(), version=version, only=only, to=to,
                             all_=all_, steps=steps)

    async def rollback_migration(self, version: str | None = None, steps: int | None = None, *,
                                 only: str | None = None, to: str | None = None, all_: bool = False,
                                 dry_run: bool = False, expected: list[str] | None = None) -> list[dict[str, Any]]:
        """Revert ``version`` and every migration applied after it, newest first (the other
        selectors: see :func:`ncm_core.rollback.rollback_plan`). ``expected``: the versions of
        the plan the user was shown; when the history changed since and the plan rebuilt under
        the lock differs, nothing is reverted (ValidationFailed)."""
        selectors = {"version": version, "only": only, "to": to, "all_": all_, "steps": steps}
        graph = self.load()
        if dry_run:
            plan = self._runnable(rollback_plan(graph, await self.history(), **selectors), "down")
            async with self.db.dry_run_scope():
                return [{"version": m.version, "description": m.description, "status": "dry-run",
                         "statements": await self.db.dry_run(m, "down")} for m in plan]
        async with self.db.lock():
            history = await self.history()
            plan = rollback_plan(graph, history, **selectors)
            if expected is not None and [m.version for m in plan] != expected:
                raise ValidationFailed(
                    "the history changed since the plan was printed (another runner?): the plan is now "
                    f"{', '.join(m.version for m in plan) or 'empty'}, not {', '.join(expected) or 'empty'}; "
                    "nothing was reverted, run the rollback again to see the new plan")
            if not self._runnable(plan, "down"):
                return []
            self.plan = ("down", plan)
            self._hook("ncm_before_run", plan=plan, direction="down")
            results: list[dict[str, Any]] = []
            try:
                async with self.db.run_scope():
                    await self._revert_plan(plan, results, history)
            finally:
                self._hook("ncm_after_run", results=results, direction="down")
        return results

    async def _revert_plan(self, plan: list[Migration], results: list[dict[str, Any]],
                           history: dict[str, HistoryRecord]) -> None:
        """Each down step in turn; the first failure stops the rollback. A failed record of a
        migration the database rolled back whole has nothing to undo: it is cleared."""
        for m in plan:
            if history[m.version].status == FAILED and self.db.is_atomic(m):
                await self.db.delete_history(m.version)
                results.append({"version": m.version, "description": m.description,
                                "status": "cleared", "duration_ms": 0})
                continue
            if self.stop_requested is not None:
                return
            result = await self._step(m, "down")
            results.append(result)
            if result["status"] == FAILED:
                return

    # -- backing up ------------------------------------------------------------------
    async def backup_database(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Back the whole database up; return the manifest (as a dict) and its ``location``.

        No path: a new name in the configured backup store. A bare name
        (``"backup_20240101.sql"``): that name in the store. A path with a directory: that
        file, with its manifest next to it. Taken under the migration lock, so a backup
        never catches a run half-way.
        """
        require(self.db, SupportsBackup, "back up")
        async with self.db.lock():
            return await self._backup(path)

    async def _backup(self, path: str | os.PathLike[str] | None) -> dict[str, Any]:
        try:
            manifest, where = await backup.create_backup(self.db, self.config, path, await self._history_head())
        except BackupError as exc:
            await self._audit("backup", None, "failed", str(exc))
            raise
        log.info("backup written to %s", where)
        await self._audit("backup", manifest.history_head, "ok", where)
        return {**manifest.as_dict(), "location": where}

    async def _history_head(self) -> str | None:
        applied = [r for r in await self.db.read_history() if r.status in (APPLIED, BASELINE)]
        return max(applied, key=lambda r: (r.applied_at, r.version)).version if applied else None

    async def restore_database(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Replace the database's contents, history included, with a backup's.

        The whole archive is checked first (sha256 against its manifest; with encryption,
        every chunk's authentication): a damaged file or a wrong key is a BackupError and
        the database is left as it was. ``path`` is resolved as in :meth:`backup_database`.
        """
        require(self.db, SupportsBackup, "restore backups")
        verified = await backup.verify_backup(self.db, self.config, path)
        async with self.db.lock():
            await backup.restore_verified(self.db, self.config, verified)
            await self._audit("restore", verified.manifest.history_head, "ok", f"from {verified.where}")
        return {**verified.manifest.as_dict(), "location": verified.where}

    async def list_backups(self) -> list[dict[str, Any]]:
        """Every backup in the configured store (manifest and location), newest first."""
        return [{**m.as_dict(), "location": where} for m, where in backup.list_backups(self.config)]

    # -- inspecting ------------------------------------------------------------------
    async def get_status(self) -> dict[str, Any]:
        """Every migration's state: ``pending``, ``applied``, ``baseline``, ``changed`` (edited
        since), ``failed``, ``missing`` (no file), ``in progress`` (a run holding the lock is
        on it: its record says so, or the lock does; a backfill stopped part way, which resumes at its
        checkpoint), ``deferred`` (a backfill left by ``--defer-backfills``) or ``interrupted`` (its
        runner died part way: ``recovery`` says what to do). ``backfill``: rows done, rate, ETA."""
        graph = self.load()
        snapshot = await self.snapshot()
        history = {r.version: r for r in snapshot.records}
        unfinished = "in progress" if snapshot.lock_holder else "interrupted"
        under_way = snapshot.noted_step
        checkpoints = await self._checkpoints(graph, history)
        rows = []
        for m in graph.order:
            record = history.get(m.version)
            state = "pending" if record is None else record.status
            if m.version == under_way or (record is not None and self._resumes_backfill(record)):
                state = "in progress"
            elif record is None and m.backfills and any(v in history for v in self._after(graph, m)):
                state = "deferred"  # left by --defer-backfills: later migrations were applied
            elif record is not None and m.repeatable and record.checksum != m.checksum:
                state = "pending"
            elif record is not None and record.status in (APPLIED, BASELINE) and record.checksum != m.checksum:
                state = "changed"
            elif record is not None and record.status in UNFINISHED:
                state = unfinished
            rows.append({"version": m.version, "description": m.description, "type": m.type, "state": state,
                         "applied_at": record.applied_at.isoformat() if record else None,
                         "applied_by": record.applied_by if record else None,
                         "execution_ms": record.execution_ms if record else None,
                         "error": record.error if record else None,
                         "runner": record.runner if record else None,
                         "statements_done": record.statements_done if record else None,
                         "recovery": interrupted(record) if state == "interrupted" else None,
                         "backfill": self._backfill_status(checkpoints, m.version)})
        known = set(graph.by_version)
        rows += [{"version": v, "description": r.description, "type": r.type, "state": "missing",
                  "applied_at": r.applied_at.isoformat(), "applied_by": r.applied_by,
                  "execution_ms": r.execution_ms, "error": r.error, "runner": r.runner,
                  "statements_done": r.statements_done, "recovery": None, "backfill": None}
                 for v, r in history.items() if v not in known]
        applied = [r["version"] for r in rows if r["state"] in (APPLIED, BASELINE, "changed")]
        return {"database": self.config.safe_url, "backend": snapshot.backend,
                "current": applied[-1] if applied else None,
                "pending": sum(r["state"] in ("pending", "deferred") for r in rows),
                "failed": sum(r["state"] == FAILED for r in rows), "migrations": rows,
                "lock_holder": snapshot.lock_holder}

    @staticmethod
    def _after(graph: MigrationGraph, m: Migration) -> list[str]:
        return [later.version for later in graph.order[graph.order.index(m) + 1:]]

    async def _checkpoints(self, graph: MigrationGraph, history: dict[str, HistoryRecord]) -> dict[str, list[Any]]:
        """The checkpoints of the backfills not applied yet, by version: read (with the backend)
        only when there are such migrations, so that status stays light without them."""
        open_ = {m.version for m in graph.order if m.backfills
                 and (m.version not in history or history[m.version].status in UNFINISHED)}
        if not open_:
            return {}
        if self.backend is None:
            await self.initialize()
        if not isinstance(self.db, SupportsBackfill):
            return {}
        found: dict[str, list[Any]] = {}
        for point in await self.db.read_backfills():
            if point.version in open_:
                found.setdefault(point.version, []).append(point)
        for version in found:
            self._workers[version] = await self.db.backfill_claimant(version)
        return found

    def _backfill_status(self, checkpoints: dict[str, list[Any]], version: str) -> dict[str, Any] | None:
        """A migration's backfill as status shows it: rows done, rate and ETA summed over its
        backfills (one per table it walks), each also listed, and the process working on it
        (the holder of its claim; None when none is: it resumes at its checkpoint next time)."""
        points = checkpoints.get(version)
        if not points:
            return None
        parts = [p.as_status() for p in points]
        done = sum(p.rows_done for p in points)
        totals = [p.rows_total for p in points]
        seconds = sum(p.seconds for p in points)
        rate = done / seconds if seconds > 0 and done else None
        total = sum(totals) if None not in totals else None
        eta = (total - done) / rate if rate and total is not None else None
        return {"rows_done": done, "rows_total": total, "rate": round(rate, 1) if rate else None,
                "eta_seconds": round(max(eta, 0), 1) if eta is not None else None, "tables": parts,
                "worker": self._workers.get(version)}

    async def snapshot(self) -> HistorySnapshot:
        """The history, who holds the lock and the step a run noted. Before a connection is
        made, the backend's history reader is asked first (``ncm status`` without importing
        the backend's libraries); it leaves anything it is unsure of to the backend."""
        if self.backend is None:
            if (light := await read_light(self.config)) is not None:
                return light
            await self.initialize()
        holder = await self.lock_holder()
        noted = await self.db.noted_step() if holder and isinstance(self.db, SupportsStepNote) else None
        return HistorySnapshot(self.db.PLUGIN_NAME, await self.db.read_history(), holder, noted)

    async def current_heads(self) -> list[str]:
        """The applied head(s), as Alembic's ``current``: the applied migrations that no other
        applied migration comes after (one per branch)."""
        records = (await self.snapshot()).records
        return self.load().applied_heads({r.version for r in records if r.status in (APPLIED, BASELINE)})

    async def lock_holder(self) -> str | None:
        """Who holds the migration lock, where the backend can tell; None when free or unknown."""
        return await self.db.lock_holder() if isinstance(self.db, SupportsLockHolder) else None

    async def unlock(self) -> str | None:
        """Break the migration lock (``ncm unlock``); who held it, or None if it was free.
        A holder that is a live process of this host is refused: stop it instead."""
        unlocking = require(self.db, SupportsUnlock, "break a lock (its holder is alive as long as it is held)")
        holder = await self.lock_holder()
        if holder is not None and (here := re.search(r"\bpid (\d+) on (\S+)", holder)):
            pid, host = int(here.group(1)), here.group(2)
            if host == socket.gethostname() and not dead_here(host, pid):
                raise UsageError(f"the migration lock is held by {holder}, a live process of this host: "
                                 f"stop it (kill {pid}) rather than break its lock")
        held_by = await unlocking.break_lock()
        if held_by is not None:
            await self._audit("unlock", None, "ok", f"broke the lock held by {held_by}")
        return held_by

    async def audit_log(self) -> list[AuditEntry]:
        return await require(self.db, SupportsAudit, "keep an audit log").read_audit()

    async def get_history(self) -> list[dict[str, Any]]:
        records = sorted((await self.history()).values(), key=lambda r: (r.applied_at, r.version))
        return [r.as_dict() for r in records]

    def problems(self, graph: MigrationGraph, history: dict[str, HistoryRecord]) -> list[Problem]:
        found: list[Problem] = []
        for cls in plugins.collect("ncm_register_validators").values():
            validator = cls()
            validator.config = self.config
            found.extend(validator.check(graph.order, history))
        return found

    @staticmethod
    def _warn_on_run(problems: list[Problem]) -> None:
        """The warnings of validators that ask for it (WARN_ON_RUN), one line each on stderr."""
        validators = plugins.collect("ncm_register_validators")
        for p in problems:
            if p.severity == WARNING and getattr(validators.get(p.validator), "WARN_ON_RUN", False):
                log.warning("[%s] %s", p.validator, p.message)

    async def validation_problems(self, reload: bool = True) -> list[Problem]:
        """What the validators find, every file imported first (but those the import cache
        knows to import as they are): a migration that cannot be imported is found here,
        before a run would reach it. ``reload=False``: the files as the last ``load`` read
        them (``ncm validate`` has just read them)."""
        graph = self.graph if not reload and self.graph is not None else self.load()
        directory = Path(self.config.migration_directory)
        cache = ImportCache(directory)
        for m in graph.order:
            if m.deferred and not cache.known(m.path.name, m.checksum):
                m.import_code()
                cache.add(m.path.name, m.checksum)
        cache.save({m.path.name for m in graph.order})
        return self.problems(graph, {r.version: r for r in (await self.snapshot()).records})

    async def validate_migrations(self) -> bool:
        """True when no validator reports an error (warnings are allowed)."""
        return not any(p.severity == ERROR for p in await self.validation_problems())

    @staticmethod
    def _raise_on_errors(problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            more = f" (and {len(errors) - 1} more; see ncm validate)" if len(errors) > 1 else ""
            raise ValidationFailed(f"refusing to run: {errors[0].message}{more}")

    # -- repairing -------------------------------------------------------------------
    async def repair(self, mark_applied: str | None = None, mark_pending: str | None = None) -> list[dict[str, str]]:
        """Mend the history. With no choice: clear failed records and accept the current
        checksum of edited applied migrations. ``mark_applied``: record an interrupted or failed
        migration as applied (you finished it by hand). ``mark_pending``: remove its record
        (you undid it by hand). Each change is audited, and ncm.sum is rewritten to the files
        as they are: repairing is accepting them."""
        if mark_applied is not None and mark_pending is not None:
            raise UsageError("repair takes one of --mark-applied or --mark-pending, not both")
        graph = self.load()
        async with self.db.lock():
            history = await self.history()
            if mark_applied is not None or mark_pending is not None:
                actions = [await self._mark(graph, history, mark_applied or mark_pending, mark_applied is not None)]
            else:
                actions = await self._repair_records(graph, history)
            await self._audit("repair", None, "ok", "; ".join(f"{a['version']}: {a['action']}" for a in actions)
                              or "nothing to repair")
        sumfile.write(Path(self.config.migration_directory))
        return actions

    async def _mark(self, graph: MigrationGraph, history: dict[str, HistoryRecord], version: str,
                    applied: bool) -> dict[str, str]:
        m = graph.resolve(version)
        record = history.get(m.version)
        if record is None or record.status not in (*UNFINISHED, FAILED):
            state = "pending" if record is None else record.status
            raise UsageError(f"{m.version} is {state}: --mark-applied and --mark-pending are for an "
                             "interrupted or failed migration")
        if not applied:
            await self.db.delete_history(m.version)
            return {"version": m.version, "action": f"marked pending (was {record.status})"}
        await self.db.write_history(HistoryRecord(m.version, m.description, m.type, m.checksum,
                                                  runner=record.runner, statements_done=record.statements_done))
        return {"version": m.version, "action": f"marked applied (was {record.status})"}

    async def _repair_records(self, graph: MigrationGraph, history: dict[str, HistoryRecord]) -> list[dict[str, str]]:
        actions = []
        for version, record in history.items():
            m = graph.by_version.get(version)
            if record.status == FAILED:
                await self.db.delete_history(version)
                actions.append({"version": version, "action": "removed failed record"})
            elif record.status in UNFINISHED:
                actions.append({"version": version, "action": "left as it is: it was interrupted; choose "
                                f"--mark-applied {version} or --mark-pending {version}"})
            elif m is not None and record.checksum != m.checksum:
                record.checksum = m.checksum
                await self.db.write_history(record)
                actions.append({"version": version, "action": "accepted new checksum"})
        return actions

    # -- creating --------------------------------------------------------------------
    async def create_migration(self, description: str, type: MigrationType | str = MigrationType.SCHEMA,
                               autogenerate: bool = False, metadata: str | None = None, empty: bool = False,
                               format: str = "python") -> str:
        """Write a new migration file from the type's template; return its version (the file
        is then ``self.created``).

        With ``autogenerate``, its steps are those that bring the live database to the models
        (``metadata``, else ``target_metadata``); when there are none, nothing is written
        unless ``empty``. In a project with Alembic revisions, the file depends on the heads.
        ``format`` names the migration format whose file is written (``sql``: a SQL file with
        ``-- migrate:up`` / ``-- migrate:down`` sections, from the type's ``.sql.tmpl``).
        """
        name = type.value if isinstance(type, MigrationType) else str(type)
        kinds = plugins.collect("ncm_register_migration_types")
        if name not in kinds:
            raise UsageError(f"unknown migration type {name!r} (known: {', '.join(kinds)})")
        fmt = _creating_format(format)
        slug = re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")[:60]
        if not slug:
            raise UsageError("a migration needs a description with at least one letter or digit")
        if empty and not autogenerate:
            raise UsageError("--empty goes with --autogenerate: without it, the new file is the template")
        if autogenerate and fmt.creates != ".py":
            raise UsageError(f"--autogenerate writes Python steps; leave out --format {format}")
        backend = self.backend or backend_class(self.config)
        directory = Path(self.config.migration_directory)
        self._readable_sum(directory)
        with _creating(directory):
            directory.mkdir(parents=True, exist_ok=True)
        template = kinds[name]().template(backend, fmt.creates)
        steps = await self._generated_steps(template, metadata, empty) if autogenerate else None
        graph = self.load()
        heads = graph.heads() if any(m.alembic for m in graph.order) else []
        moment = datetime.now(timezone.utc)
        while True:
            version = f"{moment:%Y%m%d_%H%M%S}_{slug}"
            path = directory / f"{version}{fmt.creates}"
            if not any(directory.glob(f"{moment:%Y%m%d_%H%M%S}_*")):
                break
            moment = moment.fromtimestamp(moment.timestamp() + 1, timezone.utc)
        text = kinds[name]().render(backend, fmt.creates, description=fmt.describe(description), version=version,
                                    created=f"{moment:%Y-%m-%d %H:%M:%S} UTC")
        text = filling.with_steps(text, steps) if steps is not None else text
        with _creating(path):
            path.write_text(fmt.with_dependencies(text, heads) if heads else text, encoding="utf-8")
        sumfile.add(directory, path)
        self.created = path
        return version

    @staticmethod
    def _readable_sum(directory: Path) -> None:
        """A new migration goes into ncm.sum: one left with a merge conflict is resolved first."""
        try:
            sumfile.read(directory)
        except sumfile.SumFileError as exc:
            raise sumfile.SumFileError(f"{exc}: resolve it first (after a merge: check the order of the "
                                       "migrations both sides added, then `ncm hash`)") from None

    async def _generated_steps(self, template: str, metadata: str | None, empty: bool) -> GeneratedSteps | None:
        ref = filling.metadata_reference(self.db, metadata)
        pending = self._pending(self.load(), await self.history(), None)
        if pending:
            raise UsageError(f"the database is not up to date ({len(pending)} pending, first {pending[0].version}): "
                             "run `ncm run` first, or the new migration would repeat them")
        steps = await require(self.db, SupportsModels, "autogenerate migrations from models").autogenerate(ref)
        if not filling.uses_alembic_op(template):
            raise UsageError("--autogenerate writes Alembic operations, and this type's template does not use "
                             "them; use --type schema")
        if steps is None and not empty:
            raise UsageError(f"nothing to generate: the database already matches {ref} "
                             "(pass --empty to write the file anyway)")
        return steps

    # -- models and adoption ---------------------------------------------------------
    async def drift(self, metadata: str | None = None) -> list[str]:
        """Differences between the live schema and the models (``metadata``, else
        ``target_metadata``), one line each; empty when they agree."""
        models = require(self.db, SupportsModels, "compare the schema with models (drift)")
        return await models.drift(filling.metadata_reference(self.db, metadata))

    async def baseline(self, version: str | None = None, from_alembic: bool = False, from_flyway: bool = False,
                       from_golang_migrate: bool = False) -> list[dict[str, Any]]:
        """Record migrations as applied (status ``baseline``) without running anything.

        ``from_alembic``: the revisions in Alembic's ``alembic_version`` and all their
        ancestors; ``from_flyway``: the versions Flyway's ``flyway_schema_history`` counts as
        applied; ``from_golang_migrate``: the version in golang-migrate's ``schema_migrations``
        and all before it. ``version``: what ``run --target-version`` would apply, for a database
        brought up by other means. Versions already in the history are left as they are.
        """
        given = [version is not None, from_alembic, from_flyway, from_golang_migrate]
        if given.count(True) != 1:
            raise UsageError("baseline needs exactly one of --version, --from-alembic, --from-flyway "
                             "or --from-golang-migrate")
        graph = self.load()
        async with self.db.lock():
            history = await self.history()
            chosen, heads, source = await self._adopted(graph, version, from_alembic, from_flyway)
            plan = [m for m in graph.order if m.version in chosen and m.version not in history]
            async with self.db.run_scope():
                for m in plan:
                    await self.db.write_history(HistoryRecord(m.version, m.description, m.type, m.checksum,
                                                              status=BASELINE))
                await self._audit("baseline", heads[0].version if len(heads) == 1 else None, "ok",
                                  f"{len(plan)} recorded as applied from {source}")
        return [{"version": m.version, "description": m.description, "status": BASELINE} for m in plan]

    async def _adopted(self, graph: MigrationGraph, version: str | None, from_alembic: bool,
                       from_flyway: bool) -> tuple[set[str], list[Migration], str]:
        """What ``baseline`` records (versions), the migrations it names as its target, and
        where it read them (for the audit log); golang-migrate's when no other source is given."""
        directory = Path(self.config.migration_directory)
        if from_alembic:
            adopting = require(self.db, SupportsAlembicAdoption, "adopt an Alembic database")
            heads = [self._alembic_revision(graph, h) for h in await adopting.alembic_heads()]
            chosen = set().union(*(graph.ancestors(h.version) | {h.version} for h in heads))
            return chosen, heads, "alembic_version at " + ", ".join(h.version for h in heads)
        if from_flyway:
            flyway = await require(self.db, SupportsFlywayAdoption, "adopt a Flyway database").flyway_history()
            heads = adoption.flyway_migrations(graph, flyway, directory)
            return {m.version for m in heads}, heads, "flyway_schema_history"
        if version is not None:
            target = graph.resolve(version)
            source = f"--version {target.version}"
        else:
            number = await require(self.db, SupportsGolangMigrateAdoption,
                                   "adopt a golang-migrate database").golang_migrate_version()
            target = adoption.golang_migrate_migration(graph, number, directory)
            source = f"schema_migrations at {number}"
        return {m.version for m in graph.order[: graph.order.index(target) + 1]}, [target], source

    def _alembic_revision(self, graph: MigrationGraph, revision: str) -> Migration:
        try:
            return graph.resolve(revision)
        except UsageError:
            raise UsageError(f"alembic_version is at {revision}, which is not a migration in "
                             f"{self.config.migration_directory}: point migration_directory at the "
                             "Alembic project's versions/ directory") from None

    # -- helpers ---------------------------------------------------------------------
    def _hook(self, name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook. A ``before_*`` hook that raises stops the work it precedes; an
        ``after_*`` or ``on_failure`` hook reports what already happened, so one that raises is
        a warning naming its plugin and the outcome stands (each implementation is called on
        its own, so one broken plugin does not silence the others)."""
        hook = getattr(plugins.plugin_manager().hook, name)
        if name.startswith("ncm_before_"):
            hook(runner=self, **kwargs)
            return
        arguments = {"runner": self, **kwargs}
        for impl in reversed(hook.get_hookimpls()):
            try:
                impl.function(*(arguments[a] for a in impl.argnames))
            except Exception as exc:
                log.warning("plugin %s: %s raised %s: %s; the %s's outcome stands", impl.plugin_name,
                            name, type(exc).__name__, exc, "migration" if "migration" in kwargs else "run")

    async def _audit(self, action: str, version: str | None, outcome: str, details: str | None) -> None:
        if self.config.audit_enabled:
            await require(self.db, SupportsAudit, "keep an audit log (audit_enabled)").write_audit(
                AuditEntry(action, version, outcome, details))
