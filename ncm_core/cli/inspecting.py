"""The commands that look without changing anything: ``status``, ``current``, ``history``,
``validate`` and ``check``."""

from __future__ import annotations

from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.cli import fleet
from ncm_core.cli.common import JsonFlag, coloured, console, on_terminal, print_json, print_table, say, with_runner
from ncm_core.errors import MigrationFailed, UsageError, ValidationFailed

DriftFlag = Annotated[bool, Parameter(help="also compare the live schema with the SQLAlchemy models; differences "
                                           "fail with exit code 3", negative="")]
MetadataRef = Annotated[str | None, Parameter(help="the models for --drift, as module:attribute; default: "
                                                   "target_metadata")]


ExitCodeFlag = Annotated[bool, Parameter(help="exit 0 at head, 3 with pending (or changed, missing, in progress) "
                                                "migrations, 1 with failed or interrupted ones: a deploy gate",
                                           negative="")]
BROKEN = ("failed", "interrupted")
BEHIND = ("pending", "changed", "missing", "in progress", "deferred")


def status(*, exit_code: ExitCodeFlag = False, json_: JsonFlag = False, targets: fleet.TargetsOption = None,
           parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL, shard: fleet.ShardOption = None) -> int:
    """Show every migration: applied, pending, failed (with why), changed, missing, in
    progress or interrupted (with how to recover), and who holds the lock. With --targets,
    one row per target."""
    if targets is not None:
        return fleet.status_targets(targets, parallel=parallel, shard=shard, exit_code=exit_code, json_=json_)
    fleet.refuse_without_targets(shard=shard)

    async def go(runner: Any) -> int:
        state = await runner.get_status()
        if json_:
            print_json(state)
        else:
            _print_status(state)
        return _status_code(state) if exit_code else 0

    return with_runner(go, connect=False, migrations=False)


def _status_code(state: dict[str, Any]) -> int:
    """``--exit-code``: whether the database is at head, for init containers and deploy gates."""
    found = {m["state"] for m in state["migrations"]}
    if found & set(BROKEN):
        return MigrationFailed.exit_code
    return ValidationFailed.exit_code if found & set(BEHIND) else 0


def _print_status(state: dict[str, Any]) -> None:
    colours = {"applied": "green", "baseline": "green", "pending": "yellow", "failed": "red", "changed": "red",
               "missing": "red", "interrupted": "red", "in progress": "yellow", "deferred": "yellow"}
    rows = [[m["version"], m["description"], m["type"], coloured(m["state"], colours.get(m["state"], "white")),
             (m["applied_at"] or "").replace("T", " ").removesuffix("+00:00")] for m in state["migrations"]]
    print_table(["version", "description", "type", "state", "applied at"], rows,
                title=f"{state['database']} ({state['backend']})")
    say(f"current: {state['current'] or '(none)'}; pending: {state['pending']}; failed: {state['failed']}")
    if state["lock_holder"]:
        say(f"lock: held by {state['lock_holder']}")
    for m in state["migrations"]:
        if m["state"] == "failed" and m["error"]:
            say(f"failed: {m['error']}", wrap=False)
        if m["recovery"]:
            say(f"interrupted: {m['recovery']}")
        if m["backfill"]:
            say(f"backfill: {m['version']}: {backfill_line(m['backfill'])}")


def backfill_line(backfill: dict[str, Any]) -> str:
    """``412000/1000000 rows (41%), 52300 rows/s, ETA 11s``."""
    from ncm_core.progress import duration

    done, total = backfill["rows_done"], backfill["rows_total"]
    share = f"/{total} rows ({100 * done // total}%)" if total else " rows"
    rate = f", {backfill['rate']:.0f} rows/s" if backfill["rate"] else ""
    eta = f", ETA {duration(backfill['eta_seconds'])}" if backfill["eta_seconds"] is not None else ""
    worker = backfill.get("worker")
    who = f", by {worker}" if worker else ", no process on it (it resumes at its checkpoint)"
    return f"{done}{share}{rate}{eta}{who}"


def current(*, json_: JsonFlag = False) -> int:
    """Print the applied head(s), one per line, as Alembic's current does: the applied
    migrations no other applied migration comes after (one per branch); nothing when none is."""
    async def go(runner: Any) -> int:
        heads = await runner.current_heads()
        if json_:
            print_json({"database": runner.config.safe_url, "heads": heads})
        else:
            for head in heads:
                say(head)
        return 0

    return with_runner(go, connect=False)


