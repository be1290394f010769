"""`ncm run` against `alembic upgrade head` (async env.py, aiosqlite) on SQLite, N one-table
migrations (5 columns and an index each), and the same DDL in one transaction as the floor;
``python imports`` is a process that only imports what a tool on this stack imports.

    python bench/bench_sqlite.py [--sizes 100 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

from common import BIN, compare, plain_sql, report, run, write_alembic_project, write_ncm_project


IMPORTS = "import aiosqlite, sqlalchemy.ext.asyncio, alembic.op, ncm_core.cli, ncm_core.config"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            db = root / "bench.db"
            url = f"sqlite+aiosqlite:///{db}"
            migrations = write_ncm_project(root, n)
            ini = write_alembic_project(root, n, url)
            script = "BEGIN;\n" + "".join(plain_sql(i) for i in range(1, n + 1)) + "COMMIT;\n"

            def reset() -> None:
                for path in root.glob("bench.db*"):
                    path.unlink()

            def plain() -> None:
                with sqlite3.connect(db) as conn:
                    conn.executescript(script)

            env = {"MIGRATION_DATABASE_URL": url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations)}
            medians = compare({
                "ncm run": (reset, lambda: run([str(BIN / "ncm"), "run", "--json"], env=env, cwd=root)),
                "alembic upgrade head": (reset, lambda: run([str(BIN / "alembic"), "-c", str(ini), "upgrade", "head"])),
                "plain SQL, one transaction": (reset, plain),
                "python imports": (reset, lambda: run([sys.executable, "-c", IMPORTS])),
            }, args.repeats)
            report(f"SQLite, N={n} (median of {args.repeats})", medians, "alembic upgrade head")
            print(f"  ncm / alembic = {medians['ncm run'] / medians['alembic upgrade head']:.2f}")


if __name__ == "__main__":
    main()
