"""The ``ncm`` command. Each command group lives in its own module; this one builds the app
from them and turns errors into exit codes. Heavy modules (pydantic, SQLAlchemy, drivers)
load inside commands, so ``ncm --help`` costs only cyclopts and rich, and only when the page is
not in the help cache (ncm_core.help_cache, read by ncm_core.launcher before this is imported)."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from cyclopts import App, Parameter

from ncm_core.cli import authoring, backfilling, backups, completion, inspecting, linting, plugins, running, waiting
from ncm_core.cli.common import Globals
from ncm_core.errors import EXIT_CODES, NcmError

app = App(
    name="ncm",
    help="ncm: versioned schema, data, index and seed migrations for PostgreSQL, MySQL/MariaDB, "
    "SQLite and MongoDB.\n\nExit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items()),
    result_action="return_value",
    version_flags=["--version"],
    help_format="plaintext",
)
for command in (authoring.init, running.run, authoring.create, running.rollback, inspecting.status, inspecting.current,
                inspecting.validate, linting.lint,
                authoring.baseline, inspecting.history, running.repair, backups.backup_app, backups.restore,
                inspecting.check, inspecting.unlock, waiting.wait, plugins.plugins, completion.completion,
                backfilling.backfill):
    app.command(command)
app.command(authoring.hash_files, name="hash")


@app.meta.default
def launcher(
    *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
    config: Annotated[Path | None, Parameter(help="ncm.toml, pyproject.toml ([tool.ncm]) or a Python file "
                                                    "holding config = MigrationConfig(...)")] = None,
    database_url: Annotated[str | None, Parameter(help="overrides MIGRATION_DATABASE_URL")] = None,
    migration_directory: Annotated[Path | None, Parameter(help="overrides MIGRATION_MIGRATION_DIRECTORY")] = None,
    environment: Annotated[
        Literal["development", "testing", "staging", "production"] | None,
        Parameter(help="overrides MIGRATION_ENVIRONMENT; selects the config file's [environments.<name>]"),
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


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_cli(argv))


def run_cli(argv: list[str] | None = None) -> int:
    """Run a command and return its exit code; errors become one line on stderr."""
    _show_ncm_warnings()
    tokens = sys.argv[1:] if argv is None else argv
    try:
        _add_plugin_commands()
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


@cache
def _add_plugin_commands() -> None:
    """Plugins' commands join the app once per process (run_cli may be called again, in tests),
    before parsing so that ``ncm --help`` lists them."""
    from ncm_core import plugins as registry

    registry.register_commands(app)


def _show_ncm_warnings() -> None:
    """ncm's own warnings (a deprecated setting, a section no plugin reads, an ignored file, a
    plugin that failed to load or whose hook raised) are meant for the user: one line each on
    stderr, DeprecationWarnings included (Python hides those by default). Errors the runner
    logs are not repeated: the command reports them itself."""
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
