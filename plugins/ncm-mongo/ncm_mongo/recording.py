"""Dry runs on MongoDB: stand-ins for the database, its collections, the client and the
session that record each operation a migration would send instead of sending it.

PyMongo's command monitoring cannot serve here: it reports commands as they execute. The
stand-ins ask PyMongo's own classes which names are methods, so every method of
``AsyncDatabase`` and ``AsyncCollection`` is recorded and any other attribute is a collection,
as it is on the real objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from ncm_core.progress import progress
from ncm_mongo.context import MongoStepContext, after

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.migration import Migration

_LONGEST = 500


class Nothing:
    """What a recorded operation returns: nothing ran, so there is nothing to read. It can be
    awaited, iterated, chained (``.sort().limit()``) and read (``.inserted_id``), all empty."""

    def __call__(self, *args: Any, **kwargs: Any) -> Nothing:
        return self

    def __getattr__(self, name: str) -> Nothing:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Nothing:
        return self

    def __await__(self) -> Generator[Any, None, Nothing]:
        return self
        yield

    def __aiter__(self) -> Nothing:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __int__(self) -> int:
        return 0

    __index__ = __int__

    def __repr__(self) -> str:
        return "<not executed: dry run>"


def call_text(target: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if k != "session"]
    text = f"{target}({', '.join(parts)})"
    return text if len(text) <= _LONGEST else text[:_LONGEST] + "...)"


class StandIn:
    """What the recording database, collections and client share. A name that is a method of
    ``_real`` (PyMongo's class) is recorded as a call on ``_target``, but ``with_options`` and
    ``get_collection``, which lead to another stand-in; any other name is a child (``self[name]``)."""

    _real: type

    def __init__(self, statements: list[str], target: str) -> None:
        self._statements = statements
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if not callable(getattr(self._real, name, None)):
            return self[name]
        if name == "with_options":
            return lambda *args, **kwargs: self
        if name == "get_collection":
            return lambda collection, *args, **kwargs: self[collection]
        return self._record(name)

    def __getitem__(self, name: str) -> Any:
        raise NotImplementedError

    def _record(self, method: str) -> Callable[..., Nothing]:
        def record(*args: Any, **kwargs: Any) -> Nothing:
            self._statements.append(call_text(f"{self._target}.{method}", args, kwargs))
            return Nothing()

        return record


class RecordingCollection(StandIn):
    _real = AsyncCollection

    def __init__(self, database: RecordingDatabase, name: str) -> None:
        super().__init__(database._statements, f"db.{name}")
        self.database = database
        self.name = name
        self.full_name = f"{database.name}.{name}"

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self.database, f"{self.name}.{name}")


class RecordingDatabase(StandIn):
    _real = AsyncDatabase

    def __init__(self, client: RecordingClient, name: str) -> None:
        super().__init__(client._statements, "db")
        self.name = name
        self.client = client

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self, name)


class RecordingClient(StandIn):
    _real = AsyncMongoClient

    def __init__(self, statements: list[str], database: str) -> None:
        super().__init__(statements, "client")
        self.default = RecordingDatabase(self, database)

    def get_default_database(self, *args: Any, **kwargs: Any) -> RecordingDatabase:
        return self.default

    def get_database(self, name: str | None = None, *args: Any, **kwargs: Any) -> RecordingDatabase:
        return self.default if name in (None, self.default.name) else RecordingDatabase(self, name)

    def __getitem__(self, name: str) -> RecordingDatabase:
        return self.get_database(name)


class RecordingSession(Nothing):
    """The class form's ``session``: ``session.client`` leads to the recording database."""

    def __init__(self, client: RecordingClient) -> None:
        self.client = client
        self.in_transaction = False


class RecordingContext(MongoStepContext):
    """A step context whose database records operations instead of sending them. It has no
    backend and no session to start from, so it sets its own attributes; ``collection`` and
    ``run_sync`` are the step context's."""

    def __init__(self, config: MigrationConfig, database: str, migration: Migration) -> None:
        self.statements: list[str] = []
        self.client = RecordingClient(self.statements, database)
        self.db = self.client.default
        self.session = RecordingSession(self.client)
        self.migration = migration
        self.config = config
        self.progress = progress

    async def batches(self, collection: Any, filter: Mapping[str, Any] | None = None,
                      projection: Any = None, size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
        coll = self.collection(collection)
        self.statements.append(call_text(f"db.{coll.name}.find", (after(filter, None), projection), {})
                               + f".sort('_id', 1).limit({size})  -- repeated per batch, _id > last")
        return
        yield