"""The ``ncm`` command. Heavy modules (pydantic, SQLAlchemy, drivers) load inside commands,
so ``ncm --help`` costs only cyclopts and rich."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from cyclopts import App, Parameter

from ncm_core.errors import EXIT_CODES, MigrationFailed, NcmError, UsageError, ValidationFailed
from ncm_core.hookspecs import hookimpl

TypeName = Annotated[str, Parameter(help="schema, data, index, seed, or a type a plugin adds")]
JsonFlag = Annotated[bool, Parameter(name="--json", negative="", help="print the result as JSON")]

app = App(
    name="ncm",
    help="ncm: versioned schema, data, index and seed migrations for PostgreSQL, MySQL/MariaDB, "
    "SQLite and MongoDB.\n\nExit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items()),
    result_action="return_value",
    version_flags=["--version"],
)


class Globals:
    """Options given before the command, shared by every command."""

    debug = False
    config_file: Path | None = None
    overrides: dict[str, Any] = {}


@app.meta.default
def launcher(
    *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
    config: Annotated[Path | None, Parameter(help="ncm.toml or pyproject.toml to read ([tool.ncm])")] = None,
    database_url: Annotated[str | None, Parameter(help="overrides MIGRATION_DATABASE_URL")] = None,
    migration_directory: Annotated[Path | None, Parameter(help="overrides MIGRATION_MIGRATION_DIRECTORY")] = None,
    environment: Annotated[
        Literal["development", "testing", "staging", "production"] | None,
        Parameter(help="overrides MIGRATION_ENVIRONMENT"),
    ] = None,
    lock_timeout: Annotated[float | None, Parameter(help="seconds to wait for another runner's lock")] = None,
    debug: Annotated[bool, Parameter(help="show tracebacks", negative="")] = False,
) -> Any:
    Globals.debug = debug
    Globals.config_file = config
    Globals.overrides = {"database_url": database_url, "migration_directory": migration_directory,
                         "environment": environment, "lock_timeout": lock_timeout}
    command, bound, _ = app.parse_args(tokens)
    return command(*bound.args, **bound.kwargs)


def _config(**more: Any) -> Any:
    from ncm_core.config import load_config

    return load_config(Globals.config_file, **{**Globals.overrides, **more})


def _with_runner(fn: Callable[[Any], Awaitable[int]], connect: bool = True, migrations: bool = True,
                 **config: Any) -> int:
    """Run ``fn`` with a runner. With ``migrations``, the migration files are read before the
    database is touched, so bad input changes nothing; commands that do not need them
    (backup, restore, check, history, create) work whatever state the files are in."""
    from ncm_core.runner import MigrationRunner

    async def go() -> int:
        runner = MigrationRunner(_config(**config))
        try:
            if migrations:
                runner.load()
            if connect:
                await runner.initialize()
            return await fn(runner)
        finally:
            await runner.close()

    return asyncio.run(go())


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


class _Reporter:
    """Prints each step as it happens, through the same lifecycle hooks plugins use: colour on
    a terminal, plain lines (cheap for thousands of steps) in logs and pipes."""

    def __init__(self) -> None:
        self.console = _console(stderr=True) if sys.stderr.isatty() else None

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


@app.command
def run(
    *,
    target_version: Annotated[str | None, Parameter(help="apply up to and including this version")] = None,
    dry_run: Annotated[bool, Parameter(help="print the SQL each pending migration would run", negative="")] = False,
    database: Annotated[str | None, Parameter(help="expected database type (postgresql, mysql, sqlite, mongodb)")] = None,
    json_: JsonFlag = False,
) -> int:
    """Apply pending migrations in dependency order."""
    async def go(runner: Any) -> int:
        results = await runner.run_migrations(target_version=target_version, dry_run=dry_run)
        if json_:
            _print_json(results)
        elif dry_run:
            out = _console()
            for r in results:
                out.print(f"[bold]-- {r['version']}[/]: {r['description']}")
                for stmt in r["statements"] or ["-- (no statements)"]:
                    out.print(stmt if stmt.startswith("--") else f"{stmt};", markup=False)
            if not results:
                out.print("nothing to apply")
        else:
            applied = sum(r["status"] == "applied" for r in results)
            out = _console()
            if runner.last_backup is not None:
                out.print(f"backup written to {runner.last_backup['location']}", markup=False)
            out.print("nothing to apply: the database is up to date" if not results else
                      f"{applied} migration(s) applied" + (", then the run stopped on a failure" if _failed(results) else ""))
        return MigrationFailed.exit_code if _failed(results) else 0

    return _reporting(lambda: _with_runner(go, database_type=database), quiet=json_ or dry_run)


@app.command
def create(
    description: str,
    *,
    type: Annotated[TypeName, Parameter(name=["--type", "-t"])] = "schema",
    autogenerate: Annotated[bool, Parameter(help="fill the steps from the difference between the database "
                                                 "and the SQLAlchemy models (Alembic's autogenerate)",
                                            negative="")] = False,
    metadata: Annotated[str | None, Parameter(help="the models, as module:attribute (e.g. myapp.models:Base.metadata); "
                                                   "default: target_metadata")] = None,
    empty: Annotated[bool, Parameter(help="with --autogenerate, write the file even when nothing differs",
                                     negative="")] = False,
) -> int:
    """Write a new migration file from the type's template."""
    async def go(runner: Any) -> int:
        version = await runner.create_migration(description, type, autogenerate=autogenerate, metadata=metadata,
                                                empty=empty)
        _console().print(f"created {Path(runner.config.migration_directory) / (version + '.py')}")
        return 0

    return _with_runner(go, connect=autogenerate, migrations=False)


