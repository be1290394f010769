"""The dependency graph: one deterministic order, and one clear error for each way it breaks."""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Collection, Iterable

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
        self._aliases = self._branch_labels(self.by_version.values())
        self.deps = {m.version: [self._dependency(m, d) for d in m.depends_on] for m in self.by_version.values()}
        self.order = self._sort()

    def _branch_labels(self, migrations: Iterable[Migration]) -> dict[str, Migration]:
        """Alembic's ``branch_labels``: names a version may be called by, unique across the set."""
        labels: dict[str, Migration] = {}
        for m in migrations:
            for label in m.aliases:
                other = labels.get(label) or self.by_version.get(label) or self._numbers.get(label)
                if other is not None and other is not m:
                    raise GraphError(f"branch label {label!r} of {m.path} is already the name of {other.path}")
                labels[label] = m
        return labels

    def _dependency(self, migration: Migration, ref: str) -> str:
        target = self.by_version.get(ref) or self._numbers.get(ref) or self._aliases.get(ref)
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
        ready = [(self._key(v), v) for v in sorter.get_ready()]
        heapq.heapify(ready)
        ordered = []
        while ready:
            _, version = heapq.heappop(ready)
            ordered.append(self.by_version[version])
            sorter.done(version)
            for v in sorter.get_ready():
                heapq.heappush(ready, (self._key(v), v))
        return ordered

    def _key(self, version: str) -> tuple[bool, tuple]:
        """Version order, repeatable migrations (Flyway's ``R__``) after every versioned one."""
        return self.by_version[version].repeatable, natural_key(version)

    def resolve(self, ref: str) -> Migration:
        """A migration by full version (``001_add_users``), by its number (``001``), and for
        Alembic revisions as Alembic names them: a unique prefix of the revision id, a branch
        label, or ``label@head`` (the newest migration of that branch)."""
        if not ref.strip():
            raise UsageError("the version is empty: give one, e.g. 001 or 001_add_users_table")
        label, at_head = ref[:-5], ref.endswith("@head")
        found = (self.by_version.get(ref) or self._numbers.get(ref) or self._aliases.get(ref)
                 or (self._branch_head(label) if at_head else None) or self._revision_prefix(ref))
        if found is None:
            raise UsageError(f"no migration with version {ref!r}")
        return found

    def _branch_head(self, label: str) -> Migration | None:
        start = self._aliases.get(label) or self.by_version.get(label)
        if start is None:
            return None
        branch = self.dependents(start.version) | {start.version}
        heads = [v for v in branch if not any(v in self.deps[d] for d in branch)]
        if len(heads) > 1:
            raise UsageError(f"{label}@head is ambiguous: the branch has {len(heads)} heads "
                             f"({', '.join(sorted(heads))})")
        return self.by_version[heads[0]]

    def _revision_prefix(self, ref: str) -> Migration | None:
        matches = [m for v, m in self.by_version.items() if m.alembic and v.startswith(ref)] if len(ref) >= 4 else []
        if len(matches) > 1:
            raise UsageError(f"{ref!r} is the start of {len(matches)} revisions; give more of it")
        return matches[0] if matches else None

    def ancestors(self, version: str) -> set[str]:
        """Every migration ``version`` depends on, directly or not."""
        found: set[str] = set()
        frontier = [version]
        while frontier:
            for dep in self.deps[frontier.pop()]:
                if dep not in found:
                    found.add(dep)
                    frontier.append(dep)
        return found

    def heads(self) -> list[str]:
        """The migrations nothing depends on, in order."""
        depended = {d for deps in self.deps.values() for d in deps}
        return [m.version for m in self.order if m.version not in depended]

    def applied_heads(self, applied: Collection[str]) -> list[str]:
        """Alembic's ``current``: the ``applied`` migrations that no other applied one comes
        after, in order. A migration that declares no ``depends_on`` comes after the one before
        it in the order (the order it is applied in); one that declares some, after those only,
        so each branch keeps its own head."""
        before: dict[str, list[str]] = {}
        previous: list[str] = []
        for m in self.order:
            before[m.version] = self.deps[m.version] or previous
            previous = [m.version]
        covered: set[str] = set()
        frontier = [p for v in applied if v in before for p in before[v]]
        while frontier:
            version = frontier.pop()
            if version not in covered:
                covered.add(version)
                frontier.extend(before[version])
        return [m.version for m in self.order if m.version in applied and m.version not in covered]

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
