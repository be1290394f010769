"""ncm backup/restore on MongoDB, in MB/s, beside the bare driver reading and writing the same data.

    /work/venv/bin/python bench/bench_mongo_backup.py [size_mb]   (default 200)

The server is NCM_BENCH_MONGO_URL, else NCM_TEST_MONGO_URL (scripts/mongodb-server.sh),
else the replica set on 127.0.0.1:27017; the bench uses (and drops) database ncm_bench.
No mongodump can be installed here, so the reference is PyMongo itself: reading every
document as raw BSON batches, and inserting them back as raw BSON, with nothing else (no
index builds, no tar, no hashing). MB are the documents' BSON bytes (dbStats dataSize).
Prints the best of ROUNDS runs and the process's peak RSS before and after the timed runs,
which shows whether memory stayed flat.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient, MongoClient

from ncm_core.config import MigrationConfig
from ncm_core.runner import MigrationRunner

ROUNDS = 3
DATABASE = "ncm_bench"
RAW = CodecOptions(document_class=RawBSONDocument)
T = TypeVar("T")


def server_url() -> str:
    url = (os.environ.get("NCM_BENCH_MONGO_URL") or os.environ.get("NCM_TEST_MONGO_URL")
           or "mongodb://127.0.0.1:27017/?directConnection=true")
    return urlunsplit(urlsplit(url)._replace(path=f"/{DATABASE}"))


def build(url: str, size_mb: int) -> int:
    """About ``size_mb`` MB of ~2 KB documents over two collections, with secondary indexes;
    returns the BSON bytes."""
    with MongoClient(url) as client:
        client.drop_database(DATABASE)
        db = client[DATABASE]
        per_collection = size_mb * 1024 * 1024 // 2 // 2048
        for name in ("orders", "events"):
            for start in range(0, per_collection, 2000):
                db[name].insert_many([
                    {"n": i, "customer": f"customer {i % 5000} Zoë", "total": i * 1.25, "paid": i % 3 == 0,
                     "lines": [{"sku": f"SKU-{i % 997}", "qty": q} for q in range(5)],
                     "note": "lorem ipsum dolor sit amet " * 20, "blob": os.urandom(1024)}
                    for i in range(start, min(start + 2000, per_collection))], ordered=False)
            db[name].create_index("customer")
            db[name].create_index([("paid", 1), ("total", -1)])
        return int(db.command("dbStats")["dataSize"])


async def driver_read(url: str, spill: Path) -> None:
    client = AsyncMongoClient(url)
    try:
        with open(spill, "wb") as f:
            for name in ("orders", "events"):
                async for batch in client[DATABASE][name].find_raw_batches():
                    f.write(batch)
    finally:
        await client.close()


async def driver_write(url: str, spill: Path) -> None:
    """Insert the spilled documents into a scratch collection, 8 MB at a time."""
    client = AsyncMongoClient(url)
    try:
        scratch = client[f"{DATABASE}_scratch"]
        await client.drop_database(scratch.name)
        with open(spill, "rb") as f:
            batch: list[RawBSONDocument] = []
            size = 0
            for document in bson.decode_file_iter(f, RAW):
                batch.append(document)
                size += len(document.raw)
                if size >= 8 << 20:
                    await scratch.copy.insert_many(batch, ordered=False)
                    batch, size = [], 0
            if batch:
                await scratch.copy.insert_many(batch, ordered=False)
        await client.drop_database(scratch.name)
    finally:
        await client.close()


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def timed(into: list[float], step: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await step
    into.append(time.perf_counter() - started)
    return result


async def main(size_mb: int) -> None:
    url = server_url()
    data = build(url, size_mb)
    mb = data / 2**20
    rss_before = peak_rss()
    times: dict[str, list[float]] = {k: [] for k in ("driver read", "ncm backup", "ncm backup (encrypted)",
                                                     "driver write", "ncm restore", "ncm restore (encrypted)")}
    sizes: dict[str, int] = {}
    rss_ncm = 0.0
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp)
        (root / "m").mkdir()
        common = {"database_url": url, "migration_directory": root / "m", "backup_retention": 0}
        plain = MigrationRunner(MigrationConfig(backup_directory=root / "b", **common))
        secret = MigrationRunner(MigrationConfig(backup_directory=root / "e", encryption_key="bench passphrase",
                                                 **common))
        await plain.initialize()
        await secret.initialize()
        try:
            for round_ in range(ROUNDS):
                made = await timed(times["ncm backup"], plain.backup_database())
                made_secret = await timed(times["ncm backup (encrypted)"], secret.backup_database())
                await timed(times["ncm restore"], plain.restore_database(made["location"]))
                await timed(times["ncm restore (encrypted)"], secret.restore_database(made_secret["location"]))
                if round_ == 0:
                    rss_ncm = peak_rss()
                spill = root / "spill.bson"
                await timed(times["driver read"], driver_read(url, spill))
                await timed(times["driver write"], driver_write(url, spill))
                sizes = {"plain": made["size"], "encrypted": made_secret["size"]}
                for leftover in (spill, Path(made["location"]), Path(made_secret["location"])):
                    leftover.unlink()
                    Path(f"{leftover}.manifest.json").unlink(missing_ok=True)
        finally:
            await plain.close()
            await secret.close()
            with MongoClient(url) as client:
                client.drop_database(DATABASE)
    best = {k: min(v) for k, v in times.items()}
    print(f"MongoDB: {mb:.0f} MB of BSON in 2 collections; archive {sizes['plain'] / 2**20:.0f} MB, "
          f"encrypted {sizes['encrypted'] / 2**20:.0f} MB; best of {ROUNDS}")
    for name, seconds in best.items():
        base = best["driver read" if "backup" in name or "read" in name else "driver write"]
        print(f"{name:26} {seconds:6.2f} s  {mb / seconds:7.1f} MB/s  {seconds / base:5.2f}x the bare driver")
    print(f"peak RSS of this process: {rss_before:.0f} MB after building the data, {rss_ncm:.0f} MB after "
          f"ncm's first backups and restores (before the bare driver's runs, whose 16 MB batches cost more)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
