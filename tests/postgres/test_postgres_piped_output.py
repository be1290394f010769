"""A dry run piped into psql stores what the migration says, however long the line."""

from __future__ import annotations

import subprocess

import sqlalchemy as sa
from piped import LITERAL, NOTES


def test_a_dry_run_piped_to_psql_stores_a_long_literal_exactly(ncm, database_url, migrations_dir):
    (migrations_dir / "001_notes.py").write_text(NOTES)
    plan = ncm(database_url, "run", "--dry-run", COLUMNS="80")
    assert plan.returncode == 0, plan.stderr
    url = sa.make_url(database_url)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host, "-p", str(url.port or 5432),
                    "-U", url.username, "-d", url.database], input=plan.stdout, text=True, check=True)
    done = subprocess.run(["psql", "-X", "-At", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username,
                           "-d", url.database, "-c", "SELECT body FROM notes"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.rstrip("\n") == LITERAL.replace("''", "'")
