"""``ncm run`` and ``ncm rollback``, the commands that apply or revert steps, and ``ncm
repair``, which mends the history they left behind; with the live progress they print."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.backfill import DEFAULT_TARGET_MS
from ncm_core.cli import fleet
from ncm_core.cli.backfilling import BatchPause, BatchSize, BatchTarget, options
from ncm_core.cli.common import JsonFlag, console, print_json, say, with_runner
from ncm_core.errors import MigrationFailed, UsageError
from ncm_core.hookspecs import hookimpl

SqlFlag = Annotated[bool, Parameter(
    help="write the plan as one SQL script to stdout (statements, history rows, transactions) "
         "instead of applying it", negative="")]
FromFlag = Annotated[str | None, Parameter(
    name="--from", help="with --sql: the database is at this version (or 'base': empty), so "
                        "nothing connects")]


class _Reporter:
    """Prints each step as it happens, through the same lifecycle hooks plugins use: colour on
    a terminal, plain lines (cheap for thousands of steps) in logs and pipes."""

    def __init__(self) -> None:
        self.console = console(stderr=True) if sys.stderr.isatty() else None

    def _line(self, colour: str, verb: str, text: str) -> None:
        if self.console is None:
            sys.stderr.write(f"{verb} {text}\n")
        else:
            from rich.markup import escape

            self.console.print(f"[{colour}]{verb}[/] {escape(text)}")

    @hookimpl
    def ncm_after_migration(self, migration: Any, direction: str, result: dict[str, Any]) -> None:
        verb = "applied " if direction == "up" else "reverted"
        self._line("green", verb, f"{migration.version}  {result['duration_ms']} ms")

    @hookimpl
    def ncm_on_failure(self, migration: Any, direction: str, error: Exception) -> None:
        self._line("red", "failed  ", f"{migration.version}: {error}")


def _reporting(fn: Callable[[], int], quiet: bool) -> int:
    if quiet:
        return fn()
    from ncm_core import plugins

    reporter = _Reporter()
    pm = plugins.plugin_manager()
    pm.register(reporter, name="ncm-cli-reporter")
    try:
        return fn()
    finally:
        pm.unregister(reporter)


def _failed(results: list[dict[str, Any]]) -> bool:
    return any(r["status"] == "failed" for r in results)


def _print_statements(results: list[dict[str, Any]]) -> None:
    """A dry run's statements, each migration under a comment naming it."""
    out = console()
    for r in results:
        out.print(f"[bold]-- {r['version']}[/]: {r['description']}")
        for stmt in r["statements"] or ["-- (no statements)"]:
            out.print(stmt if stmt.startswith("--") else f"{stmt};", markup=False)


