"""Resumable batched backfills on MariaDB/MySQL (tests/backfill_scenario.py): each batch and its
checkpoint in one InnoDB transaction."""

import pytest

from backfill_scenario import BackfillWorkers, sql_counters, sql_rows_done


class TestMySQLBackfill(BackfillWorkers):
    @pytest.fixture
    def url(self, database_url):
        return database_url

    def counters(self, url):
        return sql_counters(url)

    def rows_done(self, url):
        return sql_rows_done(url)

    def names_worker(self, worker, pid):
        return worker is not None and worker.startswith("connection ")
