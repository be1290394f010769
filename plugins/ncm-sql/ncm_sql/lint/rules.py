"""The rules every SQL database shares: a narrowing type change (MF105) and a data migration
that updates or deletes a whole table in one statement (DM101)."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope

SQL = ("postgresql", "mysql", "sqlite")


def type_change(op: Operation, scope: Scope):  # type: ignore[no-untyped-def]
    """The (old, new) types of an ``alter_column`` that changes the type; old is None when
    the migration does not say it (Alembic's ``existing_type``)."""
    from ncm_sql.lint import types

    dialect = "mysql" if scope.database_type == "mysql" else scope.database_type
    new = types.parse(op.details.get("type"), dialect)
    if new is None:
        return None
    existing = op.details.get("existing_type") or scope.column_type(op.table, op.column)
    return types.parse(existing, dialect), new


class NarrowedType(LintRule):
    PLUGIN_NAME = "MF105"
    severity = Severity.WARNING
    summary = "column type narrowed"
    kinds = ("alter_column",)
    database_types = SQL
    safer = ("check that every value fits (SELECT max(length(col)) ... ) first; or add a new column of the "
             "new type, backfill it, and switch to it")

    def check(self, op: Operation, scope: Scope) -> str | None:
        from ncm_sql.lint import types

        change = type_change(op, scope)
        if change is None or change[0] is None or not scope.exists(op.table):
            return None
        why = types.narrowing(*change)
        return f"changes {op.table}.{op.column} to {op.details['type']}, {why}: it fails on a value that does " \
               "not fit" if why else None


class WholeTableWrite(LintRule):
    PLUGIN_NAME = "DM101"
    severity = Severity.WARNING
    summary = "whole-table UPDATE or DELETE in one statement in a data migration"
    kinds = ("update", "delete")
    database_types = SQL
    safer = ("backfill in batches: `async for rows in ctx.batches(table, [...])`, one short transaction "
             "each, so locks and undo stay small and the run can be stopped")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("where") or not scope.data_migration or not scope.may_hold_data(op.table):
            return None
        verb = "updates" if op.kind == "update" else "deletes"
        return f"{verb} every row of {op.table} in one statement: one long transaction that locks them all"
