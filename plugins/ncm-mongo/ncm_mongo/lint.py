"""``ncm lint`` on MongoDB: the step runs against the dry run's recording stand-ins, and each
call it made (``db.users.update_many(...)``, ``db.command("collMod", ...)``) becomes a lint
operation; then the MG rules, which only MongoDB has."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule
from ncm_core.lint.operations import Operation, Scope

if TYPE_CHECKING:
    from ncm_core.migration import Migration
    from ncm_core.standins import Call
    from ncm_mongo.backend import MongoBackend


async def capture(backend: MongoBackend, migration: Migration) -> list[Operation]:
    from ncm_mongo.recording import RecordingContext

    ctx = RecordingContext(backend.config, backend.database_name, migration)
    await migration.run("up", ctx)
    return [op for call in ctx.statements.calls for op in operations(call)]


def _name(value: Any) -> str:
    return getattr(value, "name", None) or str(value)


def _arg(call: Call, index: int, keyword: str) -> Any:
    return call.args[index] if len(call.args) > index else call.kwargs.get(keyword)


def operations(call: Call) -> Iterator[Operation]:
    collection = call.target.removeprefix("db.") if call.target.startswith("db.") else None
    source = f"{call.target}.{call.method}(...)"

    def op(kind: str, table: str | None, column: str | None = None, **details: Any) -> Operation:
        return Operation(kind, table, column, line=call.line, source=source, details=details)

    if call.method == "drop_database":
        yield op("drop_schema", _name(_arg(call, 0, "name_or_database")))
    elif call.method == "drop_collection" and collection is None:
        yield op("drop_table", _name(_arg(call, 0, "name_or_collection")))
    elif call.method == "drop" and collection:
        yield op("drop_table", collection)
    elif call.method == "create_collection":
        yield op("create_table", _name(_arg(call, 0, "name")))
    elif call.method == "rename" and collection:
        yield op("rename_table", collection, new_name=_arg(call, 0, "new_name"))
    elif call.method == "create_index" and collection:
        yield op("create_index", collection, name=call.kwargs.get("name"), unique=bool(call.kwargs.get("unique")),
                 hidden=bool(call.kwargs.get("hidden")))
    elif call.method == "create_indexes" and collection:
        for model in _arg(call, 0, "indexes") or []:
            document = getattr(model, "document", {})
            yield op("create_index", collection, name=document.get("name"), unique=bool(document.get("unique")),
                     hidden=bool(document.get("hidden")))
    elif call.method in ("update_many", "delete_many") and collection:
        yield from _write(op, collection, call)
    elif call.method == "command" and collection is None:
        yield from _command(op, call)


def _write(op: Any, collection: str, call: Call) -> Iterator[Operation]:
    where = bool(_arg(call, 0, "filter"))
    if call.method == "delete_many":
        yield op("delete", collection, where=where)
        return
    update = _arg(call, 1, "update")
    yield op("update", collection, where=where)
    if isinstance(update, Mapping):
        for field in update.get("$unset") or {}:
            yield op("drop_column", collection, field)
        for field, new in (update.get("$rename") or {}).items():
            yield op("rename_column", collection, field, new_name=new)


def _command(op: Any, call: Call) -> Iterator[Operation]:
    """``db.command("collMod", "users", validator=...)`` or ``db.command({"collMod": "users", ...})``."""
    first = _arg(call, 0, "command")
    if isinstance(first, Mapping):
        name, document = next(iter(first), None), dict(first)
        value = document.get(name)
    else:
        name, value, document = first, _arg(call, 1, "value"), dict(call.kwargs)
    if name == "collMod" and "validator" in document:
        yield op("set_validator", _name(value), action=document.get("validationAction", "error"),
                 level=document.get("validationLevel", "strict"))
    elif name == "dropDatabase":
        yield op("drop_schema", None)
    elif name == "renameCollection":
        yield op("rename_table", str(value).split(".", 1)[-1], new_name=str(document.get("to", "")).split(".", 1)[-1])


MONGO = ("mongodb",)


class IndexOnExisting(LintRule):
    PLUGIN_NAME = "MG101"
    severity = Severity.WARNING
    summary = "index build on an existing collection"
    kinds = ("create_index",)
    database_types = MONGO
    safer = ("on a large collection build it as a rolling index build (one member at a time), or create it "
             "hidden (hidden=True) and unhide it once it is built and checked")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("hidden") or not scope.exists(op.table):
            return None
        return f"builds an index on existing collection {op.table}: the build loads the primary and every " \
               "member and takes exclusive locks at its start and end; queries that need it are slow until it is done"


class UnfilteredWrite(LintRule):
    PLUGIN_NAME = "MG102"
    severity = Severity.WARNING
    summary = "update_many/delete_many without a filter in a data migration"
    kinds = ("update", "delete")
    database_types = MONGO
    safer = ("walk the collection with `async for docs in ctx.batches(coll, filter)` and write each batch "
             "by _id, so each write is small and the run can stop and resume")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("where") or not scope.data_migration or not scope.may_hold_data(op.table):
            return None
        verb = "updates" if op.kind == "update" else "deletes"
        return f"{verb} every document of {op.table} in one call with an empty filter: one long operation " \
               "(one huge transaction in a transactional migration) with no batch to resume from"


class UnbatchedWrite(LintRule):
    PLUGIN_NAME = "MG104"
    severity = Severity.INFO
    summary = "update_many/delete_many with a filter, not batched, in a data migration"
    kinds = ("update", "delete")
    database_types = MONGO
    safer = UnfilteredWrite.safer

    def check(self, op: Operation, scope: Scope) -> str | None:
        # A write inside `async for ... in ctx.batches(...)` is never recorded: the stand-in
        # yields no batch. So every recorded one runs as a single call over whatever matches.
        if not op.details.get("where") or not scope.data_migration or not scope.may_hold_data(op.table):
            return None
        verb = "updates" if op.kind == "update" else "deletes"
        return f"{verb} every matching document of {op.table} in one call, outside ctx.batches: on a large " \
               "match it is one long operation with no batch to resume from"


class StricterValidator(LintRule):
    PLUGIN_NAME = "MG103"
    severity = Severity.WARNING
    summary = "$jsonSchema validator with validationAction error on an existing collection"
    kinds = ("set_validator",)
    database_types = MONGO
    safer = ("set validationAction: 'warn' first, find the documents that fail it ({$nor: [validator]}) and fix "
             "them in a data migration, then switch to 'error'")

    def check(self, op: Operation, scope: Scope) -> str | None:
        if op.details.get("action") != "error" or not scope.exists(op.table):
            return None
        level = "every update of a non-conforming document" if op.details.get("level") == "strict" else \
            "new invalid writes"
        return f"sets a validator on existing collection {op.table} with validationAction error: {level} " \
               "fails from then on, and documents already there are not checked"


RULES = [IndexOnExisting, UnfilteredWrite, UnbatchedWrite, StricterValidator]
