"""``ncm backfill``, the worker that runs the backfills ``ncm run --defer-backfills`` left (and
those a stopped run left part way), and the throttling flags it shares with ``ncm run``."""

from __future__ import annotations

from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.backfill import DEFAULT_TARGET_MS, BackfillOptions
from ncm_core.cli.common import JsonFlag, print_json, say, with_runner
from ncm_core.errors import MigrationFailed, UsageError

BatchSize = Annotated[int | None, Parameter(
    help="rows per batch of every ctx.backfill, instead of the size each migration gives")]
BatchPause = Annotated[float, Parameter(
    help="seconds to wait between two batches (replicas catch up, the application gets its locks)")]
BatchTarget = Annotated[int, Parameter(
    help="adaptive batches: a batch that takes longer than this many milliseconds shrinks the next "
         "one, so locks stay short (0: every batch the same size)")]


def options(batch_size: int | None, batch_pause: float, batch_target: int, **flags: bool) -> BackfillOptions:
    """The flags as the runner takes them; a value that cannot be meant is one line, nothing run."""
    if batch_size is not None and batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {batch_size}")
    if batch_pause < 0:
        raise UsageError(f"--batch-pause must be 0 or more seconds, not {batch_pause:g}")
    if batch_target < 0:
        raise UsageError(f"--batch-target must be 0 (off) or more milliseconds, not {batch_target}")
    return BackfillOptions(batch_size=batch_size, pause=batch_pause, target_ms=batch_target, **flags)


def backfill(
    *,
    batch_size: BatchSize = None,
    batch_pause: BatchPause = 0.0,
    batch_target: BatchTarget = DEFAULT_TARGET_MS,
    json_: JsonFlag = False,
) -> int:
    """Run the pending migrations that backfill (ctx.backfill): those `ncm run --defer-backfills`
    left, and those stopped part way, each from its checkpoint. Made to run for hours (a
    Kubernetes Job): SIGTERM stops it after the current batch, and the next start resumes there.
    Each backfill is claimed, not locked: deploys' `ncm run --defer-backfills` go on meanwhile, and
    a second worker leaves a claimed backfill (and those after it) to the first (exit 0)."""
    chosen = options(batch_size, batch_pause, batch_target, only=True)

    async def go(runner: Any) -> int:
        runner.backfill_options = chosen
        results = await runner.run_backfills()
        if runner.stop_requested is not None:
            return 0  # the exit line says what stuck
        if json_:
            print_json({"results": results})
        else:
            done = sum(r["status"] == "applied" for r in results)
            say(f"{done} backfill migration(s) applied" if results or runner.left_to else "nothing to backfill")
            if runner.left_to:
                say(f"left to another process: {runner.left_to}")
        return MigrationFailed.exit_code if any(r["status"] == "failed" for r in results) else 0

    return with_runner(go)
