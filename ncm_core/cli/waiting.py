"""``ncm wait --at-head``: for an application's init container while a Job (or another pod)
migrates: exit 0 once the database is at head, 3 when the timeout comes first. Waiting reads
the history without taking the lock, and a database not yet reachable is waited for too."""

from __future__ import annotations

import sys
from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.cli.common import JsonFlag, print_json, with_runner
from ncm_core.errors import DatabaseUnavailable, UsageError, ValidationFailed

AT_HEAD = ("applied", "baseline")


def wait(
    *,
    at_head: Annotated[bool, Parameter(help="wait until every migration is applied (the only condition so far)",
                                       negative="")] = False,
    timeout: Annotated[float, Parameter(help="give up after this many seconds (exit 3)")] = 300.0,
    interval: Annotated[float, Parameter(help="seconds between two looks at the database")] = 2.0,
    json_: JsonFlag = False,
) -> int:
    """Wait until the database is at head: exit 0 then, 3 on timeout (an init container's gate)."""
    if not at_head:
        raise UsageError("ncm wait needs what to wait for: --at-head")
    if timeout < 0 or interval <= 0:
        raise UsageError("--timeout must be 0 or more seconds and --interval more than 0")

    async def go(runner: Any) -> int:
        import asyncio

        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            why = await _behind(runner)
            left = started + timeout - loop.time()
            if why is None or left <= 0:
                break
            await asyncio.sleep(min(interval, left))
        why = runner.config.mask(why) if why is not None else None
        if json_:
            print_json({"at_head": why is None, "database": runner.config.safe_url,
                        "waited_seconds": round(loop.time() - started, 3), "reason": why})
        elif why is None:
            sys.stderr.write(f"at head: {runner.config.safe_url}\n")
        else:
            sys.stderr.write(f"timeout after {timeout:g} s: {runner.config.safe_url} is not at head ({why})\n")
        return 0 if why is None else ValidationFailed.exit_code

    return with_runner(go, connect=False)


async def _behind(runner: Any) -> str | None:
    """Why the database is not at head yet (None when it is); an unreachable database is
    one not at head (it may be starting), and is connected to afresh next time."""
    try:
        state = await runner.get_status()
    except DatabaseUnavailable as exc:
        await runner.close()
        return str(exc).splitlines()[0]
    behind = [m for m in state["migrations"] if m["state"] not in AT_HEAD and not _backfilling(m)]
    if state["lock_holder"] and (behind or not any(map(_backfilling, state["migrations"]))):
        return f"a run holds the lock: {state['lock_holder']}"
    if not behind:
        return None
    return f"{len(behind)} migration(s) not applied, first {behind[0]['version']} ({behind[0]['state']})"


def _backfilling(migration: dict[str, Any]) -> bool:
    """A backfill left for later (``--defer-backfills``) or under way (``ncm backfill``, which
    may run for hours): the schema is at head for the application without it."""
    return migration["state"] == "deferred" or (migration["state"] == "in progress" and migration["backfill"] is not None)
