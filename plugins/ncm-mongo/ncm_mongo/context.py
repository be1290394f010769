"""What a MongoDB migration receives: ``ctx`` for functions, ``ctx.session`` for classes.

``ctx.db`` is PyMongo's ``AsyncDatabase`` and ``ctx.session`` the ``AsyncClientSession``
the step runs in. Pass ``session=ctx.session`` to every operation: inside a transaction an
operation without it runs (and commits) on its own, outside the transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from ncm_core.backfill import DEFAULT_SIZE
from ncm_core.errors import UsageError
from ncm_core.step import BaseStepContext

if TYPE_CHECKING:
    from ncm_core.migration import Migration
    from ncm_mongo.backend import MongoBackend


def after(filter: Mapping[str, Any] | None, last: Any) -> dict[str, Any]:
    """``filter`` restricted to documents whose ``_id`` is greater than ``last``."""
    if last is None:
        return dict(filter or {})
    page = {"_id": {"$gt": last}}
    return {"$and": [dict(filter), page]} if filter else page


class MongoStepContext(BaseStepContext):
    """``ctx`` of ``async def upgrade(ctx)``: db, session, client, config, progress, batches."""

    def __init__(self, backend: MongoBackend, session: AsyncClientSession, migration: Migration) -> None:
        super().__init__(migration, backend.config, session)
        self.backend = backend
        self.client = backend.client
        self.db = backend.db
        self.backfills: list[Any] = []

    def collection(self, collection: str | AsyncCollection[Any]) -> AsyncCollection[Any]:
        return self.db[collection] if isinstance(collection, str) else collection

    async def batches(self, collection: str | AsyncCollection[Any], filter: Mapping[str, Any] | None = None,
                      projection: Any = None, size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
        """Documents matching ``filter`` in ``_id`` order, ``size`` at a time. Each batch is a
        fresh range query (``_id > last``) on the ``_id`` index, so memory holds one batch
        however large the collection, and no cursor stays open across the caller's writes."""
        coll = self.collection(collection)
        last = None
        while True:
            cursor = coll.find(after(filter, last), projection, session=self.session).sort("_id", 1).limit(size)
            documents = await cursor.to_list()
            if not documents:
                return
            yield documents
            last = documents[-1]["_id"]

    def backfill(self, collection: str | AsyncCollection[Any], size: int = DEFAULT_SIZE, name: str | None = None,
                 filter: Mapping[str, Any] | None = None, key: str = "_id") -> AsyncIterator[Any]:
        """Batches of ``collection`` (the documents matching ``filter``) by ``_id`` ranges, each
        one ``bulk_write`` committed with its checkpoint (ncm_mongo.backfill)."""
        from ncm_mongo.backfill import MongoBackfill

        if key != "_id":
            raise UsageError(f"{self.migration.path}: a MongoDB backfill walks _id ranges, not {key!r}")
        self.backfills.append(MongoBackfill(self, collection, size, name, filter))
        return self.backfills[-1]

    async def close_backfills(self, ok: bool) -> None:
        """After the step: what a backfill left open is committed if the step succeeded."""
        for backfill in self.backfills:
            await backfill.close(ok)
