"""Restore a MongoDB database from a backup written by :mod:`ncm_mongo.dump`, as mongorestore
would with ``--drop``, but beside the live collections: each collection is created under a
temporary name (:data:`TEMP` + its name) from its metadata (options: validators, capped size,
time series, collation), its documents are inserted in batches as raw BSON, and its indexes
are built (faster than maintaining them during the inserts). Only then does the live database
change (:func:`_swap`): each collection is renamed over the live one, what the backup does not
hold is dropped, and its views are created.

A restore that fails or is killed while reading the archive leaves the database as it was
(the next restore drops the temporary collections). The swap is not atomic as a whole (each
rename is), so its plan is written first, in ``ncm_lock``: a restore killed during the swap is
finished by the next command that takes the migration lock (:func:`finish_swap`), since every
temporary collection was complete by then. A time series cannot be renamed (MongoDB: "cannot
rename view", nor its buckets), so it is dropped, made again and its buckets are copied from
the temporary one, which finishing the swap repeats.

The archive is read in a thread (tar parsing and, for an encrypted backup, decryption are
blocking) one batch ahead of the inserts, so reading and writing overlap and memory holds
two batches.
"""

from __future__ import annotations

import asyncio
import io
import logging
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json import JSONDecodeError
from typing import IO, Any, BinaryIO

import bson
from bson.codec_options import CodecOptions
from bson.errors import InvalidBSON
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from ncm_core.errors import BackupError
from ncm_mongo import documents, layout
from ncm_mongo.dump import wanted
from ncm_mongo.messages import describe

log = logging.getLogger("ncm")
READ_SIZE = 4 << 20
TEMP = "ncm_restore."  # the prefix of the collections a restore fills before renaming them in
SWAP = {"_id": "restore-swap"}  # the plan of a swap under way, in ncm_lock
_RAW = CodecOptions(document_class=RawBSONDocument)


@dataclass
class Metadata:
    path: str
    document: dict[str, Any]


@dataclass
class Documents:
    path: str
    collection: str
    batch: list[RawBSONDocument]


@dataclass
class Restored:
    """The collections created so far (by name, with their options), the views to create
    after the swap, and the indexes to build once the documents are in."""

    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    indexes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _batches(member: IO[bytes], path: str) -> Iterator[list[RawBSONDocument]]:
    """The documents of a ``.bson`` member in batches of about ``READ_SIZE`` bytes, undecoded."""
    reader = io.BufferedReader(member, READ_SIZE)  # type: ignore[arg-type]
    batch: list[RawBSONDocument] = []
    size = 0
    try:
        for document in bson.decode_file_iter(reader, _RAW):
            batch.append(document)
            size += len(document.raw)
            if size >= READ_SIZE:
                yield batch
                batch, size = [], 0
    except InvalidBSON as exc:
        problem = "ends inside a document" if not reader.peek(1) else f"holds a damaged BSON document ({exc})"
        raise BackupError(f"the backup is damaged: {path} {problem}") from None
    if batch:
        yield batch


