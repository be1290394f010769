"""What every command shares: the global options, a runner to work with, and output. Kept
free of heavy imports (pydantic, rich, the runner load inside the functions) so that
``ncm --help`` stays cheap."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

JsonFlag = Annotated[bool, Parameter(name="--json", negative="",
                                     help="print the result as one JSON object instead (its schema: docs/json.md)")]
SCHEMA_VERSION = 1
"""The version of every ``--json`` object's shape, documented in docs/json.md; it goes up
when a field is removed or changes meaning (adding one does not)."""


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

    from ncm_core.errors import Stopped
    from ncm_core.runner import MigrationRunner

    async def go() -> int:
        runner = MigrationRunner(load(**config))
        signals = _Signals(runner)
        try:
            if migrations:
                runner.load()
            if connect:
                await runner.initialize()
            code = await fn(runner)
            if runner.stop_requested is not None:
                raise Stopped(runner.stop_requested, f"stopped by {signals.name}: {await runner.outcome()}")
            return code
        except asyncio.CancelledError:
            if signals.received is None:
                raise
            asyncio.current_task().uncancel()
            raise Stopped(signals.received, f"stopped at once by {signals.name}: {await runner.outcome()}") from None
        finally:
            signals.restore()
            await runner.close()

    return asyncio.run(go())


class _Signals:
    """SIGINT (Ctrl-C) and SIGTERM (docker stop, a Kubernetes eviction) as a graceful stop: the
    first one, during a run, lets the current step finish and be recorded, then the run stops;
    a second one, or one before the run has started, stops at once (the step under way is
    rolled back where the database allows). Either way the exit line says what stuck."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, runner: Any) -> None:
        import asyncio

        self.runner = runner
        self.task = asyncio.current_task()
        self.received: int | None = None
        self.loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            self.loop.add_signal_handler(signum, self.on_signal, signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.received or self.runner.stop_requested).name

    def on_signal(self, signum: int) -> None:
        if self.runner.plan is not None and self.runner.stop_requested is None:
            self.runner.request_stop(signum)
            sys.stderr.write(f"{signal.Signals(signum).name}: stopping once the current migration is done "
                             "(send it again to stop at once)\n")
            return
        self.received = signum
        self.task.cancel()

    def restore(self) -> None:
        for signum in self.SIGNALS:
            self.loop.remove_signal_handler(signum)


def console(stderr: bool = False) -> Any:
    """Rich's console; off a terminal it never wraps a line (``soft_wrap``): output piped to a
    file or to ``psql`` must keep every line, string literals included, as it was."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, soft_wrap=not stream.isatty())


def on_terminal() -> bool:
    return sys.stdout.isatty()


def say(line: str, wrap: bool = True) -> None:
    """A line on stdout as it is: through rich's console on a terminal (wrapped to its width),
    plain off one, where nothing may be wrapped and importing rich would cost a command that
    every deploy runs more than the rest of its output."""
    if on_terminal():
        console().print(line, markup=False, soft_wrap=not wrap)
    else:
        sys.stdout.write(line + "\n")


def coloured(text: str, style: str) -> Any:
    """A table cell in a colour on a terminal; the plain text off one."""
    if not on_terminal():
        return text
    from rich.text import Text

    return Text(text, style=style)


def print_table(headers: list[str], rows: list[list[Any]], title: str | None = None, keep: tuple[int, ...] = (0,)) -> None:
    """A table on stdout. On a terminal, rich's, where the ``keep`` columns (the version) are
    never cut or folded and the others fold to fit; off one, plain columns padded with spaces,
    never wrapped, so that a script, ``grep`` or a file gets every value whole. A cell may be a
    rich ``Text`` (for its colour); its plain text is what goes off a terminal."""
    if on_terminal():
        from rich.table import Column, Table

        columns = [Column(h, no_wrap=True, min_width=max([len(h), *(len(str(r[i])) for r in rows)]))
                   if i in keep else Column(h, overflow="fold") for i, h in enumerate(headers)]
        table = Table(*columns, title=title, title_justify="left")
        for row in rows:
            table.add_row(*row)
        console().print(table)
        return
    lines = [headers, *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    text = [title] if title else []
    text += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(2 if title else 1, "  ".join("-" * width for width in widths))
    sys.stdout.write("\n".join(text) + "\n")


def print_json(data: dict[str, Any]) -> None:
    """One JSON object on stdout, ``schema_version`` first: lists go under a named key, so a
    field can be added to any output without breaking a script that reads it."""
    sys.stdout.write(json.dumps({"schema_version": SCHEMA_VERSION, **data}, indent=2, default=str) + "\n")
