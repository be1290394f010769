"""LK: PostgreSQL's locks. What each operation takes on an existing table, and what to write
instead so that the application's reads and writes go on while it runs."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope

PG = ("postgresql",)
VOLATILE = {"RAND", "UUID", "clock_timestamp", "nextval", "uuid_generate_v4", "uuid_generate_v1", "timeofday",
            "statement_timestamp", "random"}
"""Volatile functions whose default PostgreSQL cannot store once: each existing row gets its
own value, so ADD COLUMN rewrites the table (sqlglot's names: RAND is random(), UUID gen_random_uuid())."""


class PostgresRule(LintRule):
    database_types = PG


class IndexNotConcurrent(PostgresRule):
    PLUGIN_NAME = "LK101"
    severity = Severity.WARNING
    summary = "CREATE INDEX without CONCURRENTLY on an existing table"
    kinds = ("create_index",)
    safer = ("op.create_index(..., postgresql_concurrently=True) in a migration with transactional = False "
             "(CREATE INDEX CONCURRENTLY): it takes SHARE UPDATE EXCLUSIVE, which lets writes go on")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("concurrently") or not scope.exists(op.table):
            return None
        return f"builds index {op.details.get('name')} on {op.table} under a SHARE lock: writes to the table wait " \
               "until the whole build is done"


class DropIndexNotConcurrent(PostgresRule):
    PLUGIN_NAME = "LK102"
    severity = Severity.WARNING
    summary = "DROP INDEX without CONCURRENTLY"
    kinds = ("drop_index",)
    safer = "DROP INDEX CONCURRENTLY (op.drop_index(..., postgresql_concurrently=True)) with transactional = False"

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("concurrently") or (op.table is not None and not scope.exists(op.table)):
            return None
        return f"drops index {op.details.get('name')} under an ACCESS EXCLUSIVE lock on its table: reads and " \
               "writes wait behind it, and behind any long query it waits for"


class ConcurrentInTransaction(PostgresRule):
    PLUGIN_NAME = "LK103"
    severity = Severity.ERROR
    summary = "CONCURRENTLY inside a transaction"
    kinds = ("create_index", "drop_index")
    safer = "set transactional = False in the migration: ncm then runs it on an autocommit connection"

    def check(self, op: Operation, scope: Scope) -> str | None:
        if not op.details.get("concurrently") or not scope.transactional:
            return None
        return f"{'creates' if op.kind == 'create_index' else 'drops'} index {op.details.get('name')} CONCURRENTLY " \
               "in a transactional migration: PostgreSQL refuses it (cannot run inside a transaction block)"


class ForeignKeyValidated(PostgresRule):
    PLUGIN_NAME = "LK104"
    severity = Severity.WARNING
    summary = "ADD FOREIGN KEY without NOT VALID on an existing table"
    kinds = ("add_constraint",)
    safer = ("add it NOT VALID (postgresql_not_valid=True), then VALIDATE CONSTRAINT in a later migration: "
             "validating takes only SHARE UPDATE EXCLUSIVE")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("constraint") != "foreign_key" or op.details.get("not_valid") or not scope.exists(op.table):
            return None
        return f"adds a foreign key to {op.table} and checks every row while holding a SHARE ROW EXCLUSIVE lock " \
               "on both tables: writes wait for the whole scan"


class CheckValidated(PostgresRule):
    PLUGIN_NAME = "LK105"
    severity = Severity.WARNING
    summary = "ADD CHECK without NOT VALID on an existing table"
    kinds = ("add_constraint",)
    safer = "add it NOT VALID (postgresql_not_valid=True), then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration"

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("constraint") != "check" or op.details.get("not_valid") or not scope.exists(op.table):
            return None
        return f"adds a CHECK constraint to {op.table} and scans every row under an ACCESS EXCLUSIVE lock"


class TypeChangeRewrites(PostgresRule):
    PLUGIN_NAME = "LK106"
    severity = Severity.WARNING
    summary = "column type change that rewrites the table"
    kinds = ("alter_column",)
    safer = ("add a column of the new type, backfill it in batches, switch the app to it, drop the old one; "
             "widening a varchar (or to text) does not rewrite")

    def check(self, op: Operation, scope: Scope) -> str | None:
        from ncm_sql.lint.rules import type_change

        change = type_change(op, scope)
        if change is None or not scope.exists(op.table):
            return None
        old, new = change
        if old is not None and not rewrites(old, new):
            return None
        known = "" if old is not None else " (its existing_type is not given, so ncm assumes it is not a widening)"
        return f"changes {op.table}.{op.column} to {op.details['type']}: PostgreSQL rewrites the whole table " \
               f"and its indexes under an ACCESS EXCLUSIVE lock{known}"


def rewrites(old, new) -> bool:  # type: ignore[no-untyped-def]
    """Whether PostgreSQL rewrites the table to change ``old`` to ``new`` (binary-compatible
    widenings do not: a longer or unbounded varchar, varchar to text, more numeric precision)."""
    strings = ("VARCHAR", "TEXT")
    if old == new:
        return False
    if old.name in strings and new.name in strings:
        return new.name == "VARCHAR" and new.length is not None and (old.length is None or new.length < old.length)
    if old.name == new.name == "DECIMAL":
        if not new.params:
            return False
        same_scale = (old.params[1:] or ("0",)) == (new.params[1:] or ("0",))
        return not (old.params and same_scale and int(new.params[0]) >= int(old.params[0]))
    return True


class VolatileDefault(PostgresRule):
    PLUGIN_NAME = "LK107"
    severity = Severity.WARNING
    summary = "column added with a volatile default"
    kinds = ("add_column",)
    safer = ("add the column without a default (or with a constant one), set the default for new rows, then "
             "backfill existing rows in batches")

    def check(self, op: Operation, scope: Scope) -> str | None:
        default = op.details.get("default")
        if default is None or not scope.exists(op.table) or not _volatile(default):
            return None
        return f"adds {op.table}.{op.column} with the volatile default {default}: every row needs its own value, " \
               "so PostgreSQL rewrites the table under an ACCESS EXCLUSIVE lock"


def _volatile(default: str) -> bool:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(default, read="postgres")
    except sqlglot.errors.SqlglotError:
        return False
    names = {f.name if isinstance(f, exp.Anonymous) else f.sql_name() for f in tree.find_all(exp.Func)}
    return bool(names & VOLATILE)


class SetNotNullScans(PostgresRule):
    PLUGIN_NAME = "LK108"
    severity = Severity.WARNING
    summary = "SET NOT NULL scans the table under ACCESS EXCLUSIVE"
    kinds = ("alter_column",)
    safer = ("add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL: "
             "PostgreSQL 12+ uses the validated check and skips the scan")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("nullable") is not False or op.details.get("existing_nullable") is False \
                or not scope.exists(op.table):
            return None
        return f"makes {op.table}.{op.column} NOT NULL: PostgreSQL reads every row to check it while holding an " \
               "ACCESS EXCLUSIVE lock"


class NoLockTimeout(PostgresRule):
    PLUGIN_NAME = "LK109"
    severity = Severity.WARNING
    summary = "DDL on an existing table without lock_timeout"
    kinds = ("add_column", "drop_column", "alter_column", "rename_column", "rename_table", "drop_table", "truncate",
             "add_constraint", "create_index", "drop_index")
    once_per_migration = True
    safer = ("op.execute(\"SET lock_timeout = '2s'\") first in the migration, and retry the run when it gives up: "
             "a DDL statement that cannot get its lock then fails fast instead of stalling the table")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if "lock_timeout" in scope.settings or op.details.get("concurrently") or not scope.exists(op.table):
            return None
        return f"changes existing table {op.table} without a lock_timeout: while the ALTER waits for its lock " \
               "behind a long query, every later query on the table queues behind the ALTER"


RULES = [NoLockTimeout, IndexNotConcurrent, DropIndexNotConcurrent, ConcurrentInTransaction, ForeignKeyValidated, CheckValidated,
         TypeChangeRewrites, VolatileDefault, SetNotNullScans]
