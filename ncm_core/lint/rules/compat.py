"""BC: changes the running release of the application does not survive: it still uses the
old names until the new release is deployed, and a migration runs before (or while) it is."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope
from ncm_core.lint.rules import column_word, table_word


class TableRenamed(LintRule):
    PLUGIN_NAME = "BC101"
    severity = Severity.ERROR
    summary = "table or collection renamed"
    kinds = ("rename_table",)
    safer = ("expand and contract: create the new table (or a view under the new name), write to both, "
             "move the reads, then drop the old one in a later release")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if not scope.may_hold_data(op.table):
            return None
        return (f"renames {table_word(scope.database_type)} {op.table} to {op.details.get('new_name')}: the "
                "running app's queries on the old name fail from then on")


class ColumnRenamed(LintRule):
    PLUGIN_NAME = "BC102"
    severity = Severity.ERROR
    summary = "column renamed (MongoDB: $rename)"
    kinds = ("rename_column",)
    safer = ("add the new column, write both and backfill, move the reads, then drop the old column "
             "in a later release")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if not scope.may_hold_data(op.table):
            return None
        return (f"renames {column_word(scope.database_type)} {op.table}.{op.column} to "
                f"{op.details.get('new_name')}: the running app still uses the old name")