def run(
    *,
    target_version: Annotated[str | None, Parameter(help="apply up to and including this version")] = None,
    dry_run: Annotated[bool, Parameter(help="print the SQL each pending migration would run", negative="")] = False,
    database: Annotated[str | None, Parameter(help="expected database type (postgresql, mysql, sqlite, mongodb)")] = None,
    sql: SqlFlag = False,
    from_: FromFlag = None,
    allow: Annotated[list[str] | None, Parameter(
        help="where lint on run is on ([lint] on_run, production by default): run despite this code's "
             "error-level findings, once reviewed (repeat for several; the audit log records it)")] = None,
    defer_backfills: Annotated[bool, Parameter(
        help="apply the other migrations and leave those that backfill (ctx.backfill) pending, for "
             "`ncm backfill`", negative="")] = False,
    batch_size: BatchSize = None,
    batch_pause: BatchPause = 0.0,
    batch_target: BatchTarget = DEFAULT_TARGET_MS,
    json_: JsonFlag = False,
    targets: fleet.TargetsOption = None,
    parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL,
    canary: Annotated[int, Parameter(help="with --targets: run the first K canary targets (the 'canary' group, "
                                          "else the first K) before any other; a failure there stops the run",
                                     group="Many databases")] = 0,
    max_failures: Annotated[str | None, Parameter(
        help="with --targets: start no new target once this many have failed (a number, or a percentage such "
             "as 5%); default 1", group="Many databases")] = None,
    continue_on_error: Annotated[bool, Parameter(help="with --targets: go on whatever fails", negative="",
                                                 group="Many databases")] = False,
    resume: Annotated[str | None, Parameter(help="with --targets: go on with this run, skipping the targets "
                                                 "its journal says are done", group="Many databases")] = None,
    run_id: Annotated[str | None, Parameter(help="with --targets: the run's id (shared by the pods of an "
                                                 "Indexed Job); default: a new one", group="Many databases")] = None,
    shard: fleet.ShardOption = None,
) -> int:
    """Apply pending migrations in dependency order (with --targets: on many databases). In
    production (``[lint] on_run``) the plan is linted first, and error-level findings refuse
    the run (docs/lint.md). A backfill (ctx.backfill) commits batch by batch and resumes at its
    checkpoint if the run stops."""
    chosen = options(batch_size, batch_pause, batch_target, defer=defer_backfills)
    if targets is not None:
        if sql or from_ is not None or dry_run or database is not None:
            raise UsageError("--targets runs each target's migrations: --sql, --from, --dry-run and --database "
                             "work on one database")
        if defer_backfills or batch_size is not None or batch_pause or batch_target != DEFAULT_TARGET_MS:
            raise UsageError("--targets does not take --defer-backfills nor the --batch-* options: run "
                             "`ncm backfill` on each database")
        return fleet.run_targets(targets, target_version=target_version, parallel=parallel, canary=canary,
                                 max_failures=max_failures, continue_on_error=continue_on_error, resume=resume,
                                 run_id=run_id, shard=shard, allow=tuple(allow or ()), json_=json_)
    fleet.refuse_without_targets(canary=canary or None, max_failures=max_failures,
                                 continue_on_error=continue_on_error, resume=resume, run_id=run_id, shard=shard)
    if sql or from_ is not None:
        return _script(lambda runner: runner.run_script(target_version=target_version, start=from_), sql, from_,
                       database_type=database)

    async def go(runner: Any) -> int:
        if not dry_run and await runner.up_to_date(target_version):
            results = []
        else:
            await runner.initialize()
            runner.backfill_options = chosen
            results = await runner.run_migrations(target_version=target_version, dry_run=dry_run, allow=allow or ())
        if runner.stop_requested is not None:
            return 0  # the exit line says what stuck
        if json_:
            print_json({"results": results})
        elif dry_run:
            _print_statements(results)
            if not results:
                console().print("nothing to apply")
        else:
            applied = sum(r["status"] == "applied" for r in results)
            if runner.last_backup is not None:
                say(f"backup written to {runner.last_backup['location']}")
            say("nothing to apply: the database is up to date" if not results else
                f"{applied} migration(s) applied" + (", then the run stopped on a failure" if _failed(results) else ""))
        return MigrationFailed.exit_code if _failed(results) else 0

    return _reporting(lambda: with_runner(go, connect=False, database_type=database), quiet=json_ or dry_run)


