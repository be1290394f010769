"""Killed, signalled and interrupted runs on MariaDB (tests/faults.py): its DDL commits
implicitly, so every migration is one the database cannot roll back."""

import pytest

from faults import InterruptedSQLRuns


class TestMySQLInterruptedRuns(InterruptedSQLRuns):
    atomic = False

    @pytest.fixture
    def url(self, database_url):
        return database_url
