"""What ncm prints off a terminal is never wrapped or cut: piped to a file, to sqlite3 or to
grep, every line and every value arrives whole."""

from __future__ import annotations

import sqlite3
import subprocess

from piped import LITERAL, NOTES

LONG_VERSION = "20260101_120000_add_the_customer_loyalty_programme_tables"


def test_a_dry_run_piped_to_sqlite3_stores_a_long_literal_exactly(ncm, project):
    (project / "migrations" / "001_notes.py").write_text(NOTES)
    plan = ncm("run", "--dry-run", env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 or "INSERT INTO notes" in line for line in plan.splitlines())
    subprocess.run(["sqlite3", str(project / "copy.db")], input=plan, text=True, check=True)
    with sqlite3.connect(project / "copy.db") as db:
        assert db.execute("SELECT body FROM notes").fetchone()[0] == LITERAL.replace("''", "'")


def test_status_off_a_terminal_shows_a_long_version_whole_in_narrow_columns(ncm, project):
    (project / "migrations" / f"{LONG_VERSION}.py").write_text(
        '"""Add the customer loyalty programme tables, their indexes and the nightly rollup."""\n\n\n'
        "def upgrade():\n    pass\n")
    out = ncm("status", env={"COLUMNS": "40"}).stdout
    row = next(line for line in out.splitlines() if LONG_VERSION in line)
    assert "nightly rollup." in row and "pending" in row


def test_history_off_a_terminal_keeps_one_line_per_record(ncm, project):
    (project / "migrations" / f"{LONG_VERSION}.py").write_text('"""Loyalty."""\n\n\ndef upgrade():\n    pass\n')
    ncm("run")
    lines = ncm("history", env={"COLUMNS": "40"}).stdout.splitlines()
    assert LONG_VERSION in [line for line in lines if LONG_VERSION in line][0].split()
    assert len(lines) == 3  # header, rule, one record
