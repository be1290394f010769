"""Raw SQL (``op.execute("...")``, ``ctx.execute``, SQL files) read with sqlglot into the same
operations Alembic's objects give, so one rule covers both ways of writing a change. A
statement sqlglot cannot parse (it falls back to a bare command) is not analysed, and said so;
one it parses that changes nothing the rules look at (INSERT, SELECT, SET ...) yields nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from ncm_core.lint.operations import Operation

DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def read(sql: str, dialect: str, line: int | None) -> list[Operation]:
    """The operations of ``sql`` (one or more statements) in ``dialect`` (SQLAlchemy's name)."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback warning is our NA101
    try:
        trees = [t for t in sqlglot.parse(sql, read=DIALECTS.get(dialect, dialect)) if t is not None]
    except sqlglot.errors.SqlglotError as exc:
        return [_not_analysed(sql, line, f"sqlglot cannot parse it ({str(exc).splitlines()[0]})")]
    return [op for tree in trees for op in _operations(tree, sql, line)]


def _not_analysed(sql: str, line: int | None, reason: str) -> Operation:
    return Operation("not_analysed", line=line, source=_short(sql), details={"reason": f"{_short(sql)!r}: {reason}"})


def _short(sql: str) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _name(node: exp.Expression | None) -> str | None:
    return node.name if node is not None else None


def _operations(tree: exp.Expression, sql: str, line: int | None) -> Iterator[Operation]:
    source = _short(tree.sql())
    if isinstance(tree, exp.Command):
        yield _not_analysed(sql, line, "sqlglot does not know this statement, so no rule has read it")
    elif isinstance(tree, exp.Drop):
        yield from _drop(tree, source, line)
    elif isinstance(tree, exp.TruncateTable):
        for table in tree.expressions:
            yield Operation("truncate", table.name, line=line, source=source)
    elif isinstance(tree, exp.Create):
        yield from _create(tree, source, line)
    elif isinstance(tree, exp.Alter) and tree.args.get("kind") == "TABLE":
        for action in tree.args.get("actions") or []:
            yield from _alter(tree.this.name, action, bool(tree.args.get("not_valid")), source, line)
    elif isinstance(tree, exp.Set):
        for item in tree.expressions:
            if isinstance(item.this, exp.EQ):
                yield Operation("set", line=line, source=source,
                                details={"name": item.this.this.name.lower(), "value": item.this.expression.name})
    elif isinstance(tree, (exp.Update, exp.Delete)):
        kind = "update" if isinstance(tree, exp.Update) else "delete"
        yield Operation(kind, tree.this.name, line=line, source=source,
                        details={"where": tree.args.get("where") is not None})


def _drop(tree: exp.Drop, source: str, line: int | None) -> Iterator[Operation]:
    kind = (tree.args.get("kind") or "").upper()
    for target in tree.args.get("tables") or [tree.this]:
        if kind == "TABLE":
            yield Operation("drop_table", target.name, line=line, source=source)
        elif kind in ("SCHEMA", "DATABASE"):
            yield Operation("drop_schema", target.name or _name(target.args.get("db")), line=line, source=source)
        elif kind == "INDEX":
            yield Operation("drop_index", None, line=line, source=source,
                            details={"name": target.name, "concurrently": bool(tree.args.get("concurrently"))})


def _create(tree: exp.Create, source: str, line: int | None) -> Iterator[Operation]:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        yield Operation("create_table", tree.this.name if isinstance(tree.this, exp.Table) else
                        _name(tree.this.this), line=line, source=source)
    elif kind == "INDEX":
        index = tree.this
        yield Operation("create_index", _name(index.args.get("table")), line=line, source=source,
                        details={"name": index.name, "unique": bool(tree.args.get("unique")),
                                 "concurrently": bool(tree.args.get("concurrently"))})


def _alter(table: str, action: exp.Expression, not_valid: bool, source: str, line: int | None) -> Iterator[Operation]:
    def op(kind: str, column: str | None = None, **details: object) -> Operation:
        return Operation(kind, table, column, line=line, source=source, details=details)

    if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
        yield from (op("drop_column", c.name) for c in action.args.get("tables") or [])
    elif isinstance(action, exp.ColumnDef):
        yield op("add_column", action.name, **_column_def(action))
    elif isinstance(action, exp.RenameColumn):
        yield op("rename_column", action.this.name, new_name=action.args["to"].name)
    elif isinstance(action, exp.AlterRename):
        yield op("rename_table", new_name=action.this.name)
    elif isinstance(action, exp.AlterColumn):
        yield from _alter_column(op, action)
    elif isinstance(action, exp.ModifyColumn):  # MySQL's MODIFY / CHANGE
        definition = action.this
        if action.args.get("rename_from") is not None and action.args["rename_from"].name != definition.name:
            yield op("rename_column", action.args["rename_from"].name, new_name=definition.name)
        details = _column_def(definition)
        yield op("alter_column", definition.name, type=details["type"], nullable=details["nullable"])
    elif isinstance(action, exp.AddConstraint):
        for constraint in action.expressions:
            yield op("add_constraint", constraint=_constraint_kind(constraint), not_valid=not_valid)


def _alter_column(op, action: exp.AlterColumn) -> Iterator[Operation]:  # type: ignore[no-untyped-def]
    column = action.this.name
    if action.args.get("dtype") is not None:
        yield op("alter_column", column, type=action.args["dtype"].sql())
    if action.args.get("allow_null") is False:
        yield op("alter_column", column, nullable=False)
    if action.args.get("default") is not None:
        yield op("alter_column", column, default=action.args["default"].sql())


def _column_def(column: exp.ColumnDef) -> dict[str, object]:
    kinds = [c.args.get("kind") for c in column.args.get("constraints") or []]
    default = next((k.this for k in kinds if isinstance(k, exp.DefaultColumnConstraint)), None)
    not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds)
    primary = any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)
    dtype = column.args.get("kind")
    return {"nullable": not (not_null or primary), "default": default.sql() if default is not None else None,
            "type": dtype.sql() if dtype is not None else None,
            "unique": any(isinstance(k, exp.UniqueColumnConstraint) for k in kinds)}


def _constraint_kind(node: exp.Expression) -> str:
    inner = node.expressions[0] if isinstance(node, exp.Constraint) and node.expressions else node
    return {exp.ForeignKey: "foreign_key", exp.CheckColumnConstraint: "check", exp.UniqueColumnConstraint: "unique",
            exp.PrimaryKey: "primary_key", exp.PrimaryKeyColumnConstraint: "primary_key"}.get(type(inner), "other")
