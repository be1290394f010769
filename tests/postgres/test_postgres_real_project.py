"""A real project's SQL migrations, applied by ncm, end with the schema that PostgreSQL's own
client makes of the same files: Netflix Conductor's Flyway directory (Apache License 2.0,
github.com/Netflix/conductor at 51a906fe16399661f853617f0f89d422b9ca1d2b), vendored unchanged
in tests/fixtures/conductor-postgres with its README and license."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from servers import SERVERS
from sql_files_scenario import ok, query, states

FIXTURE = Path(__file__).parents[1] / "fixtures" / "conductor-postgres" / "migrations"
OURS = r"NOT LIKE 'ncm\_%'"
CATALOG = {
    "columns": "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length, "
               "is_nullable, column_default FROM information_schema.columns "
               f"WHERE table_schema = 'public' AND table_name {OURS} ORDER BY 1, 3",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes "
               f"WHERE schemaname = 'public' AND tablename {OURS} ORDER BY 1, 2",
    "constraints": "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
                   f"WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text {OURS} ORDER BY 1, 2",
    "sequences": "SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences "
                 f"WHERE sequence_schema = 'public' AND sequence_name {OURS} ORDER BY 1",
}


def catalog(url: str) -> dict[str, list[tuple]]:
    """The schema as PostgreSQL's catalogs describe it, ncm's own tables left out."""
    return {name: query(url, statement) for name, statement in CATALOG.items()}


def psql(url: str, path: Path) -> None:
    """One migration file through psql, in one transaction as Flyway runs it on PostgreSQL."""
    parts = sa.make_url(url)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-h", parts.host,
                    "-p", str(parts.port or 5432), "-U", parts.username, "-d", parts.database, "-f", str(path)],
                   check=True, capture_output=True, text=True)


@pytest.fixture
async def reference_url(admin) -> AsyncIterator[str]:
    """A second empty database, for psql."""
    url = await SERVERS["postgresql"].create(admin, prefix="ncm_ref")
    yield url
    await SERVERS["postgresql"].drop(admin, url)


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs PostgreSQL's psql client")
def test_conductors_flyway_migrations_make_the_schema_psql_makes(ncm, migrations_dir, database_url, reference_url):
    files = sorted(FIXTURE.glob("V*.sql"), key=lambda p: int(p.name[1:].split("__")[0]))
    for path in files:
        shutil.copy(path, migrations_dir)
        psql(reference_url, path)
    ok(ncm(database_url, "run"))
    assert states(lambda *args: ncm(database_url, *args)) == {str(n): "applied" for n in range(1, 8)}
    ours, theirs = catalog(database_url), catalog(reference_url)
    assert ("queue_message", "queue_message_pkey", "p", "PRIMARY KEY (queue_name, message_id)") in ours["constraints"]
    assert len({table for table, *_ in ours["columns"]}) == 14
    assert ours == theirs
