"""Killed, signalled and interrupted runs on PostgreSQL (tests/faults.py)."""

import pytest

from faults import InterruptedSQLRuns


class TestPostgresInterruptedRuns(InterruptedSQLRuns):
    @pytest.fixture
    def url(self, database_url):
        return database_url
