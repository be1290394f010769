"""Which applied migrations a rollback reverts, and in which order: pure, so the same plan is
printed first, rebuilt under the lock, rendered as offline SQL and checked in tests.

A rollback must never leave a migration applied on top of one it reverted: the order of the
graph is the order the schema was built in, so what comes after a reverted migration in that
order goes first (``--version``, ``--to``, ``--steps``, ``--all``). ``--only`` is the one
selector that reverts a migration and only what declares a dependency on it, for the user who
knows the later ones do not build on it.
"""

from __future__ import annotations

from collections.abc import Collection

from ncm_core.errors import UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import Migration

SELECTORS = ("--version", "--only", "--to", "--all", "--steps")


def rollback_plan(graph: MigrationGraph, applied: Collection[str], *, version: str | None = None,
                  only: str | None = None, to: str | None = None, all_: bool = False,
                  steps: int | None = None) -> list[Migration]:
    """The migrations to revert, newest first. ``applied``: the versions the history records
    (applied, baseline, failed or interrupted: each has a record to undo).

    Exactly one selector: ``version`` (it and everything applied after it in the order),
    ``only`` (it and its declared dependents), ``to`` (everything applied after it; it stays),
    ``all_`` (everything), ``steps`` (the last N applied). Bad input is a UsageError."""
    given = [name for name, value in zip(SELECTORS, (version, only, to, all_ or None, steps)) if value is not None]
    if len(given) != 1:
        raise UsageError(f"rollback needs exactly one of {', '.join(SELECTORS)}"
                         + (f" (got {' and '.join(given)})" if given else ""))
    done = [m for m in graph.order if m.version in applied]
    if all_:
        return list(reversed(done))
    if steps is not None:
        return list(reversed(done))[:_checked_steps(steps, len(done))]
    ref, flag = next((r, f) for r, f in ((version, "--version"), (only, "--only"), (to, "--to")) if r is not None)
    target = _applied_target(graph, applied, ref, flag)
    if only is not None:
        chosen = graph.dependents(target.version) | {target.version}
        return [m for m in reversed(done) if m.version in chosen]
    return list(reversed(done[done.index(target) + (1 if to is not None else 0):]))


def _checked_steps(steps: int, applied: int) -> int:
    if steps < 1:
        raise UsageError(f"--steps must be at least 1 (got {steps})")
    if steps > applied:
        raise UsageError(f"--steps {steps}: only {applied} migration(s) are applied; "
                         "use --all to revert every one")
    return steps


def _applied_target(graph: MigrationGraph, applied: Collection[str], ref: str, flag: str) -> Migration:
    target = graph.resolve(ref)
    if target.version not in applied:
        raise UsageError(f"{flag} {ref}: {target.version} is not applied, so there is nothing to roll back "
                         "(see `ncm status`)")
    return target
