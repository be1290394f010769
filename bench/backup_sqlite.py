"""ncm backup/restore on SQLite against the bare online backup API, alternately, in one run.

    /work/venv/bin/python bench/backup_sqlite.py [size_mb]   (default 200)

Prints each tool's best time, sizes and the ratio ncm/native (target: within 1.2x for the
plain backup; encryption and sha256 cost on top is shown separately).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from ncm_core.config import MigrationConfig
from ncm_core.runner import MigrationRunner

ROUNDS = 3


def build(db: Path, size_mb: int) -> None:
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, label TEXT, payload BLOB)")
        con.execute("CREATE INDEX ix_rows_label ON rows (label)")
        row = 4096
        con.executemany("INSERT INTO rows (label, payload) VALUES (?, ?)",
                        ((f"row {i}", os.urandom(row)) for i in range(size_mb * 1024 * 1024 // row)))


def native_backup(db: Path, target: Path) -> None:
    with sqlite3.connect(db) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def native_restore(source: Path, db: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)


async def main(size_mb: int) -> None:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp)
        db = root / "bench.db"
        build(db, size_mb)
        times: dict[str, list[float]] = {k: [] for k in
                                         ("native backup", "ncm backup", "ncm backup (encrypted)",
                                          "native restore", "ncm restore", "ncm restore (encrypted)")}
        sizes = {}
        plain = MigrationRunner(MigrationConfig(database_url=f"sqlite+aiosqlite:///{db}", backup_directory=root / "b",
                                                migration_directory=root / "m", backup_retention=0))
        secret = MigrationRunner(MigrationConfig(database_url=f"sqlite+aiosqlite:///{db}", backup_directory=root / "e",
                                                 migration_directory=root / "m", backup_retention=0,
                                                 encryption_key="bench passphrase"))
        (root / "m").mkdir()
        await plain.initialize()
        await secret.initialize()
        try:
            for i in range(ROUNDS):
                copy = root / f"native{i}.db"
                started = time.perf_counter()
                native_backup(db, copy)
                times["native backup"].append(time.perf_counter() - started)
                sizes["native"] = copy.stat().st_size

                started = time.perf_counter()
                made = await plain.backup_database()
                times["ncm backup"].append(time.perf_counter() - started)
                sizes["ncm"] = made["size"]

                started = time.perf_counter()
                made_secret = await secret.backup_database()
                times["ncm backup (encrypted)"].append(time.perf_counter() - started)
                sizes["ncm encrypted"] = made_secret["size"]

                started = time.perf_counter()
                native_restore(copy, db)
                times["native restore"].append(time.perf_counter() - started)

                started = time.perf_counter()
                await plain.restore_database(made["location"])
                times["ncm restore"].append(time.perf_counter() - started)

                started = time.perf_counter()
                await secret.restore_database(made_secret["location"])
                times["ncm restore (encrypted)"].append(time.perf_counter() - started)
                for leftover in (copy, Path(made["location"]), Path(made_secret["location"])):
                    leftover.unlink()
        finally:
            await plain.close()
            await secret.close()
    best = {k: min(v) for k, v in times.items()}
    print(f"database {sizes['native'] / 2**20:.0f} MB; archive {sizes['ncm'] / 2**20:.0f} MB, "
          f"encrypted {sizes['ncm encrypted'] / 2**20:.0f} MB; best of {ROUNDS}")
    for name, seconds in best.items():
        base = best["native backup" if "backup" in name else "native restore"]
        print(f"{name:26} {seconds:6.2f} s  {sizes['native'] / 2**20 / seconds:7.0f} MB/s  {seconds / base:5.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
