"""Resumable batched backfills on PostgreSQL (tests/backfill_scenario.py): kill -9 of a real
``ncm run`` mid-backfill, every row updated exactly once, resumed at the checkpoint."""

import pytest

from backfill_scenario import BackfillWorkers, sql_counters


class TestPostgresBackfill(BackfillWorkers):
    @pytest.fixture
    def url(self, database_url):
        return database_url

    def counters(self, url):
        return sql_counters(url)
