"""Which migrations a database another tool managed already has, from that tool's own history
(read by the backend: :class:`~ncm_core.capabilities.SupportsFlywayAdoption`,
:class:`~ncm_core.capabilities.SupportsGolangMigrateAdoption`), for ``ncm baseline``.

Each mapping refuses, naming the version, a history entry that no migration file matches:
recording the others would leave the database's state half-said.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ncm_core.errors import UsageError
from ncm_core.graph import MigrationGraph
from ncm_core.migration import Migration


@dataclass(frozen=True)
class FlywayHistory:
    """What ``flyway_schema_history`` says is applied."""

    versions: list[str]
    """The versions of the successful versioned migrations not since undone, oldest first."""
    baseline: str | None = None
    """The version of a ``flyway baseline`` row: Flyway takes it and every version below it as applied."""


def flyway_key(version: str) -> tuple[int, ...] | None:
    """A Flyway version as Flyway compares them (``1.1`` = ``1_1`` = ``1.1.0``), None for a
    version that is not one (``20260101_120000_x``, ``R__views``)."""
    parts = version.replace("_", ".").split(".")
    if not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def flyway_migrations(graph: MigrationGraph, history: FlywayHistory, directory: Path) -> list[Migration]:
    """The migrations ``history`` counts as applied: each recorded version's V file, and with
    a baseline row every versioned file at or below it. Repeatable (R__) files are not among
    them: ``ncm run`` applies them once, as Flyway would after any change to them."""
    by_key = {key: m for m in graph.order if not m.repeatable and (key := flyway_key(m.version)) is not None}
    chosen: dict[str, Migration] = {}
    if history.baseline is not None:
        limit = flyway_key(history.baseline) or ()
        chosen.update((m.version, m) for key, m in by_key.items() if key <= limit)
    for version in history.versions:
        found = by_key.get(flyway_key(version) or ())
        if found is None:
            raise UsageError(f"flyway_schema_history has version {version} applied, but {directory} has no "
                             f"V{version}__*.sql file: copy Flyway's migration files there first")
        chosen[found.version] = found
    return list(chosen.values())


def golang_migrate_migration(graph: MigrationGraph, version: int, directory: Path) -> Migration:
    """The migration golang-migrate's version ``version`` is: the one whose number (the file
    name's numeric prefix, ``000003_x.sql`` or ``20260101120000_x.sql``) is that integer."""
    found = [m for m in graph.order if m.number.replace("_", "").isdigit()
             and int(m.number.replace("_", "")) == version]
    if not found:
        raise UsageError(f"schema_migrations is at version {version}, but no migration in {directory} has the "
                         f"number {version}: golang-migrate's {version}_name.up.sql and .down.sql become one "
                         f"{version}_name.sql with -- migrate:up and -- migrate:down sections")
    if len(found) > 1:
        raise UsageError(f"schema_migrations is at version {version}, which is the number of "
                         f"{len(found)} migrations ({', '.join(m.version for m in found)}): rename all but one")
    return found[0]
