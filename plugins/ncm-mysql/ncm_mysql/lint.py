"""LK: MySQL/MariaDB's table copies. An ALTER that InnoDB cannot do INSTANT or INPLACE copies
the whole table, blocking writes for as long as the copy takes."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope

ONE_LENGTH_BYTE = 63
"""The longest utf8mb4 VARCHAR whose length fits one byte (255 bytes): InnoDB extends a
VARCHAR in place only while the length keeps its number of bytes."""


class CopyingAlter(LintRule):
    PLUGIN_NAME = "LK201"
    severity = Severity.WARNING
    summary = "ALTER that copies the table (ALGORITHM=COPY)"
    kinds = ("alter_column",)
    database_types = ("mysql",)
    safer = ("append ENUM values at the end (INSTANT), widen VARCHARs within one length byte (INPLACE); for "
             "other changes use an online schema change tool (gh-ost, pt-online-schema-change) or a new column")

    def check(self, op: Operation, scope: Scope) -> str | None:
        from ncm_sql.lint.rules import type_change

        change = type_change(op, scope)
        if change is None or not scope.exists(op.table):
            return None
        old, new = change
        if old is not None and not copies(old, new):
            return None
        return f"changes {op.table}.{op.column} to {op.details['type']}: InnoDB copies the table to do it, and " \
               "writes to it wait for the whole copy"


def copies(old, new) -> bool:  # type: ignore[no-untyped-def]
    from ncm_sql.lint.types import enum_values

    if old == new:
        return False
    if old.name == new.name and old.name in ("ENUM", "SET"):
        before, after = enum_values(old), enum_values(new)
        return after[: len(before)] != before
    if old.name == new.name == "VARCHAR" and old.length and new.length and new.length >= old.length:
        return (old.length <= ONE_LENGTH_BYTE) != (new.length <= ONE_LENGTH_BYTE)
    return True


class NotNullWithoutDefault(LintRule):
    PLUGIN_NAME = "LK202"
    severity = Severity.WARNING
    summary = "NOT NULL column added without a DEFAULT"
    kinds = ("add_column",)
    database_types = ("mysql",)
    safer = "give the column an explicit server_default, or add it nullable, backfill it, then make it NOT NULL"

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("nullable", True) or op.details.get("default") is not None or not scope.exists(op.table):
            return None
        return f"adds NOT NULL column {op.table}.{op.column} without a DEFAULT: existing rows silently get the " \
               "type's implicit default (0, '', a zero date), which looks like real data"


RULES = [CopyingAlter, NotNullWithoutDefault]
