"""DS: operations that destroy data. Once applied, no down step brings the rows back."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope
from ncm_core.lint.rules import column_word, table_word


class SchemaDropped(LintRule):
    PLUGIN_NAME = "DS101"
    severity = Severity.ERROR
    summary = "schema or database dropped"
    kinds = ("drop_schema",)
    safer = "drop a schema by hand after a backup, once nothing uses it; not in a migration"

    def check(self, op: Operation, scope: Scope) -> str | None:
        return f"drops {'database' if scope.database_type == 'mongodb' else 'schema'} {op.table} and everything in it"


class TableDropped(LintRule):
    PLUGIN_NAME = "DS102"
    severity = Severity.ERROR
    summary = "table or collection dropped"
    kinds = ("drop_table",)
    safer = ("stop reading and writing it in one release, rename it aside (or back it up) in the next, "
             "drop it in a later one")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if not scope.may_hold_data(op.table):
            return None
        return f"drops {table_word(scope.database_type)} {op.table}: its rows are gone and the running app's queries on it fail"


class ColumnDropped(LintRule):
    PLUGIN_NAME = "DS103"
    severity = Severity.ERROR
    summary = "column dropped (MongoDB: $unset over a collection)"
    kinds = ("drop_column",)
    safer = ("stop using the column in the app first (deploy that), then drop it in a later migration; "
             "copy the values aside if they may be needed")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if not scope.may_hold_data(op.table):
            return None
        return (f"drops {column_word(scope.database_type)} {op.table}.{op.column}: its values are gone and "
                "the running app fails where it still reads or writes it")


class TableTruncated(LintRule):
    PLUGIN_NAME = "DS104"
    severity = Severity.ERROR
    summary = "table truncated"
    kinds = ("truncate",)
    safer = "delete the rows you mean to remove with a WHERE, in batches, after a backup"

    def check(self, op: Operation, scope: Scope) -> str | None:
        return f"empties table {op.table}: every row is gone"
