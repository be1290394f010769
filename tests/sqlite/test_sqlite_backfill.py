"""Resumable batched backfills on SQLite (tests/backfill_scenario.py)."""

import sqlite3
from contextlib import closing

import sqlalchemy as sa

from backfill_scenario import BackfillRuns


class TestSQLiteBackfill(BackfillRuns):
    def counters(self, url):
        with closing(sqlite3.connect(sa.make_url(url).database)) as conn:
            return dict(conn.execute("SELECT id, n FROM items ORDER BY id"))
