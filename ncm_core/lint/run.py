"""What ``ncm lint`` and lint on run share: choosing the migrations and reaching the database
when it can be reached (for the pending ones and the live schema)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ncm_core.errors import DatabaseUnavailable, UsageError
from ncm_core.lint import engine, selection

if TYPE_CHECKING:
    from ncm_core.lint.engine import Report
    from ncm_core.runner import MigrationRunner

log = logging.getLogger("ncm")


async def lint_selected(runner: MigrationRunner, paths: list[Path], base: str | None, everything: bool,
                        trace: bool = False) -> Report:
    """Lint the migrations ``paths``, ``base`` or ``everything`` select (at most one of them),
    or else the pending ones. Without a reachable database, the pending ones cannot be told
    apart: every migration is linted, and said so. ``trace`` needs the database."""
    if sum((bool(paths), base is not None, everything)) > 1:
        raise UsageError("give at most one of PATHS, --base and --all")
    graph = runner.load()
    order = graph.order
    live = await _connect(runner)
    if trace and not live:
        raise UsageError("--trace runs the migrations against the database, which cannot be reached")
    if paths:
        chosen = selection.by_paths(order, paths)
    elif base is not None:
        chosen = selection.added_since(order, base, Path(runner.config.migration_directory))
    elif everything or not live:
        chosen = list(order)
    else:
        chosen = runner._pending(graph, await runner.history(), None)
    for m in chosen:
        m.import_code()
    return await engine.lint(runner.config, runner.db, order, chosen, live, trace)


async def _connect(runner: MigrationRunner) -> bool:
    """Connect when the database answers; else lint from the files alone, with a backend
    that never connects (capture needs none)."""
    from ncm_core.runner import backend_class

    try:
        await runner.initialize()
        return True
    except DatabaseUnavailable as exc:
        log.warning("%s; linting without the live schema: tables earlier migrations create count as existing", exc)
        runner.backend = backend_class(runner.config)(runner.config)
        return False
