"""What a lint rule is: a class per code, registered through ``ncm_register_lint_rules``.

A complete rule::

    from ncm_core.lint.interface import LintRule
    from ncm_core.lint.findings import Severity

    class NoDropTable(LintRule):
        PLUGIN_NAME = "XX101"                 # the code: stable, what users search for
        severity = Severity.ERROR             # the default; [lint.severity] changes it
        summary = "table dropped"
        kinds = ("drop_table",)               # the operation kinds it reads
        safer = "keep the table until no release reads it, then drop it"

        def check(self, op, scope):
            return f"drops table {op.table}: its rows are gone"   # or None: nothing to say
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ncm_core.lint.findings import Severity

if TYPE_CHECKING:
    from ncm_core.lint.operations import Operation, Scope


class LintRule:
    PLUGIN_NAME: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    summary: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    safer: ClassVar[str] = ""
    database_types: ClassVar[tuple[str, ...]] = ()
    """The backends (``DATABASE_TYPE``) it applies to; empty: every one."""
    once_per_migration: ClassVar[bool] = False
    """Report at most one finding per migration (a missing setting, not a bad operation)."""

    def applies(self, op: Operation, scope: Scope) -> bool:
        return op.kind in self.kinds and (not self.database_types or scope.database_type in self.database_types)

    def check(self, op: Operation, scope: Scope) -> str | None:
        """What ``op`` will do (one sentence naming the table), or None when it is safe here."""
        raise NotImplementedError
