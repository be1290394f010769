"""``ctx.backfill`` on MongoDB: ``_id`` ranges, one ``bulk_write`` per batch, a checkpoint.

Each batch runs in a session of the backfill's own. On a replica set (or a sharded cluster)
the batch's ``bulk_write`` and its checkpoint in ``ncm_backfills`` commit in one transaction,
so a batch is done exactly once however the process dies; a standalone server has no
transactions, so there the batch is written, then its checkpoint, and a batch cut off between
the two is done again: the update's filter must skip done documents (the template's does).

The next batch's bounds are read while the batch runs, outside its session, which is the
batch's alone (:class:`ncm_core.backfill.ReadAhead`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from bson import json_util
from pymongo import UpdateMany
from pymongo.errors import PyMongoError

from ncm_core.backfill import DONE, NOT_READ, RUNNING, BackfillStopped, Checkpoint, Clock, ReadAhead
from ncm_core.history import now
from ncm_core.progress import Progress
from ncm_mongo import documents
from ncm_mongo.context import after

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.collection import AsyncCollection

    from ncm_mongo.context import MongoStepContext


class Batch:
    """One ``_id`` range, ``lo`` to ``hi`` inclusive, ``count`` documents; ``range`` is its filter."""

    def __init__(self, coll: AsyncCollection[Any], session: AsyncClientSession, lo: Any, hi: Any, count: int) -> None:
        self.coll, self.session, self.lo, self.hi, self.count = coll, session, lo, hi, count
        self.range: dict[str, Any] = {"_id": {"$gte": lo, "$lte": hi}}
        self.rows = 0
        """Documents the batch's writes modified."""

    def within(self, filter: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"$and": [self.range, dict(filter)]} if filter else dict(self.range)

    async def update_many(self, update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                          filter: Mapping[str, Any] | None = None) -> Any:
        """``update`` on the batch's documents that match ``filter``: one ``bulk_write``."""
        return await self.bulk_write([UpdateMany(self.within(filter), update)])

    async def bulk_write(self, requests: list[Any]) -> Any:
        """Write requests of your own (keep them within ``range``), in the batch's transaction."""
        result = await self.coll.bulk_write(requests, ordered=False, session=self.session)
        self.rows += result.modified_count
        return result


