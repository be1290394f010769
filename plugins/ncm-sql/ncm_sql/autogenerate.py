"""Autogenerate and drift checks: Alembic's own comparison of the live schema with the models.

The diff and its rendering are Alembic's (``produce_migrations``, ``compare_metadata``,
``render_python_code``), so a generated migration reads exactly as ``alembic revision
--autogenerate`` would write it. What ncm adds: loading the models from a
``module:attribute`` reference, keeping its own tables (and Alembic's ``alembic_version``)
out of the comparison, and one readable line per difference for ``--drift``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from ncm_core.backend import GeneratedSteps
from ncm_core.errors import UsageError
from ncm_sql.tables import AUDIT_TABLE, BACKFILL_TABLE, HISTORY_TABLE

IGNORED_TABLES = frozenset({HISTORY_TABLE, AUDIT_TABLE, BACKFILL_TABLE, "alembic_version"})
"""Tables that belong to the migration tools, not to the application's models."""

_DIALECT_PREFIX = re.compile(r"\b(postgresql|mysql|sqlite|mssql|oracle)\.[A-Za-z_]")

Target = sa.MetaData | list[sa.MetaData]


def load_metadata(ref: str) -> Target:
    """The models ``ref`` names: ``package.module:Base.metadata`` (a MetaData, a declarative
    base, or a list of MetaData), imported with the current directory on ``sys.path`` as
    ``alembic``'s env.py would find them."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"target metadata {ref!r} is not module:attribute, e.g. myapp.models:Base.metadata")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        value: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(f"cannot import {module_name} for target metadata: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(cwd)
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(f"target metadata {ref!r}: {module_name} has no attribute {attribute}") from None
    if isinstance(getattr(value, "metadata", None), sa.MetaData):
        value = value.metadata
    if isinstance(value, (list, tuple)) and value and all(isinstance(m, sa.MetaData) for m in value):
        return list(value)
    if not isinstance(value, sa.MetaData):
        raise UsageError(f"target metadata {ref!r} is a {type(value).__name__}, not a SQLAlchemy MetaData")
    return value


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's ``include_object`` hook: leave the migration tools' own tables alone."""
    return not (type_ == "table" and name in IGNORED_TABLES)  # a table left out takes its columns and indexes along


def _context(connection: sa.Connection, metadata: Target) -> MigrationContext:
    return MigrationContext.configure(connection, opts={
        "target_metadata": metadata,
        "include_object": include_object,
        "compare_type": True,
    })


def generate(connection: sa.Connection, metadata: Target) -> GeneratedSteps | None:
    """The upgrade and downgrade that bring the database to the models; None when they agree."""
    context = _context(connection, metadata)
    script = produce_migrations(context, metadata)
    if script.upgrade_ops.is_empty():
        return None
    for steps in (script.upgrade_ops, script.downgrade_ops):
        _drop_indexes_with_their_table(steps)
    batch = connection.dialect.name == "sqlite"  # SQLite cannot ALTER most things: Alembic's batch mode can
    upgrade, downgrade = ("    " + render_python_code(steps, render_as_batch=batch, migration_context=context)
                          for steps in (script.upgrade_ops, script.downgrade_ops))  # Alembic's template indents line 1
    dialects = sorted(set(_DIALECT_PREFIX.findall(upgrade + downgrade)))
    return GeneratedSteps(upgrade, downgrade, tuple(f"from sqlalchemy.dialects import {d}" for d in dialects))


def _drop_indexes_with_their_table(container: ops.OpContainer) -> None:
    """Leave out the DROP INDEX that Alembic puts before a DROP TABLE of the same table: the
    table takes its indexes along, and MySQL refuses to drop an index a foreign key uses."""
    dropped = {(op.schema, op.table_name) for op in container.ops if isinstance(op, ops.DropTableOp)}
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps) and (op.schema, op.table_name) in dropped:
            op.ops = [o for o in op.ops if not isinstance(o, ops.DropIndexOp)]
    container.ops = [op for op in container.ops if not (isinstance(op, ops.ModifyTableOps) and not op.ops)]


def differences(connection: sa.Connection, metadata: Target) -> list[str]:
    """One line per difference, saying on which side each thing is."""
    diffs = compare_metadata(_context(connection, metadata), metadata)
    return [describe(d, connection.dialect) for d in _flatten(diffs)]


def _flatten(diffs: list[Any]) -> Iterator[tuple[Any, ...]]:
    for diff in diffs:
        if isinstance(diff, list):  # the modify_* changes of one column come grouped
            yield from diff
        else:
            yield diff


_IN_MODELS = "in the models, not in the database"
_IN_DATABASE = "in the database, not in the models"


def describe(diff: tuple[Any, ...], dialect: sa.Dialect) -> str:
    """A line a person can act on, for each kind of difference ``compare_metadata`` returns."""
    kind = diff[0]
    side = _IN_MODELS if kind.startswith("add_") else _IN_DATABASE
    if kind in ("add_table", "remove_table"):
        return f"table {_table(diff[1])}: {side}"
    if kind in ("add_column", "remove_column"):
        return f"column {_qualified(diff[1], diff[2])}.{diff[3].name}: {side}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        unique = "unique index" if index.unique else "index"
        return f"{unique} {index.name} on {_table(index.table)}({_columns(index)}): {side}"
    if kind in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        name = constraint.name or "(unnamed)"
        return f"unique constraint {name} on {_table(constraint.table)}({_columns(constraint)}): {side}"
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        target = fk.elements[0].column.table if fk.elements else None
        referred = ", ".join(e.column.name for e in fk.elements)
        return (f"foreign key {fk.name or '(unnamed)'} {_table(fk.table)}({_columns(fk)}) -> "
                f"{_table(target) if target is not None else '?'}({referred}): {side}")
    if kind.startswith("modify_"):
        _, schema, table, column, _existing, database, models = diff
        what = {"modify_type": "type", "modify_nullable": "nullable", "modify_default": "server default",
                "modify_comment": "comment"}.get(kind, kind.removeprefix("modify_"))
        return (f"column {_qualified(schema, table)}.{column}: {what} is {_show(database, dialect)} in the "
                f"database, {_show(models, dialect)} in the models")
    if kind in ("add_table_comment", "remove_table_comment"):
        return f"comment of table {_table(diff[1])} differs"
    return f"{kind}: {diff[1:]!r}"


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _table(table: sa.Table) -> str:
    return _qualified(table.schema, table.name)


def _columns(item: Any) -> str:
    return ", ".join(str(getattr(c, "name", c)) for c in item.columns)


def _show(value: Any, dialect: sa.Dialect) -> str:
    if isinstance(value, sa.types.TypeEngine):
        try:
            return value.compile(dialect=dialect)
        except Exception:
            return repr(value)
    if isinstance(value, bool):
        return "NULL allowed" if value else "NOT NULL"
    if value is None:
        return "none"
    return str(getattr(value, "arg", value))
