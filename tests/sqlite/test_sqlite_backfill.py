"""Resumable batched backfills on SQLite (tests/backfill_scenario.py)."""

import sqlite3
from contextlib import closing

import sqlalchemy as sa

from backfill_scenario import BackfillRuns


class TestSQLiteBackfill(BackfillRuns):
    def counters(self, url):
        with closing(sqlite3.connect(sa.make_url(url).database)) as conn:
            return dict(conn.execute("SELECT id, n FROM items ORDER BY id"))


def test_a_dry_run_shows_the_statement_each_batch_runs(url, migrations_dir, tmp_path, monkeypatch):
    from backfill_scenario import SQL_BACKFILL, SQL_ITEMS
    from faults import ncm

    monkeypatch.setenv("NCM_TEST_LOG", str(tmp_path / "batches.log"))
    migrations_dir.mkdir(exist_ok=True)
    (migrations_dir / "001_items.py").write_text(SQL_ITEMS)
    assert ncm(url, migrations_dir, "run").returncode == 0
    (migrations_dir / "002_fill.py").write_text(SQL_BACKFILL)
    done = ncm(url, migrations_dir, "run", "--dry-run")
    assert "UPDATE items SET n = n + 1 WHERE id BETWEEN" in done.stdout, done.stdout + done.stderr