class MongoBackfill:
    """``async for batch in ctx.backfill("users", size=10_000): await batch.update_many(...)``."""

    def __init__(self, ctx: MongoStepContext, collection: str, size: int, name: str | None,
                 filter: Mapping[str, Any] | None) -> None:
        self.backend = ctx.backend
        self.options = self.backend.backfill_options
        self.coll = ctx.collection(collection)
        self.filter = filter
        self.checkpoints = self.backend.db.get_collection(documents.BACKFILLS, codec_options=documents.UTC)
        self.throttle = self.options.throttle(size)
        self.point = Checkpoint(ctx.migration.version, name or self.coll.name)
        self.session: AsyncClientSession | None = None
        self.ahead = ReadAhead()
        self.batch: Batch | None = None
        self.clock = Clock()
        self.progress: Progress | None = None

    @property
    def _id(self) -> str:
        return f"{self.point.version}/{self.point.name}"

    def __aiter__(self) -> MongoBackfill:
        return self

    async def __anext__(self) -> Batch:
        if self.session is None:
            await self._start()
        elif self.batch is not None:
            await self._commit()
            if self.options.stop_requested:
                await self.close(ok=True)
                raise BackfillStopped(f"{self.point.version}: backfill of {self.point.name} stopped after "
                                      f"{self.point.rows_done} documents; the next run resumes after _id "
                                      f"{self.point.key_done}")
            if self.throttle.pause:
                await asyncio.sleep(self.throttle.pause)
        if self.point.state != DONE:
            self.clock = Clock()
            bounds = await self._bounds()
            if bounds is not None:
                if self.backend.transactions:
                    await self.session.start_transaction()
                self.batch = Batch(self.coll, self.session, bounds["lo"], bounds["hi"], bounds["n"])
                return self.batch
            self.point.state = DONE
            await self._save()
        await self.close(ok=True)
        raise StopAsyncIteration

    async def _bounds(self) -> dict[str, Any] | None:
        """The next batch's first and last ``_id`` and its size, or None when no document is
        left: read ahead during the batch before, or now."""
        key, size = self.point.key_done, self.throttle.size
        bounds = await self.ahead.take(key, size)
        if bounds is NOT_READ:
            bounds = await self._read_bounds(key, size, self.session)
        if bounds is not None and bounds["n"] == size:
            self.ahead.start(bounds["hi"], size, lambda key, size: self._read_bounds(key, size, None))
        return bounds

    async def _read_bounds(self, key: Any, size: int, session: AsyncClientSession | None) -> dict[str, Any] | None:
        """The last ``_id`` is found by skipping along the ``_id`` index, which reads no document
        (grouping a batch's ``_id`` instead cost a twelfth of the backfill); only the final
        batch, shorter than the rest, is counted."""
        match = after(self.filter, key)
        first = await self.coll.find_one(match, {"_id": 1}, sort=[("_id", 1)], session=session)
        if first is None:
            return None
        last = await self.coll.find(match, {"_id": 1}, sort=[("_id", 1)], skip=size - 1, limit=1,
                                    session=session).to_list()
        if last:
            return {"lo": first["_id"], "hi": last[0]["_id"], "n": size}
        pipeline = [{"$match": match}, {"$group": {"_id": None, "hi": {"$max": "$_id"}, "n": {"$sum": 1}}}]
        rest = await (await self.coll.aggregate(pipeline, session=session)).to_list()
        return {"lo": first["_id"], "hi": rest[0]["hi"], "n": rest[0]["n"]} if rest else None

    async def _start(self) -> None:
        """The checkpoint read (or written, which makes ``ncm_backfills`` the first time, outside
        any transaction), and the documents left counted for the ETA."""
        self.session = self.backend.client.start_session()
        found = await self.checkpoints.find_one({"_id": self._id})
        if found is not None:
            self.point = checkpoint_of(found)
            await self._end_abandoned(found.get("lsid"))
        if self.point.state != DONE:
            self.point.state = RUNNING
            left = await self.coll.count_documents(after(self.filter, self.point.key_done))
            self.point.rows_total = self.point.rows_done + left
            await self._save()
        self.progress = Progress(self.point.rows_total - self.point.rows_done if self.point.rows_total else None,
                                 f"{self.point.version} {self.point.name}")

    async def _end_abandoned(self, lsid: Any) -> None:
        """A killed run's transaction stays open on the server (until its lifetime limit, a
        minute by default), its batch's documents and the checkpoint locked: the session it ran
        in (recorded in the checkpoint) is killed, which aborts it, so the batch is done again."""
        if lsid is None:
            return
        with suppress(PyMongoError):  # gone already, or not ours to kill: the writes will say so
            await self.backend.client.admin.command("killSessions", [lsid])

    async def _commit(self) -> None:
        batch, elapsed, started_at = self.batch, self.clock.elapsed(), self.point.rows_done
        self.point.key_done, self.point.rows_done = batch.hi, self.point.rows_done + batch.count
        self.point.seconds += elapsed
        if not await self._save(started_at):
            if self.session.in_transaction:
                await self.session.abort_transaction()
            self.batch = None
            raise BackfillStopped(f"{self.point.version}: the checkpoint of {self.point.name} was moved on by another "
                                  f"process; this batch (_id {batch.lo} to {batch.hi}) was aborted")
        if self.session.in_transaction:
            await self.session.commit_transaction()
        self.batch = None
        self.throttle.after(elapsed)
        if self.progress is not None:
            self.progress.advance(batch.count)

    async def _save(self, rows_done: int | None = None) -> bool:
        """The checkpoint written; with ``rows_done``, only over the one the batch started at
        (False when another process moved it on: a claim whose lease it lost, say)."""
        self.point.updated_at = now()
        document = {**checkpoint_document(self.point), "lsid": self.session.session_id}
        if rows_done is None:
            await self.checkpoints.replace_one({"_id": self._id}, document, upsert=True, session=self.session)
            return True
        found = await self.checkpoints.replace_one({"_id": self._id, "rows_done": rows_done}, document,
                                                   session=self.session)
        return found.matched_count == 1

    async def close(self, ok: bool) -> None:
        """A batch the loop left (``break``) is committed when the step succeeded, else aborted."""
        if self.session is None:
            return
        try:
            await self.ahead.stop()
            if self.batch is not None:
                if ok:
                    await self._commit()
                elif self.session.in_transaction:
                    await self.session.abort_transaction()
        finally:
            session, self.session, self.batch = self.session, None, None
            await session.end_session()


def checkpoint_document(point: Checkpoint) -> dict[str, Any]:
    return {"_id": f"{point.version}/{point.name}", "version": point.version, "name": point.name,
            "key_done": json_util.dumps(point.key_done) if point.key_done is not None else None,
            "rows_done": point.rows_done, "rows_total": point.rows_total, "seconds": point.seconds,
            "state": point.state, "started_at": point.started_at, "updated_at": point.updated_at}


def checkpoint_of(document: Mapping[str, Any]) -> Checkpoint:
    key = document.get("key_done")
    return Checkpoint(document["version"], document["name"], json_util.loads(key) if key is not None else None,
                      document["rows_done"], document.get("rows_total"), document["seconds"], document["state"],
                      document["started_at"], document["updated_at"])


async def preview(collection: Any) -> AsyncIterator[Any]:
    """The one batch a dry run or ``ncm lint`` sees: its writes go to the recording collection."""
    yield PreviewBatch(collection)


class PreviewBatch:
    lo = hi = None
    count = rows = 0
    range: dict[str, Any] = {"_id": {"$gte": "<lo>", "$lte": "<hi>"}}

    def __init__(self, coll: Any) -> None:
        self.coll = coll

    def within(self, filter: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"$and": [self.range, dict(filter)]} if filter else dict(self.range)

    async def update_many(self, update: Any, filter: Mapping[str, Any] | None = None) -> Any:
        return await self.coll.update_many(self.within(filter), update)

    async def bulk_write(self, requests: list[Any]) -> Any:
        return await self.coll.bulk_write(requests, ordered=False)
