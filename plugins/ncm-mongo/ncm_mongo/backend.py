"""MongoDB through PyMongo's async API (``AsyncMongoClient``; Motor is deprecated by MongoDB).

- history and audit are the collections ``ncm_migrations`` and ``ncm_audit``;
- on a replica set (or a sharded cluster) a transactional migration's writes and its history
  entry commit in one transaction; on a standalone server, or for a migration marked
  ``transactional = False``, the step runs on its own and a failure leaves a ``failed``
  record for auto rollback or ``ncm repair``;
- the lock is a lease document in ``ncm_lock`` (see ``ncm_mongo.lease``);
- a dry run records each operation through stand-in objects (see ``ncm_mongo.recording``);
- a backup is mongodump's directory layout in a tar stream, written and read with the
  driver (see ``ncm_mongo.dump`` and ``ncm_mongo.restore``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, PyMongoError

from ncm_core.backend import Backend
from ncm_core.backfill import BackfillStopped, Checkpoint
from ncm_core.errors import ConfigError, DatabaseUnavailable, LockTimeout, MigrationFailed, MigrationFileError
from ncm_core.history import AuditEntry, HistoryRecord, from_fields
from ncm_core.locking import holding
from ncm_core.step import FAILURES
from ncm_mongo import SCHEMES, documents
from ncm_mongo.context import MongoStepContext
from ncm_mongo.dump import dump_database
from ncm_mongo.lease import Lease
from ncm_mongo.messages import describe
from ncm_mongo.recording import RecordingContext
from ncm_mongo.restore import finish_swap, restore_database

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.migration import Migration


def database_name(config: MigrationConfig) -> str:
    """The database the URL's path names (``mongodb://host/<database>?options``)."""
    path = unquote(urlsplit(config.database_url).path).lstrip("/")
    name = path.split(".", 1)[0]
    if not name:
        raise ConfigError(f"database_url {config.safe_url} names no database: write mongodb://host/<database>")
    return name


