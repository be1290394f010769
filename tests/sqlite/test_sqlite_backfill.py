"""Resumable batched backfills on SQLite (tests/backfill_scenario.py)."""

import sqlite3
from contextlib import closing

import sqlalchemy as sa

from backfill_scenario import BackfillWorkers


class TestSQLiteBackfill(BackfillWorkers):
    def counters(self, url):
        with closing(sqlite3.connect(sa.make_url(url).database)) as conn:
            return dict(conn.execute("SELECT id, n FROM items ORDER BY id"))

    def rows_done(self, url):
        with closing(sqlite3.connect(sa.make_url(url).database)) as conn:
            try:
                return conn.execute("SELECT max(rows_done) FROM ncm_backfills").fetchone()[0] or 0
            except sqlite3.OperationalError:
                return 0


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


def test_wait_at_head_answers_while_ncm_backfill_runs(url, migrations_dir, tmp_path, monkeypatch):
    from backfill_scenario import SQL_BACKFILL, SQL_ITEMS, SQL_LATER
    from faults import Child, ncm

    monkeypatch.setenv("NCM_TEST_LOG", str(tmp_path / "batches.log"))
    migrations_dir.mkdir(exist_ok=True)
    for name, source in (("001_items", SQL_ITEMS), ("002_fill", SQL_BACKFILL), ("003_later", SQL_LATER)):
        (migrations_dir / f"{name}.py").write_text(source)
    assert ncm(url, migrations_dir, "run", "--defer-backfills").returncode == 0
    monkeypatch.setenv("NCM_TEST_STOP_AT", "2")
    worker = Child(url, migrations_dir, "backfill")
    try:
        worker.wait_for_mark()
        waited = ncm(url, migrations_dir, "wait", "--at-head", "--timeout", "0")
        assert waited.returncode == 0, waited.stderr
    finally:
        worker.kill_group()
        worker.finish()
