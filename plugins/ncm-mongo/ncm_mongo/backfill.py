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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from bson import json_util
from pymongo import UpdateMany
from pymongo.errors import PyMongoError

from ncm_core.backfill import DONE, NOT_READ, RUNNING, BackfillStopped, Checkpoint, Clock, LeftCount, ReadAhead, log
from ncm_core.history import now
from ncm_core.progress import Progress
from ncm_mongo import documents
from ncm_mongo.context import after

if TYPE_CHECKING:
    from bson.timestamp import Timestamp
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.collection import AsyncCollection

    from ncm_mongo.context import MongoStepContext


class Batch:
    """One ``_id`` range, ``lo`` to ``hi`` inclusive, ``count`` documents; ``range`` is its filter.
    ``session`` holds the batch's transaction: write through :meth:`bulk_write`, which knows
    when the batch before has committed."""

    def __init__(self, coll: AsyncCollection[Any], session: AsyncClientSession, lo: Any, hi: Any, count: int,
                 settled: Callable[[], Awaitable[None]]) -> None:
        self.coll, self.session, self.lo, self.hi, self.count = coll, session, lo, hi, count
        self.range: dict[str, Any] = {"_id": {"$gte": lo, "$lte": hi}}
        self.rows = 0
        """Documents the batch's writes modified."""
        self._settled = settled

    def within(self, filter: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"$and": [self.range, dict(filter)]} if filter else dict(self.range)

    async def update_many(self, update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                          filter: Mapping[str, Any] | None = None) -> Any:
        """``update`` on the batch's documents that match ``filter``: one ``bulk_write``. It
        writes within ``range`` only, so it runs while the batch before is still committing."""
        return await self._write([UpdateMany(self.within(filter), update)])

    async def bulk_write(self, requests: list[Any]) -> Any:
        """Write requests of your own (keep them within ``range``), in the batch's transaction;
        they wait for the batch before to be committed, in case they touch its documents."""
        await self._settled()
        return await self._write(requests)

    async def _write(self, requests: list[Any]) -> Any:
        result = await self.coll.bulk_write(requests, ordered=False, session=self.session)
        self.rows += result.modified_count
        return result