def rollback(
    *,
    version: Annotated[str | None, Parameter(
        help="revert this version and every migration applied after it, newest first")] = None,
    only: Annotated[str | None, Parameter(
        help="revert only this version and what declares depends_on it; later ones stay applied")] = None,
    to: Annotated[str | None, Parameter(help="revert everything applied after this version; it stays")] = None,
    all_: Annotated[bool, Parameter(name="--all", help="revert every applied migration", negative="")] = False,
    steps: Annotated[int | None, Parameter(help="revert the last N applied migrations")] = None,
    dry_run: Annotated[bool, Parameter(help="print the plan and the SQL each down step would run",
                                       negative="")] = False,
    yes: Annotated[bool, Parameter(help="revert without asking in production (required off a terminal)",
                                   negative="")] = False,
    sql: SqlFlag = False,
    from_: FromFlag = None,
    json_: JsonFlag = False,
    targets: fleet.TargetsOption = None,
    parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL,
    max_failures: Annotated[str | None, Parameter(
        help="with --targets: start no new target once this many have failed (or a percentage); default 1",
        group="Many databases")] = None,
    continue_on_error: Annotated[bool, Parameter(help="with --targets: go on whatever fails", negative="",
                                                 group="Many databases")] = False,
    shard: fleet.ShardOption = None,
) -> int:
    """Revert applied migrations by running their down steps, newest first. Give one selector:
    --version, --only, --to, --all or --steps. The plan is printed before anything runs."""
    selectors = {"version": version, "only": only, "to": to, "all_": all_, "steps": steps}
    if targets is not None:
        if sql or from_ is not None or dry_run:
            raise UsageError("--targets reverts on each target: --sql, --from and --dry-run work on one database")
        return fleet.rollback_targets(targets, selectors, yes=yes, parallel=parallel, shard=shard,
                                      max_failures=max_failures, continue_on_error=continue_on_error, json_=json_)
    fleet.refuse_without_targets(max_failures=max_failures, continue_on_error=continue_on_error, shard=shard)
    if sql or from_ is not None:
        return _script(lambda runner: runner.rollback_script(start=from_, **selectors), sql, from_)

    async def go(runner: Any) -> int:
        plan = await runner.plan_rollback(**selectors)
        staying = await _staying(runner, plan) if only is not None else []
        if dry_run:
            results = await runner.rollback_migration(**selectors, dry_run=True)
            if json_:
                print_json({"plan": [m.version for m in plan], "stays_applied": staying, "results": results})
            else:
                _print_plan(plan, staying)
                _print_statements(results)
            return 0
        if not json_:
            _print_plan(plan, staying)
        if plan and runner.config.environment == "production" and not yes:
            _confirm_rollback(len(plan))
        results = await runner.rollback_migration(**selectors, expected=[m.version for m in plan]) if plan else []
        if runner.stop_requested is not None:
            return 0  # the exit line says what stuck
        if json_:
            print_json({"plan": [m.version for m in plan], "stays_applied": staying, "results": results})
        else:
            console().print(f"{sum(r['status'] != 'failed' for r in results)} migration(s) reverted"
                            if results else "nothing was reverted")
        return MigrationFailed.exit_code if _failed(results) else 0

    return _reporting(lambda: with_runner(go), quiet=json_ or dry_run)


def _script(write: Callable[[Any], Awaitable[str]], sql: bool, start: str | None, **config: Any) -> int:
    """``--sql``: the plan as one SQL script on stdout, for a DBA to review and apply. With
    ``--from`` nothing connects: the database's state is the one given."""
    if not sql:
        raise UsageError("--from goes with --sql: it says where the database is, for a script written "
                         "without connecting")

    async def go(runner: Any) -> int:
        sys.stdout.write(await write(runner))
        return 0

    return with_runner(go, connect=start is None, **config)


async def _staying(runner: Any, plan: list[Any]) -> list[str]:
    """The migrations applied after the oldest one of an ``--only`` plan that it leaves applied."""
    history = await runner.history()
    reverting = {m.version for m in plan}
    order = [m.version for m in runner.graph.order if m.version in history]
    return [v for v in order[order.index(plan[-1].version):] if v not in reverting]


def _print_plan(plan: list[Any], staying: list[str]) -> None:
    out = console()
    out.print(f"plan: revert {len(plan)} migration(s), newest first:" if plan else "plan: nothing to roll back",
              markup=False)
    for m in plan:
        out.print(f"  {m.version}  {m.description}", markup=False)
    if staying:
        out.print(f"stays applied: {', '.join(staying)}", markup=False)


def _confirm_rollback(count: int) -> None:
    """Reverting in production destroys data a down step drops: a person says yes, or --yes does."""
    from ncm_core.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"rollback in the production environment reverts {count} migration(s): "
                         "run it on a terminal to confirm, or pass --yes")
    answer = input(f"revert {count} migration(s) in production? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("rollback cancelled: nothing was reverted")


def repair(
    *,
    mark_applied: Annotated[str | None, Parameter(
        help="record this interrupted or failed migration as applied: you finished it by hand")] = None,
    mark_pending: Annotated[str | None, Parameter(
        help="remove this interrupted or failed migration's record: you undid it by hand")] = None,
    json_: JsonFlag = False,
) -> int:
    """Mend the history: remove failed records and accept the current checksum of edited
    applied migrations, or settle one interrupted migration (--mark-applied, --mark-pending).
    Rewrites migrations/ncm.sum to the files as they are."""
    async def go(runner: Any) -> int:
        actions = await runner.repair(mark_applied=mark_applied, mark_pending=mark_pending)
        if json_:
            print_json({"actions": actions})
            return 0
        out = console()
        for a in actions:
            out.print(f"{a['version']}: {a['action']}", markup=False)
        out.print(f"{len(actions)} repair(s)" if actions else "nothing to repair")
        return 0

    return with_runner(go)