@app.command
def rollback(
    *,
    version: Annotated[str | None, Parameter(help="revert this version and what depends on it")] = None,
    steps: Annotated[int | None, Parameter(help="revert the last N applied migrations")] = None,
    json_: JsonFlag = False,
) -> int:
    """Revert applied migrations by running their down steps, newest first."""
    async def go(runner: Any) -> int:
        results = await runner.rollback_migration(version=version, steps=steps)
        if json_:
            _print_json(results)
        else:
            _console().print(f"{sum(r['status'] != 'failed' for r in results)} migration(s) rolled back"
                             if results else "nothing to roll back")
        return MigrationFailed.exit_code if _failed(results) else 0

    return _reporting(lambda: _with_runner(go), quiet=json_)


@app.command
def status(*, json_: JsonFlag = False) -> int:
    """Show every migration: applied, pending, failed, changed or missing."""
    async def go(runner: Any) -> int:
        state = await runner.get_status()
        state["lock_holder"] = await runner.lock_holder()
        if json_:
            _print_json(state)
            return 0
        from rich.markup import escape
        from rich.table import Table

        colours = {"applied": "green", "baseline": "green", "pending": "yellow", "failed": "red", "changed": "red",
                   "missing": "red"}
        table = Table(title=f"{state['database']} ({state['backend']})", title_justify="left")
        for column in ("version", "description", "type", "state", "applied at"):
            table.add_column(column)
        for m in state["migrations"]:
            colour = colours.get(m["state"], "white")
            table.add_row(escape(m["version"]), escape(m["description"]), m["type"], f"[{colour}]{m['state']}[/]",
                          (m["applied_at"] or "").replace("T", " ").removesuffix("+00:00"))
        out = _console()
        out.print(table)
        out.print(f"current: {state['current'] or '(none)'}; pending: {state['pending']}")
        if state["lock_holder"]:
            out.print(f"lock: held by {state['lock_holder']}")
        return 0

    return _with_runner(go)


DriftFlag = Annotated[bool, Parameter(help="also compare the live schema with the SQLAlchemy models; differences "
                                           "fail with exit code 3", negative="")]
MetadataRef = Annotated[str | None, Parameter(help="the models for --drift, as module:attribute; default: "
                                                   "target_metadata")]