class MongoBackfill:
    """``async for batch in ctx.backfill("users", size=10_000): await batch.update_many(...)``.

    On a replica set, a batch's commit runs while the next batch writes (the commit of 10,000
    documents took 15 ms, a tenth of their batch). So two sessions take turns, and each keeps
    its checkpoint in a document of its own (``slot`` 0 and 1): two transactions in flight
    never write the same document. A batch is committed only after the one before it, so the
    slot with more rows done is the checkpoint.
    """

    def __init__(self, ctx: MongoStepContext, collection: str, size: int, name: str | None,
                 filter: Mapping[str, Any] | None) -> None:
        self.backend = ctx.backend
        self.options = self.backend.backfill_options
        self.coll = ctx.collection(collection)
        self.filter = filter
        self.checkpoints = self.backend.db.get_collection(documents.BACKFILLS, codec_options=documents.UTC)
        self.throttle = self.options.throttle(size)
        self.point = Checkpoint(ctx.migration.version, name or self.coll.name)
        self.sessions: list[AsyncClientSession] = []
        self.slot = 0
        """The slot (and session) of the next batch."""
        self.written = [0, 0]
        """The rows done each slot's document holds, which its next write expects to find."""
        self.committing: asyncio.Task[None] | None = None
        self.ahead = ReadAhead()
        self.counting = Count(self.coll, filter)
        self.batch: Batch | None = None
        self.clock = Clock()
        self.progress: Progress | None = None

    def __aiter__(self) -> MongoBackfill:
        return self

    async def __anext__(self) -> Batch:
        if not self.sessions:
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
            session = self.sessions[self.slot % len(self.sessions)]
            bounds = await self._bounds(session)
            if bounds is not None:
                if self.backend.transactions:
                    await session.start_transaction()
                self.batch = Batch(self.coll, session, bounds["lo"], bounds["hi"], bounds["n"], self._settle)
                return self.batch
            await self._settle()
            self.point.state = DONE
            await self._save_all()
        await self.close(ok=True)
        raise StopAsyncIteration

    async def _bounds(self, session: AsyncClientSession) -> dict[str, Any] | None:
        """The next batch's first and last ``_id`` and its size, or None when no document is
        left: read ahead during the batch before, or now."""
        key, size = self.point.key_done, self.throttle.size
        bounds = await self.ahead.take(key, size)
        if bounds is NOT_READ:
            bounds = await self._read_bounds(key, size, session)
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
        any transaction), and the documents left counted for the ETA (while the first batches
        run, on a replica set)."""
        self.sessions = [self.backend.client.start_session() for _ in range(2 if self.backend.transactions else 1)]
        found = await self.checkpoints.find({"_id": {"$in": [slot_id(self.point, 0), slot_id(self.point, 1)]}}).to_list()
        if found:
            self.point = latest(found)[0]
            for document in found:
                await self._end_abandoned(document.get("lsid"))
        if self.point.state != DONE:
            self.point.state = RUNNING
            if self.backend.transactions:
                await self._save_all()
                self.counting.at(self.point, self.sessions[-1].operation_time)
            else:
                await self.counting.now(self.point)
                await self._save_all()
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
        """Once the batch before is committed, the batch's checkpoint written in its transaction
        and its commit started: that commit ends while the next batch runs. Nothing is left in
        flight when this raises."""
        batch, self.batch, elapsed = self.batch, None, self.clock.elapsed()
        self.point.key_done, self.point.rows_done = batch.hi, self.point.rows_done + batch.count
        self.point.seconds += elapsed
        self.counting.take(self.point, self.progress)
        try:
            await self._settle()
            kept = await self._save(self.slot, checked=True)
        except BaseException:
            await self._abort(batch)
            raise
        if not kept:
            await self._abort(batch)
            raise BackfillStopped(f"{self.point.version}: the checkpoint of {self.point.name} was moved on by another "
                                  f"process; this batch (_id {batch.lo} to {batch.hi}) was aborted")
        self.written[self.slot] = self.point.rows_done
        self.slot = (self.slot + 1) % len(self.sessions)
        self.throttle.after(elapsed)
        if batch.session.in_transaction:
            self.committing = asyncio.create_task(self._end(batch))
        elif self.progress is not None:
            self.progress.advance(batch.count)

    async def _end(self, batch: Batch) -> None:
        await batch.session.commit_transaction()
        if self.progress is not None:
            self.progress.advance(batch.count)

    @staticmethod
    async def _abort(batch: Batch) -> None:
        if batch.session.in_transaction:
            await batch.session.abort_transaction()

    async def _settle(self) -> None:
        """The commit of the batch before ended (its error raised here)."""
        task, self.committing = self.committing, None
        if task is not None:
            await task

    async def _save(self, slot: int, checked: bool = False) -> bool:
        """The checkpoint written in ``slot``; ``checked``: only over what this process wrote
        there last (False when another process moved it on: a claim whose lease it lost, say)."""
        session, key = self.sessions[slot], slot_id(self.point, slot)
        self.point.updated_at = now()
        document = {"_id": key, **checkpoint_document(self.point), "lsid": session.session_id}
        if not checked:
            await self.checkpoints.replace_one({"_id": key}, document, upsert=True, session=session)
            return True
        found = await self.checkpoints.replace_one({"_id": key, "rows_done": self.written[slot]}, document,
                                                   session=session)
        return found.matched_count == 1

    async def _save_all(self) -> None:
        for slot in range(len(self.sessions)):
            await self._save(slot)
        self.written = [self.point.rows_done] * 2

    async def close(self, ok: bool) -> None:
        """A batch the loop left (``break``) is committed when the step succeeded, else aborted
        (ending its session aborts it); the commit of the batch before ends either way."""
        if not self.sessions:
            return
        try:
            await self.ahead.stop()
            await self.counting.stop()
            if ok and self.batch is not None:
                await self._commit()
            try:
                await self._settle()
            except PyMongoError as exc:
                if ok:
                    raise
                log.debug("committing a backfill's last batch failed after its step had: %s", exc)
        finally:
            sessions, self.sessions, self.batch = self.sessions, [], None
            for session in sessions:
                await session.end_session()


class Count(LeftCount):
    """The documents a backfill has left, counted as they were when the checkpoint was written
    (a snapshot read at that write's cluster time), while the first batches run, whose writes
    the snapshot does not see. A standalone server gives no cluster time: there the count is
    made before the first batch."""

    def __init__(self, coll: AsyncCollection[Any], filter: Mapping[str, Any] | None) -> None:
        super().__init__()
        self.coll, self.filter = coll, filter

    async def now(self, point: Checkpoint) -> None:
        point.rows_total = point.rows_done + await self.coll.count_documents(after(self.filter, point.key_done))

    def at(self, point: Checkpoint, time: Timestamp) -> None:
        """Counting as of ``time`` (the cluster time of the checkpoint's write), in the background."""
        self.start(point, self._at(after(self.filter, point.key_done), time))

    async def _at(self, match: dict[str, Any], time: Timestamp) -> int:
        reply = await self.coll.database.command(
            "aggregate", self.coll.name, pipeline=[{"$match": match}, {"$count": "n"}], cursor={},
            readConcern={"level": "snapshot", "atClusterTime": time})
        found = reply["cursor"]["firstBatch"]
        return found[0]["n"] if found else 0


def slot_id(point: Checkpoint, slot: int) -> Any:
    """Slot 0's ``_id`` is a string, as the one checkpoint of earlier versions was."""
    key = f"{point.version}/{point.name}"
    return key if slot == 0 else {"backfill": key, "slot": slot}


def latest(found: Iterable[Mapping[str, Any]]) -> list[Checkpoint]:
    """One checkpoint per backfill: of its slots, the one with more rows done."""
    points: dict[tuple[str, str], Checkpoint] = {}
    for document in found:
        point = checkpoint_of(document)
        seen = points.get((point.version, point.name))
        if seen is None or point.rows_done > seen.rows_done:
            points[(point.version, point.name)] = point
    return list(points.values())


def checkpoint_document(point: Checkpoint) -> dict[str, Any]:
    return {"version": point.version, "name": point.name,
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
