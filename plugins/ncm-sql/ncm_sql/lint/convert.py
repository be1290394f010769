"""Alembic's operation objects as lint operations: the table, the column and what changes,
with types and defaults compiled for the migration's dialect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ncm_core.lint.operations import Operation


def sql_text(sql: Any, dialect: sa.Dialect) -> str:
    """A statement as SQL text: strings as they are, SQLAlchemy constructs compiled."""
    if isinstance(sql, str):
        return sql
    return str(sql.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _type(type_: Any, dialect: sa.Dialect) -> str | None:
    if type_ is None:
        return None
    try:
        return sa.types.to_instance(type_).compile(dialect=dialect)
    except Exception:  # a type this dialect cannot render: compare it by name
        return type(type_).__name__.upper()


def _default(default: Any, dialect: sa.Dialect) -> str | None:
    """A server default as SQL (None when there is none)."""
    if default is None or default is False:
        return None
    arg = getattr(default, "arg", default)
    return arg if isinstance(arg, str) else sql_text(arg, dialect)


def operations(operation: Any, dialect: sa.Dialect, line: int | None) -> list[Operation]:
    name = type(operation).__name__
    convert = _CONVERTERS.get(name)
    if convert is None:
        return []
    found = convert(operation, dialect)
    for op in found:
        op.line, op.source = line, f"op.{_source_name(name)}(...)"
    return found


def _source_name(class_name: str) -> str:
    words = []
    for char in class_name.removesuffix("Op"):
        if char.isupper() and words:
            words.append("_")
        words.append(char.lower())
    return "".join(words)


def _op(kind: str, table: str | None, column: str | None = None, **details: Any) -> list[Operation]:
    return [Operation(kind, table, column, details=details)]


def _add_column(o: Any, dialect: sa.Dialect) -> list[Operation]:
    column = o.column
    return _op("add_column", o.table_name, column.name, nullable=column.nullable is not False and not column.primary_key,
               default=_default(column.server_default, dialect), type=_type(column.type, dialect),
               unique=bool(column.unique))


def _alter_column(o: Any, dialect: sa.Dialect) -> list[Operation]:
    found: list[Operation] = []
    if o.modify_type is not None:
        found += _op("alter_column", o.table_name, o.column_name, type=_type(o.modify_type, dialect),
                     existing_type=_type(o.existing_type, dialect))
    if o.modify_nullable is False:
        found += _op("alter_column", o.table_name, o.column_name, nullable=False,
                     existing_nullable=o.existing_nullable)
    if o.modify_server_default is not False and o.modify_server_default is not None:
        found += _op("alter_column", o.table_name, o.column_name, default=_default(o.modify_server_default, dialect))
    if o.modify_name is not None:
        found += _op("rename_column", o.table_name, o.column_name, new_name=o.modify_name)
    return found


def _kw(o: Any, name: str) -> bool:
    return bool((getattr(o, "kw", None) or {}).get(name))


_CONVERTERS = {
    "CreateTableOp": lambda o, d: _op("create_table", o.table_name),
    "DropTableOp": lambda o, d: _op("drop_table", o.table_name),
    "RenameTableOp": lambda o, d: _op("rename_table", o.table_name, new_name=o.new_table_name),
    "AddColumnOp": _add_column,
    "DropColumnOp": lambda o, d: _op("drop_column", o.table_name, o.column_name),
    "AlterColumnOp": _alter_column,
    "CreateIndexOp": lambda o, d: _op("create_index", o.table_name, name=o.index_name, unique=bool(o.unique),
                                      concurrently=_kw(o, "postgresql_concurrently")),
    "DropIndexOp": lambda o, d: _op("drop_index", o.table_name, name=o.index_name,
                                    concurrently=_kw(o, "postgresql_concurrently")),
    "CreateUniqueConstraintOp": lambda o, d: _op("add_constraint", o.table_name, constraint="unique"),
    "CreatePrimaryKeyOp": lambda o, d: _op("add_constraint", o.table_name, constraint="primary_key"),
    "CreateForeignKeyOp": lambda o, d: _op("add_constraint", o.source_table, constraint="foreign_key",
                                           not_valid=_kw(o, "postgresql_not_valid")),
    "CreateCheckConstraintOp": lambda o, d: _op("add_constraint", o.table_name, constraint="check",
                                                not_valid=_kw(o, "postgresql_not_valid")),
}
