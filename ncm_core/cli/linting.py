"""``ncm lint``: what the migrations will do to a live database, before they ship."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from cyclopts import Parameter

from ncm_core.cli import fleet
from ncm_core.cli.common import JsonFlag, console, print_json, with_runner
from ncm_core.errors import UsageError, ValidationFailed


def lint(
    paths: Annotated[list[Path] | None, Parameter(help="migration files or directories to lint; default: the "
                                                       "pending migrations (all of them when the database "
                                                       "cannot be reached)")] = None,
    /, *,
    base: Annotated[str | None, Parameter(help="lint the migrations added since this git ref (a pull "
                                               "request's base branch)")] = None,
    all_: Annotated[bool, Parameter(name="--all", help="lint every migration", negative="")] = False,
    format_: Annotated[Literal["text", "json", "sarif"], Parameter(
        name="--format", help="text, json (docs/json.md) or sarif (SARIF 2.1.0, for code scanning)")] = "text",
    json_: JsonFlag = False,
    warnings_as_errors: Annotated[bool, Parameter(help="exit 3 on warnings too", negative="")] = False,
    trace: Annotated[bool, Parameter(help="PostgreSQL: also run the migrations in a transaction that is rolled back "
                                          "and report each statement's locks, rewrites and duration (docs/lint.md)",
                                     negative="")] = False,
    targets: fleet.TargetsOption = None,
    parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL,
    shard: fleet.ShardOption = None,
) -> int:
    """Report destructive (DS), backward-incompatible (BC), data-dependent (MF), locking (LK) and
    MongoDB (MG) changes, with the line of each call and the safer way (docs/lint.md). Exit 0
    when nothing is at error level, 3 otherwise. Nothing in the database is changed.
    --environment (before or after the command) picks the environment's settings."""
    output = "json" if json_ else format_
    if targets is not None:
        if paths or base is not None or all_ or trace or format_ == "sarif":
            raise UsageError("lint --targets lints each target's pending migrations: paths, --base, --all, "
                             "--trace and --format sarif work on one database")
        return fleet.lint_targets(targets, warnings_as_errors=warnings_as_errors, parallel=parallel, shard=shard,
                                  json_=output == "json")
    fleet.refuse_without_targets(shard=shard)

    async def go(runner: Any) -> int:
        from ncm_core.lint import run

        report = await run.lint_selected(runner, paths or [], base, all_, trace)
        _print(report, output)
        return ValidationFailed.exit_code if report.blocking(warnings_as_errors) else 0

    return with_runner(go, connect=False)


def _print(report: Any, output: str) -> None:
    if output == "json":
        traced = {"trace": [t.as_json() for t in report.traced]} if report.traced is not None else {}
        print_json({"migrations": report.migrations, "live_schema": report.live, "counts": report.counts(),
                    "findings": [f.as_json() for f in report.findings], **traced})
    elif output == "sarif":
        import json

        from ncm_core.lint import sarif

        sys.stdout.write(json.dumps(sarif.document(report), indent=2) + "\n")
    else:
        print_text(report)


def print_text(report: Any) -> None:
    """One block per finding: where, level and code, what will happen, the safer way; then,
    with --trace, one line per statement."""
    out = console()
    for f in report.findings:
        tag = f"{f.severity.value} {f.code}" + (" (observed)" if f.observed else "")
        out.print(f"{f.location()}: {tag}: {f.message}", markup=False, soft_wrap=True)
        if f.suppressed is not None:
            out.print(f"    allowed: {f.suppressed}", markup=False, soft_wrap=True)
        elif f.safer:
            out.print(f"    safer: {f.safer}", markup=False, soft_wrap=True)
    for t in report.traced or []:
        locks = ", ".join(f"{lock.mode} on {lock.table}" + (" (blocks writes)" if lock.blocks_writes else "")
                          for lock in t.locks) or "no lock on an existing table"
        timing = f"{t.duration_ms:.1f} ms" if t.duration_ms is not None else "-"
        rewrote = f"; rewrote {', '.join(t.rewrote)}" if t.rewrote else ""
        note = f"; {t.note}" if t.note else ""
        out.print(f"trace {t.version}:{t.line or '-'}  {' '.join(t.statement.split())[:100]}  {timing}  {locks}"
                  f"{rewrote}{note}", markup=False, soft_wrap=True)
    counts = report.counts()
    schema = "the live schema" if report.live else "the migrations (database not reachable)"
    out.print(f"{counts['error']} error(s), {counts['warning']} warning(s) in {len(report.migrations)} "
              f"migration(s); existing tables read from {schema}", markup=False)