def read_archive(source: BinaryIO) -> Iterator[Metadata | Documents]:
    """The archive's metadata documents and document batches, in the order they were written."""
    try:
        with tarfile.open(fileobj=source, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                f = tar.extractfile(member)
                name = member.name.rsplit("/", 1)[-1]
                if name.endswith(layout.METADATA_SUFFIX):
                    yield Metadata(member.name, layout.parse_metadata(f.read()))
                elif name.endswith(layout.BSON_SUFFIX):
                    collection = layout.unescape(name[: -len(layout.BSON_SUFFIX)])
                    for batch in _batches(f, member.name):
                        yield Documents(member.name, collection, batch)
                else:
                    raise BackupError(f"the backup holds {member.name}, which is not part of a MongoDB dump")
    except tarfile.TarError as exc:
        raise BackupError(f"the backup is not a MongoDB dump archive ({exc})") from None
    except (JSONDecodeError, ValueError) as exc:
        raise BackupError(f"the backup's metadata is not valid Extended JSON ({exc})") from None


async def restore_database(db: AsyncDatabase[Any], source: BinaryIO, *, keep: set[str]) -> None:
    """Replace the contents of ``db`` (less the collections in ``keep``) with the archive's."""
    restored = Restored()
    items = read_archive(source)
    upcoming = asyncio.ensure_future(asyncio.to_thread(next, items, None))
    doing, state = f"dropping what an interrupted restore left in {db.name}", f"{db.name} is as it was"
    try:
        await _drop(db, lambda info: info["name"].startswith(TEMP))
        while (item := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(next, items, None))
            doing = f"restoring {item.path}"
            if isinstance(item, Metadata):
                await _create(db, item.document, restored, keep)
            elif item.collection not in keep:
                await _insert(db, item, restored)
        for name, specs in restored.indexes.items():
            doing = f"building the indexes of {db.name}.{name}"
            await db.command({"createIndexes": TEMP + name, "indexes": specs})
        doing, state = f"renaming the restored collections into {db.name}", "the next command finishes the swap"
        await _swap(db, restored, keep)
    except PyMongoError as exc:
        raise BackupError(f"{doing}: {describe(exc)}; {state}") from exc
    finally:
        await asyncio.gather(upcoming, return_exceptions=True)
        items.close()


async def _drop(db: AsyncDatabase[Any], which: Callable[[dict[str, Any]], bool]) -> None:
    """Drop the collections ``which`` picks: views first, since a view may read a collection."""
    infos = [info async for info in await db.list_collections() if which(info)]
    for info in sorted(infos, key=lambda info: info.get("type") != "view"):
        await db.drop_collection(info["name"])


async def _swap(db: AsyncDatabase[Any], restored: Restored, keep: set[str]) -> None:
    """Drop the live views and what the backup does not hold, rename each restored collection
    over the live one (``dropTarget``), then create the backup's views. Each part can run again
    where a killed swap left it, so :func:`finish_swap` runs this same plan."""
    plans = db.get_collection(documents.LOCK)
    await plans.replace_one(SWAP, {**SWAP, "options": restored.options, "views": restored.views,
                                   "indexes": restored.indexes}, upsert=True)
    await _drop(db, lambda info: wanted(info["name"], keep) and not info["name"].startswith(TEMP)
                and (info.get("type") == "view" or info["name"] not in restored.options))
    waiting = set(await db.list_collection_names(filter={"name": {"$regex": f"^{TEMP}"}}))
    for name, options in restored.options.items():
        if TEMP + name not in waiting:
            continue
        if "timeseries" in options:
            await _copy_timeseries(db, name, restored)
        else:
            await db.client.admin.command({"renameCollection": f"{db.name}.{TEMP}{name}",
                                           "to": f"{db.name}.{name}", "dropTarget": True})
    for name, options in restored.views:
        await db.command({"create": name, **options})
    await plans.delete_one(SWAP)


async def finish_swap(db: AsyncDatabase[Any], keep: set[str]) -> None:
    """Finish the swap of a restore killed during it, from its plan; under the migration lock."""
    plan = await db.get_collection(documents.LOCK).find_one(SWAP)
    if plan is not None:
        await _swap(db, Restored(plan["options"], [tuple(v) for v in plan["views"]], plan["indexes"]), keep)
        log.warning("%s: finished the swap of a restore that was interrupted during it", db.name)


async def _copy_timeseries(db: AsyncDatabase[Any], name: str, restored: Restored) -> None:
    await db.drop_collection(name)
    await db.command({"create": name, **restored.options[name]})
    buckets = db.get_collection(layout.BUCKETS_PREFIX + name, codec_options=_RAW)
    cursor = db.get_collection(layout.BUCKETS_PREFIX + TEMP + name, codec_options=_RAW).find()
    while batch := await cursor.to_list(1000):
        await buckets.insert_many(batch, bypass_document_validation=True)
    if name in restored.indexes:
        await db.command({"createIndexes": name, "indexes": restored.indexes[name]})
    await db.drop_collection(TEMP + name)


async def _create(db: AsyncDatabase[Any], metadata: dict[str, Any], restored: Restored, keep: set[str]) -> None:
    name = metadata["collectionName"]
    if name in keep:
        return
    options = metadata.get("options") or {}
    if "viewOn" in options:
        restored.views.append((name, options))
        return
    await db.command({"create": TEMP + name, **options})
    restored.options[name] = options
    specs = [_index_spec(spec) for spec in metadata.get("indexes") or [] if not _automatic(spec)]
    if specs:
        restored.indexes[name] = specs


def _automatic(spec: dict[str, Any]) -> bool:
    """The ``_id`` index (or a clustered collection's key), which ``create`` makes itself."""
    return spec.get("name") == "_id_" or bool(spec.get("clustered"))


def _index_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if key != "ns"}


async def _insert(db: AsyncDatabase[Any], item: Documents, restored: Restored) -> None:
    """Insert one batch as raw BSON into the temporary collection, bypassing validators as
    mongorestore does (documents written before a validator was added, or under
    ``validationLevel: moderate``, may not pass it). A capped collection keeps its order, so
    its inserts are ordered."""
    target = item.collection
    base = target.removeprefix(layout.BUCKETS_PREFIX)
    await db.get_collection(target[: len(target) - len(base)] + TEMP + base, codec_options=_RAW).insert_many(
        item.batch, ordered=bool(restored.options.get(base, {}).get("capped")), bypass_document_validation=True)
