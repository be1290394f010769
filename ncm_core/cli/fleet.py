"""``--targets``: a command over many databases (:mod:`ncm_core.fleet`), with its options,
each target's work, and the output: one line per finished target off a terminal, a live
summary on one, and a summary line (or ``--json``) at the end."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.cli.common import Globals, console, load, print_json

TargetsOption = Annotated[str | None, Parameter(
    help="run on these targets of [targets] (ncm.toml or targets.toml): comma-separated groups ('all', "
         "'canary', your own) or target names", group="Many databases")]
ParallelOption = Annotated[int, Parameter(help="with --targets: at most this many targets at once",
                                          group="Many databases")]
ShardOption = Annotated[str | None, Parameter(
    help="with --targets: only this slice, INDEX/COUNT (default: JOB_COMPLETION_INDEX/NCM_SHARD_COUNT when set)",
    group="Many databases")]
DEFAULT_PARALLEL = 4
WITHOUT_TARGETS = "goes with --targets"


def refuse_without_targets(**given: Any) -> None:
    """Fan-out options given without ``--targets``: a mistake to report, not to ignore."""
    from ncm_core.errors import UsageError

    for name, value in given.items():
        if value not in (None, False):
            raise UsageError(f"--{name.replace('_', '-')} {WITHOUT_TARGETS}")


async def chosen_targets(selector: str, shard: str | None) -> tuple[Any, list[Any]]:
    """The targets file, and the targets ``--targets`` and the shard name, tenants read."""
    from ncm_core.fleet import sources, targets

    found = targets.read_targets_file(Globals.config_file)
    everything = await sources.targets_of(found)
    picked = targets.select(everything, found.groups, selector)
    slice_ = targets.shard_of(shard, os.environ)
    return found, targets.shard(picked, *slice_) if slice_ is not None else picked


def fan_out(selector: str, work: Callable[[Any, Any], Awaitable[tuple[str, str, dict[str, Any]]]], *, parallel: int,
            shard: str | None, json_: bool, verb: str, canary: int = 0, max_failures: str | None = None,
            continue_on_error: bool = True, run_id: str | None = None, resume: str | None = None,
            journaled: bool = False, before: Callable[[list[Any]], None] | None = None,
            table: bool = False) -> list[Any]:
    """Run ``work`` on each chosen target and print what happened (with ``table``, one row
    per target in the file's order at the end, instead of a line as each finishes); the outcomes."""
    import asyncio

    from ncm_core.errors import UsageError
    from ncm_core.fleet import fanout, targets
    from ncm_core.fleet.journal import DEFAULT_JOURNAL, Journal, new_run_id

    if parallel < 1:
        raise UsageError(f"--parallel {parallel}: at least 1")

    async def go() -> list[Any]:
        found, chosen = await chosen_targets(selector, shard)
        journal = None
        if journaled:
            if resume is not None and run_id is not None and resume != run_id:
                raise UsageError("--resume RUN_ID names the run to go on with: give it or --run-id, not both")
            journal = Journal(Path(found.journal) if found.journal else DEFAULT_JOURNAL, resume or run_id or new_run_id())
            if resume is not None and not journal.exists():
                raise UsageError(f"--resume {resume}: the journal {journal.path} has no run {resume}")
        if before is not None:
            before(chosen)
        printer = _Printer(len(chosen), verb, quiet=json_, lines=not table)
        fan = fanout.FanOut(chosen, lambda t: load(**t.config_overrides()), work, parallel=parallel,
                            canary=targets.canary_first(chosen, found.groups, canary),
                            budget=targets.failure_budget(max_failures, len(chosen), continue_on_error),
                            journal=journal, report=printer.report)
        if journal is not None and not json_:
            sys.stderr.write(f"run {journal.run_id}: {len(chosen)} target(s), journal {journal.path}\n")
        with printer:
            outcomes = await fan.run()
        if json_:
            print_json({**({"run_id": journal.run_id} if journal else {}), "targets": [_as_json(o) for o in outcomes],
                        "summary": summary_counts(outcomes)})
            return outcomes
        if table:
            _print_rows(outcomes)
        printer.summary(outcomes)
        return outcomes

    return asyncio.run(go())


def _print_rows(outcomes: list[Any]) -> None:
    from rich.text import Text

    from ncm_core.cli.common import print_table

    colours = {"at head": "green", "pending": "yellow", "locked": "yellow"}
    print_table(["target", "state", "detail", "database"],
                [[o.target.name, Text(o.status, style=colours.get(o.status, "red")), o.detail, _shown_url(o.target)]
                 for o in outcomes])


def summary_counts(outcomes: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {"targets": len(outcomes)}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def _as_json(outcome: Any) -> dict[str, Any]:
    return {"name": outcome.target.name, "database": _shown_url(outcome.target), "status": outcome.status,
            "detail": outcome.detail, "seconds": round(outcome.seconds, 3), **outcome.data}


def _shown_url(target: Any) -> str:
    """The URL as written (``${VAR}`` unexpanded, any literal password masked)."""
    from ncm_core.masking import mask_url

    return mask_url(target.url_template.replace("{tenant}", target.tenant or "{tenant}"))


class _Printer:
    """Off a terminal, one line per finished target (cheap at 10,000 targets, greppable); on
    one, a live summary (done, failed, running, rate, time left) under the failures' lines."""

    def __init__(self, total: int, verb: str, quiet: bool, lines: bool = True) -> None:
        self.total, self.verb, self.quiet, self.lines = total, verb, quiet, lines
        self.finished: dict[str, int] = {}
        self.running = 0
        self.started = time.perf_counter()
        self.out = console()
        self.live: Any = None

    def __enter__(self) -> _Printer:
        if self.out.is_terminal and not self.quiet:
            from rich.live import Live

            self.live = Live(self._line(), console=self.out, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def report(self, event: str, outcome: Any) -> None:
        if event == "started":
            self.running += 1
        else:
            self.running -= event == "finished"
            self.finished[outcome.status] = self.finished.get(outcome.status, 0) + 1
            self._print(outcome)
        if self.live is not None:
            self.live.update(self._line())

    def _print(self, outcome: Any) -> None:
        from ncm_core.fleet.fanout import BAD

        if self.quiet or not self.lines or (self.live is not None and outcome.status not in BAD):
            return
        line = f"{outcome.status:<11}  {outcome.target.name}  {outcome.detail}  ({outcome.seconds:.1f} s)"
        if self.live is not None:
            self.live.console.print(line, markup=False, style="red")
        else:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def _line(self) -> str:
        done = sum(self.finished.values())
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", {(self.total - done) / rate:.0f} s left" if rate > 0 and done < self.total else ""
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.finished.items()))
        return (f"{self.verb}: {done}/{self.total} finished ({counts or 'none yet'}), {self.running} running, "
                f"{rate:.1f}/s{left}")

    def summary(self, outcomes: list[Any]) -> None:
        counts = summary_counts(outcomes)
        total = counts.pop("targets")
        parts = ", ".join(f"{n} {status}" for status, n in counts.items())
        self.out.print(f"{total} target(s): {parts or 'none'} in {time.perf_counter() - self.started:.1f} s",
                       markup=False)


def _failed_code(outcomes: list[Any], code: int) -> int:
    """``code`` when any target did not end well (failed, unreachable, locked, not started)."""
    from ncm_core.fleet.fanout import BAD, NOT_STARTED

    return code if any(o.status in BAD or o.status == NOT_STARTED for o in outcomes) else 0


def run_targets(selector: str, *, target_version: str | None, parallel: int, canary: int, max_failures: str | None,
                continue_on_error: bool, resume: str | None, run_id: str | None, shard: str | None,
                allow: tuple[str, ...], json_: bool) -> int:
    """``ncm run --targets``: each target's normal run (locked, audited), journaled."""
    from ncm_core.errors import MigrationFailed

    async def migrate(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        if await runner.up_to_date(target_version):
            return "done", "up to date", {"applied": 0}
        await runner.initialize()
        results = await runner.run_migrations(target_version=target_version, allow=allow)
        applied = sum(r["status"] == "applied" for r in results)
        failed = [r for r in results if r["status"] == "failed"]
        if failed:
            return "failed", f"{applied} applied, then {failed[0]['version']} failed: {failed[0]['error']}", \
                {"applied": applied, "failed_version": failed[0]["version"]}
        if runner.stop_requested is not None and runner.plan is not None and applied < len(runner.plan[1]):
            return "stopped", f"{applied} applied, then stopped by a signal", {"applied": applied}
        return "done", f"{applied} applied" if applied else "up to date", {"applied": applied}

    outcomes = fan_out(selector, migrate, parallel=parallel, shard=shard, json_=json_, verb="run", canary=canary,
                       max_failures=max_failures, continue_on_error=continue_on_error, run_id=run_id,
                       resume=resume, journaled=True)
    return _failed_code(outcomes, MigrationFailed.exit_code)


def status_targets(selector: str, *, parallel: int, shard: str | None, exit_code: bool, json_: bool) -> int:
    """``ncm status --targets``: one row per target, at head, pending N, failed V, locked by
    someone or unreachable; exit 4 when one is unreachable (with --exit-code, 1 on a failed
    target, 3 on a pending one)."""
    from ncm_core.errors import DatabaseUnavailable, MigrationFailed, ValidationFailed
    from ncm_core.fleet.fanout import FAILED, UNREACHABLE

    async def state_of(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        state = await runner.get_status()
        data = {"current": state["current"], "pending": state["pending"], "failed": state["failed"],
                "lock_holder": state["lock_holder"]}
        broken = [m["version"] for m in state["migrations"] if m["state"] in ("failed", "interrupted")]
        behind = [m for m in state["migrations"] if m["state"] not in ("applied", "baseline")]
        if state["lock_holder"]:
            return "locked", f"locked by {state['lock_holder']}", data
        if broken:
            return FAILED, f"failed {', '.join(broken)}", data
        if behind:
            return "pending", f"pending {len(behind)}", data
        return "at head", f"at {state['current'] or '(no migrations)'}", data

    outcomes = fan_out(selector, state_of, parallel=parallel, shard=shard, json_=json_, verb="status", table=True)
    found = {o.status for o in outcomes}
    if UNREACHABLE in found:
        return DatabaseUnavailable.exit_code
    if not exit_code:
        return 0
    if FAILED in found:
        return MigrationFailed.exit_code
    return ValidationFailed.exit_code if found - {"at head"} else 0


def validate_targets(selector: str, *, parallel: int, shard: str | None, json_: bool) -> int:
    """``ncm validate --targets``: each target's files, checksums and history; exit 3 if any is invalid."""
    from ncm_core.errors import ValidationFailed

    async def check(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        await runner.initialize()
        problems = await runner.validation_problems()
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            return "invalid", f"{len(errors)} error(s): [{errors[0].validator}] {errors[0].message}", \
                {"errors": len(errors)}
        return "valid", f"{len(runner.graph.order)} migration(s) checked", {"errors": 0}

    outcomes = fan_out(selector, check, parallel=parallel, shard=shard, json_=json_, verb="validate")
    return ValidationFailed.exit_code if any(o.status != "valid" for o in outcomes) else 0


def backup_targets(selector: str, *, parallel: int, shard: str | None, json_: bool) -> int:
    """``ncm backup --targets``: a backup of each target into its configured store."""
    from ncm_core.errors import BackupError

    from datetime import UTC, datetime

    from ncm_core.backup import ARCHIVE_SUFFIX

    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")

    async def back_up(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        await runner.initialize()
        made = await runner.backup_database(f"backup_{target.name.replace('/', '_')}_{stamp}{ARCHIVE_SUFFIX}")
        return "done", f"backup written to {made['location']}", {"location": made["location"]}

    outcomes = fan_out(selector, back_up, parallel=parallel, shard=shard, json_=json_, verb="backup")
    return _failed_code(outcomes, BackupError.exit_code)


def rollback_targets(selector: str, selectors: dict[str, Any], *, yes: bool, parallel: int, shard: str | None,
                     max_failures: str | None, continue_on_error: bool, json_: bool) -> int:
    """``ncm rollback --targets``: the same selector reverted on each target, once a person
    has confirmed it for the targets listed (or --yes); journaled like a run."""
    from ncm_core.errors import MigrationFailed

    async def revert(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        await runner.initialize()
        plan = await runner.plan_rollback(**selectors)
        if not plan:
            return "done", "nothing to roll back", {"reverted": 0}
        results = await runner.rollback_migration(**selectors, expected=[m.version for m in plan])
        failed = [r for r in results if r["status"] == "failed"]
        reverted = sum(r["status"] == "reverted" for r in results)
        if failed:
            return "failed", f"{reverted} reverted, then {failed[0]['version']} failed: {failed[0]['error']}", \
                {"reverted": reverted}
        return "done", f"{reverted} reverted", {"reverted": reverted}

    def confirm(chosen: list[Any]) -> None:
        if not yes:
            _confirm_fleet_rollback(chosen)

    outcomes = fan_out(selector, revert, parallel=parallel, shard=shard, json_=json_, verb="rollback",
                       max_failures=max_failures, continue_on_error=continue_on_error, journaled=True,
                       before=confirm)
    return _failed_code(outcomes, MigrationFailed.exit_code)


def _confirm_fleet_rollback(chosen: list[Any]) -> None:
    """Reverting many databases at once: a person says yes to the list, or --yes does."""
    from ncm_core.errors import UsageError

    names = ", ".join(t.name for t in chosen[:5]) + (f" and {len(chosen) - 5} more" if len(chosen) > 5 else "")
    if not sys.stdin.isatty():
        raise UsageError(f"rollback on {len(chosen)} target(s) ({names}): run it on a terminal to confirm, "
                         "or pass --yes")
    answer = input(f"revert on {len(chosen)} target(s) ({names})? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("rollback cancelled: nothing was reverted")


def lint_targets(selector: str, *, warnings_as_errors: bool, parallel: int, shard: str | None, json_: bool) -> int:
    """``ncm lint --targets``: each target's pending migrations against its own live schema;
    exit 3 when any target has a blocking finding."""
    from ncm_core.errors import ValidationFailed

    async def lint_one(target: Any, runner: Any) -> tuple[str, str, dict[str, Any]]:
        from ncm_core.lint import run

        report = await run.lint_selected(runner, [], None, False, False)
        blocking = report.blocking(warnings_as_errors)
        counts = report.counts()
        if blocking:
            first = blocking[0]
            return "blocked", f"{len(blocking)} blocking: {first.code} {first.version}: {first.message}", counts
        return "clean", ", ".join(f"{n} {level}" for level, n in counts.items() if n) or "no findings", counts

    outcomes = fan_out(selector, lint_one, parallel=parallel, shard=shard, json_=json_, verb="lint")
    return ValidationFailed.exit_code if any(o.status != "clean" for o in outcomes) else 0
