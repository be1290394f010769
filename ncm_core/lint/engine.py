"""The lint of a set of migrations: capture each one's operations, follow which tables exist
as they go, ask every rule about every operation, then apply the allowances and the
configured severities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ncm_core import plugins
from ncm_core.capabilities import SupportsLint, SupportsLintTrace, require
from ncm_core.lint import suppress
from ncm_core.lint.findings import Finding, Severity
from ncm_core.lint.operations import Operation, Scope

if TYPE_CHECKING:
    from ncm_core.backend import Backend
    from ncm_core.config import MigrationConfig
    from ncm_core.lint.interface import LintRule
    from ncm_core.lint.trace import Traced
    from ncm_core.migration import Migration

ENGINE_CODES: dict[str, tuple[Severity, str, str]] = {
    "NA101": (Severity.WARNING, "SQL not analysed",
              "write the change with Alembic's op (op.drop_column, op.create_index ...) so that it can be read"),
    "NA102": (Severity.WARNING, "migration not analysed",
              "keep schema changes in a plain def upgrade() of op calls; read rows only in data migrations"),
    "LK100": (Severity.WARNING, "lock that blocks writes (observed by --trace)",
              "see the static LK finding on the same line; take the change apart so that no step holds the lock long"),
    "SP101": (Severity.WARNING, "unused suppression", "remove the comment: nothing on its line needs it any more"),
    "SP102": (Severity.ERROR, "suppression without a reason",
              "say why after the code: # ncm: allow DS102 -- the table was emptied in 0042"),
}
"""Codes the engine reports itself, not a rule: what it could not read, and the allowances."""


@dataclass
class Report:
    migrations: list[str]
    live: bool
    findings: list[Finding] = field(default_factory=list)
    traced: list[Traced] | None = None
    """With ``--trace``: every statement as the database ran it."""

    def blocking(self, warnings_as_errors: bool = False) -> list[Finding]:
        levels = {Severity.ERROR, Severity.WARNING} if warnings_as_errors else {Severity.ERROR}
        return [f for f in self.findings if f.severity in levels and f.suppressed is None]

    def counts(self) -> dict[str, int]:
        return {level.value: sum(f.severity is level and f.suppressed is None for f in self.findings)
                for level in (Severity.ERROR, Severity.WARNING, Severity.INFO)}


class Tables:
    """Which tables exist before each operation. With the live schema, a table a migration
    of this plan creates is fresh (empty when the plan runs); without it, a table an earlier
    migration creates counts as existing, since it may well hold rows by now."""

    def __init__(self, existing: set[str], live: bool) -> None:
        self.existing = set(existing)
        self.fresh: set[str] = set()
        self.live = live

    def follow(self, op: Operation) -> None:
        if op.kind == "create_table" and op.table:
            self.fresh.add(op.table)
            self.existing.discard(op.table)
        elif op.kind == "drop_table":
            self.existing.discard(op.table or "")
            self.fresh.discard(op.table or "")
        elif op.kind == "rename_table":
            new = op.details.get("new_name")
            for names in (self.existing, self.fresh):
                if op.table in names and new:
                    names.discard(op.table)
                    names.add(new)

    def migration_done(self) -> None:
        if not self.live:
            self.existing |= self.fresh
            self.fresh = set()


def rules() -> list[LintRule]:
    return [cls() for cls in plugins.collect("ncm_register_lint_rules").values()]


def known_codes() -> dict[str, tuple[Severity, str, str]]:
    """Every code with its default severity, summary and safer way: the rules' and the engine's."""
    codes = dict(ENGINE_CODES)
    codes.update({cls.PLUGIN_NAME: (cls.severity, cls.summary, cls.safer)
                  for cls in plugins.collect("ncm_register_lint_rules").values()})
    return codes


async def lint(config: MigrationConfig, backend: Backend, order: list[Migration], chosen: list[Migration],
               live: bool, trace: bool = False) -> Report:
    """Lint ``chosen`` (a part of ``order``, the whole set in order). Migrations before the last
    chosen one that are not chosen only tell, without the live schema, which tables exist.
    With ``trace``, ``chosen`` also runs in a transaction that is rolled back, and what the
    database did adds observed findings."""
    linter = require(backend, SupportsLint, "lint migrations")
    tracer = require(backend, SupportsLintTrace, "trace migrations (--trace)") if trace else None
    report = Report([m.version for m in chosen], live)
    found = await _analysed(linter, backend, order, chosen, live)
    if tracer is not None:
        report.traced = await tracer.trace(chosen)
        by_version = {m.version: m for m in chosen}
        for traced in report.traced:
            found[by_version[traced.version]] += _observed(traced, by_version[traced.version])
    for migration in chosen:
        report.findings += _allowed(found[migration], migration)
    report.findings = _with_severities(report.findings, config)
    return report


async def _analysed(linter: SupportsLint, backend: Backend, order: list[Migration], chosen: list[Migration],
                    live: bool) -> dict[Migration, list[Finding]]:
    """Each chosen migration's findings from its captured operations, in order, following
    which tables exist as the migrations before it change them."""
    columns = await linter.live_schema() if live else {}
    tables = Tables(set(columns), live)
    active = rules()
    found: dict[Migration, list[Finding]] = {m: [] for m in chosen}
    last = order.index(chosen[-1]) if chosen else -1
    for migration in order[: last + 1]:
        if migration not in found and live:
            continue
        scope = Scope(migration, backend.DATABASE_TYPE, tables.existing, backend.is_atomic(migration), live,
                      tables.fresh, columns, settings=dict(getattr(backend, "session_settings", dict)()))
        for op in await _capture(linter, migration):
            if migration in found:
                found[migration] += _check(active, op, scope)
            tables.follow(op)
            if op.kind == "set":
                scope.settings[op.details["name"]] = op.details["value"]
        tables.migration_done()
    return found


def _observed(traced: Traced, migration: Migration) -> list[Finding]:
    message = traced.observed()
    if message is None or traced.code is None:
        return []
    severity, _, safer = known_codes().get(traced.code, (Severity.WARNING, "", ""))
    return [Finding(traced.code, severity, migration.version, migration.path, traced.line, message, safer,
                    observed=True)]


async def _capture(linter: SupportsLint, migration: Migration) -> list[Operation]:
    try:
        return await linter.lint_capture(migration)
    except Exception as exc:
        reason = f"its up step could not be run against stand-ins ({type(exc).__name__}: {exc})"
        return [Operation("not_analysed", details={"code": "NA102", "reason": reason})]


def _check(active: list[LintRule], op: Operation, scope: Scope) -> list[Finding]:
    migration = scope.migration
    if op.kind == "not_analysed":
        code = op.details.get("code", "NA101")
        severity, _, safer = ENGINE_CODES[code]
        return [Finding(code, severity, migration.version, migration.path, op.line,
                        f"not analysed: {op.details['reason']}", safer)]
    found = []
    for rule in active:
        if rule.once_per_migration and rule.PLUGIN_NAME in scope.flagged:
            continue
        if rule.applies(op, scope) and (message := rule.check(op, scope)):
            if rule.once_per_migration:
                scope.flagged.add(rule.PLUGIN_NAME)
            found.append(Finding(rule.PLUGIN_NAME, rule.severity, migration.version, migration.path, op.line,
                                 message, rule.safer))
    return found


def _allowed(found: list[Finding], migration: Migration) -> list[Finding]:
    """``found`` with the file's allowances applied, and a finding for each allowance that has
    no reason or covers nothing."""
    allows = suppress.allowances(migration.path)
    suppress.apply(found, allows)
    for allow in allows:
        codes = ", ".join(allow.codes)
        if not allow.reason:
            found.append(_engine("SP102", migration, allow.line, f"`ncm: allow {codes}` gives no reason, so it "
                                 "allows nothing"))
        elif not allow.used:
            found.append(_engine("SP101", migration, allow.line, f"`ncm: allow {codes}` covers no finding"))
    return sorted(found, key=lambda f: (f.line or 0, f.code))


def _engine(code: str, migration: Migration, line: int, message: str) -> Finding:
    severity, _, safer = ENGINE_CODES[code]
    return Finding(code, severity, migration.version, migration.path, line, message, safer)


def _with_severities(findings: list[Finding], config: MigrationConfig) -> list[Finding]:
    levels: dict[str, Any] = config.section("lint").severity
    for finding in findings:
        finding.severity = levels.get(finding.code, finding.severity)
    return [f for f in findings if f.severity is not Severity.OFF]
