"""The dependency graph: one deterministic order, and one clear error for each way it breaks."""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable

from ncm_core.errors import GraphError, UsageError
from ncm_core.migration import Migration, natural_key


class MigrationGraph:
    """Migrations in topological order, ties broken by version, so every machine agrees."""

    def __init__(self, migrations: Iterable[Migration]) -> None:
        self.by_version: dict[str, Migration] = {}
        numbers: dict[str, Migration] = {}
        for m in migrations:
            if m.number in numbers:
                raise GraphError(f"duplicate version {m.number}: {numbers[m.number].path} and {m.path}")
            numbers[m.number] = m
            self.by_version[m.version] = m
        self._numbers = numbers
        self.deps = {m.version: [self._dependency(m, d) for d in m.depends_on] for m in self.by_version.values()}
        self.order = self._sort()

    def _dependency(self, migration: Migration, ref: str) -> str:
        target = self.by_version.get(ref) or self._numbers.get(ref)
        if target is None:
            raise GraphError(f"{migration.path}: depends on {ref}, which does not exist")
        return target.version

    def _sort(self) -> list[Migration]:
        sorter = graphlib.TopologicalSorter(self.deps)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise GraphError("dependency cycle: " + " -> ".join(cycle)) from None
        ready = [(natural_key(v), v) for v in sorter.get_ready()]
        heapq.heapify(ready)
        ordered = []
        while ready:
            _, version = heapq.heappop(ready)
            ordered.append(self.by_version[version])
            sorter.done(version)
            for v in sorter.get_ready():
                heapq.heappush(ready, (natural_key(v), v))
        return ordered

    def resolve(self, ref: str) -> Migration:
        """A migration by full version (``001_add_users``) or by its number (``001``)."""
        found = self.by_version.get(ref) or self._numbers.get(ref)
        if found is None:
            raise UsageError(f"no migration with version {ref!r}")
        return found

    def dependents(self, version: str) -> set[str]:
        """Every migration that depends on ``version``, directly or not."""
        found: set[str] = set()
        frontier = [version]
        while frontier:
            current = frontier.pop()
            for v, deps in self.deps.items():
                if current in deps and v not in found:
                    found.add(v)
                    frontier.append(v)
        return found
