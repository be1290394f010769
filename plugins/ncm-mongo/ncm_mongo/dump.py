"""Back up a MongoDB database with the driver, since no mongodump can be installed here.

The archive is a tar stream (``tarfile`` mode ``w|``) of mongodump's directory layout
(see :mod:`ncm_mongo.layout`). Documents travel as raw BSON batches from the server
(``find_raw_batches``), never decoded. A tar member must announce its size before its
data, so each collection's BSON is first spooled (in memory up to ``SPOOL_IN_MEMORY``, then
in a temporary file) and copied into the stream in a thread while the next collection is
read: memory stays at a few batches of about ``BATCH_BYTES`` however large the database;
temporary disk space is at most the two largest collections.

On a replica set every collection (but capped ones, which MongoDB cannot read in a
snapshot) is read in one snapshot session, so their documents are those of a single
cluster time.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import tempfile
import time
from contextlib import AsyncExitStack, suppress
from typing import IO, Any, BinaryIO

from bson.codec_options import CodecOptions, DatetimeConversion
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from ncm_core.errors import BackupError
from ncm_mongo import layout
from ncm_mongo.messages import describe

SPOOL_IN_MEMORY = 8 << 20
# What one batch from the server should weigh. The server's own limit (16 MB) would let
# PyMongo hold several copies of a batch while it receives and unpacks it (about 96 MB at
# peak for a bare find_raw_batches loop, against about 24 MB with 4 MB batches).
BATCH_BYTES = 4 << 20
TAR_BUFFER = 1 << 20
# The server keeps snapshot history for minSnapshotHistoryWindowInSeconds (300 s by default).
SNAPSHOT_TOO_OLD = 239

# Metadata is read decoded (names, options, index specs) with every BSON type kept as is.
_EXACT = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)


def wanted(name: str, skip: set[str]) -> bool:
    """What mongodump dumps of a database (every collection but ``system.*`` other than
    ``system.js``), less ``skip``."""
    return name not in skip and (name == "system.js" or not name.startswith("system."))


async def collections(db: AsyncDatabase[Any], skip: set[str]) -> list[dict[str, Any]]:
    """listCollections entries: collections (and time series) by name, then views by name, so a
    restore creates every view after the collections it reads."""
    cursor = await db.with_options(codec_options=_EXACT).list_collections()
    infos = [info async for info in cursor if wanted(info["name"], skip)]
    return sorted(infos, key=lambda info: (info.get("type") == "view", info["name"]))


async def dump_database(db: AsyncDatabase[Any], out: BinaryIO, *, snapshot: bool, skip: set[str]) -> dict[str, Any]:
    """Write ``db`` (less ``skip``) to ``out``; return what the manifest records of it."""
    infos = await collections(db, skip)
    tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=TAR_BUFFER)
    written, doing = 0, f"listing {db.name}"
    pending: asyncio.Task[None] | None = None
    try:
        async with AsyncExitStack() as stack:
            session = await stack.enter_async_context(db.client.start_session(snapshot=True)) if snapshot else None
            for info in infos:
                doing = f"reading {db.name}.{info['name']}"
                metadata = layout.metadata_json(info, await _indexes(db, info))
                source = layout.data_source(info)
                spool = stack.enter_context(tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY))
                # MongoDB refuses snapshot reads of a capped collection (SnapshotUnavailable).
                capped = bool(info.get("options", {}).get("capped"))
                size = await _read(db, source, spool, None if capped else session) if source is not None else 0
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(
                    _add, tar, db.name, info["name"], metadata, source, spool, size))
                written += size
            if pending is not None:
                await pending
        await asyncio.to_thread(tar.close)
    except BaseException as exc:
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
        # Finish the tar stream, or its finalizer would write to ``out`` after the core closed
        # it; the archive is discarded anyway, and the error that stopped it is what matters.
        with suppress(Exception):
            await asyncio.to_thread(tar.close)
        if isinstance(exc, OperationFailure) and exc.code == SNAPSHOT_TOO_OLD:
            raise BackupError(f"{doing}: the dump took longer than the server keeps snapshot history; raise the "
                              "server parameter minSnapshotHistoryWindowInSeconds (300 s by default) and retry") from exc
        if isinstance(exc, PyMongoError):
            raise BackupError(f"{doing}: {describe(exc)}") from exc
        raise
    consistency = ("one snapshot of the replica set (capped collections read outside it)" if snapshot
                   else "per document (no snapshot reads)")
    return {"format": layout.FORMAT, "database": db.name, "consistency": consistency,
            "collections": sum(info.get("type") != "view" for info in infos),
            "views": sum(info.get("type") == "view" for info in infos), "bson_bytes": written}


async def _indexes(db: AsyncDatabase[Any], info: dict[str, Any]) -> list[dict[str, Any]]:
    if info.get("type") == "view":
        return []
    cursor = await db.get_collection(info["name"], codec_options=_EXACT).list_indexes()
    return [dict(spec) async for spec in cursor]


async def _read(db: AsyncDatabase[Any], source: str, spool: IO[bytes], session: AsyncClientSession | None) -> int:
    """Spool ``source``'s documents in natural order (a capped collection's insertion order);
    return how many bytes they are."""
    size = 0
    collection = db.get_collection(source)
    async for batch in collection.find_raw_batches(session=session, batch_size=await _batch_size(collection)):
        await asyncio.to_thread(spool.write, batch)
        size += len(batch)
    return size


async def _batch_size(collection: AsyncCollection[Any]) -> int:
    """How many documents make about ``BATCH_BYTES``, from the collection's average size."""
    try:
        stats = await (await collection.aggregate([{"$collStats": {"storageStats": {}}}])).to_list()
        average = int(stats[0]["storageStats"].get("avgObjSize") or 0) if stats else 0
    except OperationFailure:
        average = 0
    return max(1, min(BATCH_BYTES // average, 100_000)) if average else 1000


def _add(tar: tarfile.TarFile, database: str, name: str, metadata: bytes, source: str | None,
         spool: IO[bytes], size: int) -> None:
    with spool:
        _member(tar, layout.member_path(database, name, layout.METADATA_SUFFIX), len(metadata), io.BytesIO(metadata))
        if source is not None:
            spool.seek(0)
            _member(tar, layout.member_path(database, source, layout.BSON_SUFFIX), size, spool)


def _member(tar: tarfile.TarFile, path: str, size: int, data: IO[bytes]) -> None:
    member = tarfile.TarInfo(path)
    member.size, member.mode, member.mtime = size, 0o600, int(time.time())
    tar.addfile(member, data)