class MongoBackend(Backend):
    PLUGIN_NAME = "mongodb"
    DATABASE_TYPE = "mongodb"
    URL_SCHEMES = SCHEMES
    TEMPLATE_FAMILY = "mongodb"
    TEMPLATES = "ncm_mongo.templates"
    STARTER_URL = "mongodb://localhost:27017/app"
    ASYNC_ONLY = "MongoDB migrations await PyMongo's async API"

    lease_seconds: float = 10.0
    """How long the lock lease lasts unless renewed: how long a runner that crashed on another
    host blocks the others (one that died on this host is taken over at once)."""

    def __init__(self, config: MigrationConfig) -> None:
        super().__init__(config)
        self.database_name = database_name(config)
        self.client: AsyncMongoClient[dict[str, Any]] | None = None
        self.db: AsyncDatabase[dict[str, Any]] | None = None
        self.topology = "unknown"
        self.transactions = False
        self._lease: Lease | None = None

    # -- connection ------------------------------------------------------------------
    async def connect(self) -> None:
        timeout = self.config.connect_timeout
        ms = int(timeout * 1000)
        try:
            self.client = AsyncMongoClient(self.config.database_url, serverSelectionTimeoutMS=ms,
                                           connectTimeoutMS=ms, appname="ncm")
        except (PyMongoError, ValueError, TypeError) as exc:
            raise ConfigError(self.config.mask(
                f"database_url {self.config.safe_url} is not a valid MongoDB URL: {describe(exc)}")) from None
        self.db = self.client.get_database(self.database_name)
        try:
            # A margin over the driver's own timeout, whose message says more, for a server that
            # accepts the connection and then never answers.
            async with asyncio.timeout(timeout + 2):
                hello = await self.client.admin.command("hello")
                await self.db.list_collection_names(filter={"name": documents.HISTORY})  # needs auth
        except TimeoutError:
            await self.close()
            raise DatabaseUnavailable(f"cannot connect to {self.config.safe_url}: no answer within {timeout:g} s") from None
        except PyMongoError as exc:
            await self.close()
            raise DatabaseUnavailable(self.config.mask(f"cannot connect to {self.config.safe_url}: {describe(exc)}")) from None
        if hello.get("setName"):
            self.topology, self.transactions = f"replica set {hello['setName']}", True
        elif hello.get("msg") == "isdbgrid":
            self.topology, self.transactions = "sharded cluster", True
        else:
            self.topology, self.transactions = "standalone", False

    async def close(self) -> None:
        if self.client is not None:
            client, self.client, self.db = self.client, None, None
            await client.close()

    async def server_info(self) -> dict[str, str]:
        build = await self.client.server_info()
        return {"backend": self.PLUGIN_NAME, "server_version": build.get("version", ""),
                "database": self.database_name, "topology": self.topology,
                "transactions": "yes" if self.transactions else "no (standalone server)",
                "lock": await self.lock_holder() or "free"}

    # -- collections -----------------------------------------------------------------
    def _collection(self, name: str) -> AsyncCollection[dict[str, Any]]:
        return self.db.get_collection(name, codec_options=documents.UTC)

    async def _ensure_collections(self) -> None:
        """Create ncm's collections before a run: a transaction may create a collection, but
        two runs creating one at once inside transactions would conflict."""
        existing = set(await self.db.list_collection_names())
        for name in (documents.HISTORY, documents.AUDIT, documents.LOCK):
            if name not in existing:
                with suppress(CollectionInvalid):
                    await self.db.create_collection(name)

    async def read_history(self) -> list[HistoryRecord]:
        cursor = self._collection(documents.HISTORY).find().sort([("applied_at", 1), ("_id", 1)])
        return [from_fields(HistoryRecord, d) async for d in cursor]

    async def read_audit(self) -> list[AuditEntry]:
        cursor = self._collection(documents.AUDIT).find().sort("_id", 1)
        return [from_fields(AuditEntry, d) async for d in cursor]

    async def write_history(self, record: HistoryRecord, session: AsyncClientSession | None = None) -> None:
        """Under the migration lock taken for this write alone when the step runs without it
        (``ncm backfill``), as every history write here."""
        async with self.backfill_options.recording():
            await self._collection(documents.HISTORY).replace_one(
                {"_id": record.version}, documents.history_document(record), upsert=True, session=session)

    async def delete_history(self, version: str, session: AsyncClientSession | None = None) -> None:
        async with self.backfill_options.recording():
            await self._collection(documents.HISTORY).delete_one({"_id": version}, session=session)

    async def write_audit(self, entry: AuditEntry) -> None:
        async with self.backfill_options.recording():
            await self._collection(documents.AUDIT).insert_one(documents.audit_document(entry))

    async def read_backfills(self) -> list[Checkpoint]:
        from ncm_mongo.backfill import latest

        return latest(await self._collection(documents.BACKFILLS).find().to_list())

    async def clear_backfills(self, version: str) -> None:
        async with self.backfill_options.recording():
            await self._collection(documents.BACKFILLS).delete_many({"version": version})

    def _claim_lease(self, version: str) -> Lease:
        return Lease(self._collection(documents.LOCK), self.lease_seconds, name=f"backfill:{version}")

    def backfill_claim(self, version: str, timeout: float) -> AbstractAsyncContextManager[None]:
        """A lease of the backfill's own in ``ncm_lock``, renewed while the worker lives: a
        killed worker's expires (at once for the next worker on its host)."""
        return holding(self._claim_lease(version), timeout, self.database_name, f"the backfill of {version}")

    async def backfill_claimant(self, version: str) -> str | None:
        return await self._claim_lease(version).holder(live=True)

    # -- the lock --------------------------------------------------------------------
    def _new_lease(self) -> Lease:
        return Lease(self._collection(documents.LOCK), self.lease_seconds)

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """The lease; once it is held, a restore killed while swapping its collections in is
        finished (ncm_mongo.restore.finish_swap)."""
        lease = self._new_lease()
        async with holding(lease, self.config.lock_timeout, self.database_name):
            await finish_swap(self.db, {documents.LOCK})
            self._lease = lease
            try:
                yield
            finally:
                self._lease = None

    async def lock_holder(self) -> str | None:
        return await self._new_lease().holder()

    async def break_lock(self) -> str | None:
        return await self._new_lease().breach()

    # -- running ---------------------------------------------------------------------
    @asynccontextmanager
    async def run_scope(self) -> AsyncIterator[None]:
        await self._ensure_collections()
        yield

    def is_atomic(self, migration: Migration) -> bool:
        return self.transactions and bool(migration.transactional)

    async def apply(self, migration: Migration, direction: str, record: HistoryRecord) -> None:
        if self._lease is not None and self._lease.lost:
            raise LockTimeout(f"{self.database_name}: the migration lock lease expired and another runner "
                              f"took it over; stopped before {migration.version}")
        async with self.client.start_session() as session:
            try:
                if self.is_atomic(migration):
                    async with await session.start_transaction():
                        await self._run_step(session, migration, direction, record)
                else:
                    await self._run_step(session, migration, direction, record)
            except (MigrationFailed, MigrationFileError, BackfillStopped):
                raise
            except FAILURES as exc:
                raise MigrationFailed(migration.version, describe(exc)) from exc

    async def _run_step(self, session: AsyncClientSession, migration: Migration, direction: str,
                        record: HistoryRecord) -> None:
        """The step, its validate() and its history change, in ``session`` (and in its
        transaction when there is one, so that they commit or vanish together)."""
        started = time.perf_counter()
        ctx = MongoStepContext(self, session, migration)
        try:
            await migration.run(direction, ctx)
        except BaseException:
            await ctx.close_backfills(ok=False)
            raise
        await ctx.close_backfills(ok=True)
        if direction == "up" and not await migration.check(ctx):
            raise MigrationFailed(migration.version, "its validate() returned False")
        record.execution_ms = int((time.perf_counter() - started) * 1000)
        if direction == "up":
            await self.write_history(record, session)
        else:
            await self.delete_history(record.version, session)

    async def dry_run(self, migration: Migration, direction: str) -> list[str]:
        ctx = RecordingContext(self.config, self.database_name, migration)
        try:
            await migration.run(direction, ctx)
        except Exception as exc:
            ctx.statements.append(f"// dry run stopped here: {describe(exc)}")
        return ctx.statements

    async def lint_capture(self, migration: Migration) -> list[Any]:
        from ncm_mongo.lint import capture

        return await capture(self, migration)

    async def live_schema(self) -> dict[str, dict[str, str]]:
        names = set(await self.db.list_collection_names()) - {documents.HISTORY, documents.AUDIT, documents.LOCK,
                                                               documents.BACKFILLS}
        return dict.fromkeys(names, {})

    # -- backup and restore ----------------------------------------------------------
    async def dump(self, out: BinaryIO) -> dict[str, Any]:
        """Every collection, view and time series (history and audit included; the lock,
        which the backup itself holds, left out), read in one snapshot on a replica set or a
        sharded cluster (where transactions, and so snapshot reads, are available)."""
        return await dump_database(self.db, out, snapshot=self.transactions, skip={documents.LOCK})

    async def restore(self, source: BinaryIO) -> None:
        """Fill temporary collections from the backup, then rename them over the live ones (all but the lock)."""
        await restore_database(self.db, source, keep={documents.LOCK})