def unlock(
    *,
    yes: Annotated[bool, Parameter(help="break the lock without asking (required off a terminal)",
                                   negative="")] = False,
    json_: JsonFlag = False,
) -> int:
    """Break a migration lock whose holder is dead or stuck (a crashed pod's MongoDB lease,
    a PostgreSQL or MySQL session left behind); a live process of this host is refused."""
    async def go(runner: Any) -> int:
        holder = await runner.lock_holder()
        if holder is not None and not yes:
            _confirm_unlock(holder)
        held_by = await runner.unlock() if holder is not None else None
        if json_:
            print_json({"held_by": held_by})
            return 0
        console().print(f"broke the migration lock held by {held_by}" if held_by else "the migration lock is free",
                        markup=False)
        return 0

    return with_runner(go, migrations=False)


def _confirm_unlock(holder: str) -> None:
    """A lock broken under a live runner lets a second one in beside it: the user says it is dead."""
    import sys

    if not sys.stdin.isatty():
        raise UsageError(f"the migration lock is held by {holder}; if that runner is dead or stuck, "
                         "run again with --yes to break the lock")
    answer = input(f"the migration lock is held by {holder}. Is that runner dead or stuck? Break the lock? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("unlock cancelled: the lock is still held")


def validate(
    *,
    drift: DriftFlag = False,
    metadata: MetadataRef = None,
    json_: JsonFlag = False,
    targets: fleet.TargetsOption = None,
    parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL,
    shard: fleet.ShardOption = None,
) -> int:
    """Check files, dependencies, checksums and history with every registered validator."""
    if targets is not None:
        if drift:
            raise UsageError("--drift compares one database with the models: it does not go with --targets")
        return fleet.validate_targets(targets, parallel=parallel, shard=shard, json_=json_)
    fleet.refuse_without_targets(shard=shard)

    async def go(runner: Any) -> int:
        problems = await runner.validation_problems(reload=False)
        if drift:
            problems += _drift_problems(await runner.drift(metadata))
        errors = [p for p in problems if p.severity == "error"]
        if json_:
            print_json({"valid": not errors, "problems": [p.__dict__ for p in problems]})
        else:
            _print_problems(problems)
            say(f"{len(runner.graph.order)} migration(s) checked: "
                + ("valid" if not errors else f"{len(errors)} error(s)"))
        return ValidationFailed.exit_code if errors else 0

    return with_runner(go, connect=drift)


def _print_problems(problems: list[Any]) -> None:
    """One line per problem, its severity in colour on a terminal; plain text off one, without
    importing rich (``validate`` runs on every deploy)."""
    if not on_terminal():
        for p in problems:
            say(f"{p.severity} [{p.validator}] {p.message}")
        return
    from rich.markup import escape

    out = console()
    for p in problems:
        colour = {"error": "red", "warning": "yellow"}.get(p.severity, "cyan")
        out.print(f"[{colour}]{p.severity}[/] " + escape(f"[{p.validator}] {p.message}"))


def _drift_problems(differences: list[str]) -> list[Any]:
    from ncm_core.validators.interface import ERROR, Problem

    return [Problem(ERROR, "drift", None, line) for line in differences]


def history(
    *,
    audit: Annotated[bool, Parameter(help="show the audit log instead", negative="")] = False,
    json_: JsonFlag = False,
) -> int:
    """Show the history table (or the audit log), oldest first."""
    async def go(runner: Any) -> int:
        if audit:
            rows = [{"at": e.at.isoformat(), "action": e.action, "version": e.version, "outcome": e.outcome,
                     "actor": e.actor, "details": e.details} for e in await runner.audit_log()]
            columns = ["at", "action", "version", "outcome", "actor", "details"]
        else:
            rows = await runner.get_history()
            columns = ["applied_at", "version", "status", "execution_ms", "applied_by", "checksum"]
        if json_:
            print_json({"audit" if audit else "records": rows})
            return 0
        print_table(columns, [[str(row[c])[:16] if c == "checksum" else str(row[c] if row[c] is not None else "")
                               for c in columns] for row in rows], keep=(columns.index("version"),))
        return 0

    return with_runner(go, migrations=False)


def check(
    *,
    drift: DriftFlag = False,
    metadata: MetadataRef = None,
    json_: JsonFlag = False,
) -> int:
    """Connect to the database and report: exit 0 when reachable, 4 when not (3 with --drift
    when the schema and the models differ)."""
    async def go(runner: Any) -> int:
        info = await runner.db.server_info()
        differences = await runner.drift(metadata) if drift else []
        if json_:
            print_json({"ok": not differences, "url": runner.config.safe_url, **info,
                        **({"drift": differences} if drift else {})})
        else:
            out = console()
            out.print(f"ok: {runner.config.safe_url} ({info['backend']} {info['server_version']})", markup=False)
            for line in differences:
                out.print(f"drift: {line}", markup=False, soft_wrap=True)
            if drift:
                out.print(f"{len(differences)} difference(s) between the database and the models"
                          if differences else "no drift: the database matches the models")
        return ValidationFailed.exit_code if differences else 0

    return with_runner(go, migrations=False)
