"""Killed, signalled and interrupted runs on SQLite (tests/faults.py)."""

from faults import InterruptedSQLRuns


class TestSQLiteInterruptedRuns(InterruptedSQLRuns):
    pass