@app.command
def validate(
    *,
    drift: DriftFlag = False,
    metadata: MetadataRef = None,
    json_: JsonFlag = False,
) -> int:
    """Check files, dependencies, checksums and history with every registered validator."""
    async def go(runner: Any) -> int:
        problems = await runner.validation_problems()
        if drift:
            problems += _drift_problems(await runner.drift(metadata))
        errors = [p for p in problems if p.severity == "error"]
        if json_:
            _print_json({"valid": not errors, "problems": [p.__dict__ for p in problems]})
        else:
            from rich.markup import escape

            out = _console()
            for p in problems:
                colour = "red" if p.severity == "error" else "yellow"
                out.print(f"[{colour}]{p.severity}[/] " + escape(f"[{p.validator}] {p.message}"))
            out.print(f"{len(runner.graph.order)} migration(s) checked: "
                      + ("valid" if not errors else f"{len(errors)} error(s)"))
        return ValidationFailed.exit_code if errors else 0

    return _with_runner(go)


def _drift_problems(differences: list[str]) -> list[Any]:
    from ncm_core.validators.interface import ERROR, Problem

    return [Problem(ERROR, "drift", None, line) for line in differences]


@app.command
def baseline(
    *,
    from_alembic: Annotated[bool, Parameter(help="adopt a database Alembic manages: record the revisions in "
                                                 "alembic_version and all before them", negative="")] = False,
    version: Annotated[str | None, Parameter(help="record this version and everything before it")] = None,
    json_: JsonFlag = False,
) -> int:
    """Record migrations as applied without running them, for a database that already has them."""
    async def go(runner: Any) -> int:
        recorded = await runner.baseline(version=version, from_alembic=from_alembic)
        if json_:
            _print_json(recorded)
            return 0
        out = _console()
        for r in recorded:
            out.print(f"baseline {r['version']}  {r['description']}", markup=False)
        out.print(f"{len(recorded)} migration(s) recorded as applied; `ncm run` applies what is newer"
                  if recorded else "nothing to record: those migrations are already in the history")
        return 0

    return _with_runner(go)


@app.command
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
            _print_json(rows)
            return 0
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(row[c])[:16] if c == "checksum" else str(row[c] if row[c] is not None else "")
                            for c in columns))
        _console().print(table)
        return 0

    return _with_runner(go, migrations=False)


@app.command
def repair() -> int:
    """Remove failed records and accept the current checksum of edited applied migrations."""
    async def go(runner: Any) -> int:
        actions = await runner.repair()
        out = _console()
        for a in actions:
            out.print(f"{a['version']}: {a['action']}")
        out.print(f"{len(actions)} repair(s)" if actions else "nothing to repair")
        return 0

    return _with_runner(go)


backup_app = App(name="backup", help="Back the database up, or list the backups (ncm backup list).")
app.command(backup_app)


@backup_app.default
def backup(
    path: Annotated[str | None, Parameter(help="a name in the backup store, or a file path; default: a new name")] = None,
    *,
    json_: JsonFlag = False,
) -> int:
    """Back the database up (encrypted when MIGRATION_ENCRYPTION_KEY is set)."""
    async def go(runner: Any) -> int:
        made = await runner.backup_database(path)
        if json_:
            _print_json(made)
        else:
            _console().print(f"backup written to {made['location']} ({_size(made['size'])}"
                             f"{', encrypted' if made['encryption'] else ''})", markup=False)
        return 0

    return _with_runner(go, migrations=False)


@backup_app.command(name="list")
def backup_list(*, json_: JsonFlag = False) -> int:
    """List the backups in the backup store, newest first, from their manifests."""
    async def go(runner: Any) -> int:
        backups = await runner.list_backups()
        if json_:
            _print_json(backups)
            return 0
        from rich.table import Column, Table

        table = Table("created at (UTC)", Column("location", overflow="fold"), Column("database", overflow="fold"),
                      "history head", "size", "encrypted")
        for b in backups:
            table.add_row(b["created_at"][:19].replace("T", " "), b["location"], f"{b['database']} ({b['backend']})",
                          b["history_head"] or "(none)", _size(b["size"]), "yes" if b["encryption"] else "no")
        out = _console()
        out.print(table if backups else "no backups yet")
        return 0

    return _with_runner(go, connect=False, migrations=False)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@app.command
