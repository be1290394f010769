"""MF: changes that succeed or fail depending on the rows already there: fine on a developer's
empty table, failing on production's."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope
from ncm_core.lint.rules import table_word


class UniqueOnExisting(LintRule):
    PLUGIN_NAME = "MF101"
    severity = Severity.WARNING
    summary = "unique index or constraint on an existing table"
    kinds = ("create_index", "add_constraint")
    safer = ("look for duplicates first (GROUP BY the columns HAVING count(*) > 1) and resolve them in an "
             "earlier data migration; on PostgreSQL build the unique index CONCURRENTLY and attach it")

    def check(self, op: Operation, scope: Scope) -> str | None:
        unique = op.details.get("unique") or op.details.get("constraint") in ("unique", "primary_key")
        if not unique or not scope.exists(op.table):
            return None
        return f"adds a unique {'constraint' if op.kind == 'add_constraint' else 'index'} on existing " \
               f"{table_word(scope.database_type)} {op.table}: it fails if the rows already hold duplicates"


class NotNullWithoutDefault(LintRule):
    PLUGIN_NAME = "MF103"
    severity = Severity.ERROR
    summary = "NOT NULL column added to an existing table without a default"
    kinds = ("add_column",)
    database_types = ("postgresql", "sqlite")
    safer = ("add the column nullable (or with a server default), backfill it in a data migration, then "
             "make it NOT NULL")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("nullable", True) or op.details.get("default") is not None or not scope.exists(op.table):
            return None
        return f"adds NOT NULL column {op.table}.{op.column} without a default: it fails as soon as the table has a row"


class MadeNotNull(LintRule):
    PLUGIN_NAME = "MF104"
    severity = Severity.WARNING
    summary = "nullable column made NOT NULL"
    kinds = ("alter_column",)
    safer = "backfill the NULLs in an earlier data migration (and make the app stop writing them) first"

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("nullable") is not False or op.details.get("existing_nullable") is False \
                or not scope.exists(op.table):
            return None
        return f"makes {op.table}.{op.column} NOT NULL: it fails if a row holds NULL there"
