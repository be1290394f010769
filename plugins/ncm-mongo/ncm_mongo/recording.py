"""Dry runs on MongoDB: stand-ins for the database, its collections, the client and the
session that record each operation a migration would send instead of sending it.

PyMongo's command monitoring cannot serve here: it reports commands as they execute. The
stand-ins ask PyMongo's own classes which names are methods, so every method of
``AsyncDatabase`` and ``AsyncCollection`` is recorded and any other attribute is a collection,
as it is on the real objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from ncm_core.step import BaseStepContext
from ncm_core.standins import CallLog, Nothing, StandIn, call_text
from ncm_mongo.context import MongoStepContext, after

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.migration import Migration


class Leads:
    """The methods of PyMongo's database and collection that lead to another object, not to
    an operation: the stand-in itself (``with_options``) or a collection of it."""

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self[name]  # type: ignore[index]

class RecordingCollection(Leads, StandIn):
    _real = AsyncCollection

    def __init__(self, database: RecordingDatabase, name: str) -> None:
        super().__init__(database._statements, f"db.{name}")
        self.database = database
        self.name = name
        self.full_name = f"{database.name}.{name}"

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self.database, f"{self.name}.{name}")


class RecordingDatabase(Leads, StandIn):
    _real = AsyncDatabase

    def __init__(self, client: RecordingClient, name: str) -> None:
        super().__init__(client._statements, "db")
        self.name = name
        self.client = client

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self, name)


class RecordingClient(StandIn):
    _real = AsyncMongoClient

    def __init__(self, statements: CallLog, database: str) -> None:
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
        self.statements = CallLog(migration.path)
        self.client = RecordingClient(self.statements, database)
        self.db = self.client.default
        BaseStepContext.__init__(self, migration, config, RecordingSession(self.client))

    async def batches(self, collection: Any, filter: Mapping[str, Any] | None = None,
                      projection: Any = None, size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
        coll = self.collection(collection)
        self.statements.append(call_text(f"db.{coll.name}.find", (after(filter, None), projection), {})
                               + f".sort('_id', 1).limit({size})  -- repeated per batch, _id > last")
        return
        yield
    def backfill(self, collection: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """One batch, whose writes are recorded with the batch's ``_id`` range in their filter."""
        from ncm_mongo.backfill import preview

        return preview(self.collection(collection))
