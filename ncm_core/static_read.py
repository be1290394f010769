"""A migration file's metadata read from its syntax tree, without importing it.

Every command reads every migration file to learn its version, description, type and
dependencies, but only the migrations that run need their code: importing 500 modules (and
what they import) is most of what ``ncm status`` would otherwise cost. A file is read
statically only when its top level is plain: imports, a docstring, assignments of literals,
and undecorated ``upgrade``/``downgrade``/``validate`` functions. Anything else (a class, a
computed ``depends_on``, ``migration.add_dependency(...)``, a decorator, an ``if``) makes the
caller import the file, as before.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

METADATA = ("type", "depends_on", "transactional", "transaction_mode", "revision", "down_revision", "branch_labels")
STEPS = {"upgrade": "up", "downgrade": "down", "validate": "validate"}


@dataclass
class StaticFile:
    """What a plain migration file declares, as the import would have found it."""

    docstring: str | None
    values: dict[str, Any] = field(default_factory=dict)
    """The literal values of the metadata names it assigns."""
    steps: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    """``"up"``, ``"down"``, ``"validate"`` -> (is ``async def``, takes an argument)."""


def read(source: bytes, tree: ast.Module, enums: dict[str, dict[str, Any]]) -> StaticFile | None:
    """The file's metadata, or None when only importing it can tell. ``enums`` are the
    enumerations a file may name a value by (``MigrationType.DATA``): class name -> members."""
    found = StaticFile(ast.get_docstring(tree))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name) in (*STEPS, *METADATA, "migration") for alias in node.names):
                return None
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            if not _assignment(node, found, enums):
                return None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.decorator_list:
                return None
            if node.name in STEPS:
                arguments = node.args
                takes = bool(arguments.posonlyargs or arguments.args or arguments.vararg
                             or arguments.kwonlyargs or arguments.kwarg)
                found.steps[STEPS[node.name]] = (isinstance(node, ast.AsyncFunctionDef), takes)
        else:
            return None
    return found if "up" in found.steps and not _uses_migration(source, tree) else None


def description(static: StaticFile, version: str) -> str:
    """The docstring's first line, cleaned as ``inspect.getdoc`` cleans it."""
    doc = inspect.cleandoc(static.docstring) if static.docstring else ""
    return doc.strip().splitlines()[0] if doc.strip() else version


def _assignment(node: ast.Assign | ast.AnnAssign, found: StaticFile, enums: dict[str, dict[str, Any]]) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) for t in targets):
        return False
    names = [t.id for t in targets]  # type: ignore[attr-defined]
    if any(name in STEPS for name in names):
        return False
    if not any(name in METADATA for name in names):
        return True
    if node.value is None:
        return False
    value = _literal(node.value, enums)
    if value is _NOT_LITERAL:
        return False
    for name in names:
        found.values[name] = value
    return True


_NOT_LITERAL = object()


def _literal(node: ast.expr, enums: dict[str, dict[str, Any]]) -> Any:
    """A literal, or a member of one of ``enums`` (``MigrationType.DATA``)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in enums:
        return enums[node.value.id].get(node.attr, _NOT_LITERAL)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _uses_migration(source: bytes, tree: ast.Module) -> bool:
    """Whether any code names ``migration`` (the object a file may call ``add_dependency`` on).
    The text is searched first: walking every tree would cost more than parsing it."""
    return _MIGRATION.search(source) is not None and any(
        isinstance(node, ast.Name) and node.id == "migration" for node in ast.walk(tree))


_MIGRATION = re.compile(rb"\bmigration\b")
