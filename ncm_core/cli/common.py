"""What every command shares: the global options, a runner to work with, and output. Kept
free of heavy imports (pydantic, rich, the runner load inside the functions) so that
``ncm --help`` stays cheap."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

JsonFlag = Annotated[bool, Parameter(name="--json", negative="", help="print the result as JSON")]


class Globals:
    """Options given before the command, shared by every command."""

    debug = False
    config_file: Path | None = None
    overrides: dict[str, Any] = {}


def load(**more: Any) -> Any:
    """The configuration, with the global options and a command's own overrides applied."""
    from ncm_core.config import load_config

    return load_config(Globals.config_file, **{**Globals.overrides, **more})


def with_runner(fn: Callable[[Any], Awaitable[int]], connect: bool = True, migrations: bool = True,
                **config: Any) -> int:
    """Run ``fn`` with a runner, closed whatever happens. With ``migrations``, the migration
    files are read before the database is touched, so bad input changes nothing; commands
    that do not need them (backup, restore, check, history, create) work whatever state the
    files are in."""
    import asyncio

    from ncm_core.runner import MigrationRunner

    async def go() -> int:
        runner = MigrationRunner(load(**config))
        try:
            if migrations:
                runner.load()
            if connect:
                await runner.initialize()
            return await fn(runner)
        finally:
            await runner.close()

    return asyncio.run(go())


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