def restore(
    path: Annotated[str, Parameter(help="a backup's name in the store, or the path of its archive")],
    *,
    yes: Annotated[bool, Parameter(help="confirm replacing the database (required in production)", negative="")] = False,
    json_: JsonFlag = False,
) -> int:
    """Replace the database's contents, history included, with a verified backup's."""
    async def go(runner: Any) -> int:
        if runner.config.environment.value == "production" and not yes:
            raise UsageError("restore replaces the production database's contents; run again with --yes to confirm")
        restored = await runner.restore_database(path)
        if json_:
            _print_json(restored)
        else:
            _console().print(f"restored {restored['location']}: {restored['database']} as of "
                             f"{restored['created_at'][:19].replace('T', ' ')} UTC, "
                             f"history head {restored['history_head'] or '(none)'}", markup=False)
        return 0

    return _with_runner(go, migrations=False)


@app.command
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
            _print_json({"ok": not differences, "url": runner.config.safe_url, **info,
                         **({"drift": differences} if drift else {})})
        else:
            out = _console()
            out.print(f"ok: {runner.config.safe_url} ({info['backend']} {info['server_version']})", markup=False)
            for line in differences:
                out.print(f"drift: {line}", markup=False, soft_wrap=True)
            if drift:
                out.print(f"{len(differences)} difference(s) between the database and the models"
                          if differences else "no drift: the database matches the models")
        return ValidationFailed.exit_code if differences else 0

    return _with_runner(go, migrations=False)


@app.command
def plugins(*, json_: JsonFlag = False) -> int:
    """List every discovered plugin, its version and what it provides."""
    from ncm_core import plugins as registry

    infos = registry.describe()
    if json_:
        _print_json([i.__dict__ for i in infos])
        return 0
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "provides")
    for i in infos:
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in i.provides.items() if names)
        table.add_row(i.name, i.distribution, i.version, f"[red]failed to load: {i.error}[/]" if i.error else provides)
    out = _console()
    out.print(table)
    if registry.get_plugins().disabled:
        out.print(f"disabled by {registry.DISABLE_ENV}: {', '.join(registry.get_plugins().disabled)}")
    return 0


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_cli(argv))


def run_cli(argv: list[str] | None = None) -> int:
    """Run a command and return its exit code; errors become one line on stderr."""
    _show_ncm_warnings()
    tokens = sys.argv[1:] if argv is None else argv
    try:
        code = app.meta(tokens, exit_on_error=False, print_error=True)
    except NcmError as exc:
        return _error(exc, exc.exit_code)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from cyclopts.exceptions import CycloptsError

        if isinstance(exc, CycloptsError):
            return 2
        return _error(exc, 70, internal=True)
    return code if isinstance(code, int) else 0


def _show_ncm_warnings() -> None:
    """ncm's own warnings (a deprecated setting, a section no plugin reads, an ignored file, a
    plugin hook that raised) are meant for the user: one line each on stderr, DeprecationWarnings
    included (Python hides those by default). Errors logged by the runner are not repeated: the
    command reports them itself."""
    warnings.filterwarnings("default", category=DeprecationWarning, module="ncm_core")
    warnings.formatwarning = lambda message, *_, **__: f"warning: {message}\n"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.addFilter(lambda record: record.levelno == logging.WARNING)
    log = logging.getLogger("ncm")
    log.addHandler(handler)
    log.propagate = False


def _error(exc: BaseException, code: int, internal: bool = False) -> int:
    from ncm_core.masking import mask

    secrets = [os.environ.get("MIGRATION_ENCRYPTION_KEY")]
    if Globals.debug:
        import traceback

        sys.stderr.write(mask("".join(traceback.format_exception(exc)), secrets))
    prefix = "internal error" if internal else "error"
    sys.stderr.write(mask(f"{prefix}: {exc}", secrets).splitlines()[0] + "\n")
    return code
