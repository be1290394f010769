"""ncm_sql.deferred: the pure parts (the database behaviour is in the SQL contract)."""

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ncm_core.history import HistoryRecord
from ncm_sql import deferred, tables


@pytest.mark.parametrize("dialect", [postgresql.asyncpg.dialect(), sqlite.aiosqlite.dialect()], ids=["pg", "sqlite"])
@pytest.mark.parametrize("schema", [None, "ncm"])
def test_literal_insert_renders_what_sqlalchemy_renders(dialect, schema):
    _, history, _ = tables.build(schema)
    record = HistoryRecord("0001_x", "It's a back\\slash, \"quoted\", 100% ü :colon $1", "schema", "c" * 64,
                           applied_at=datetime(2026, 11, 24, 1, 2, 3, 4567, tzinfo=timezone.utc), execution_ms=7)
    row = tables.history_row(record)
    expected = deferred.literal(sa.insert(history).values(row), dialect)
    assert deferred.LiteralInsert(history, dialect).render(row) == expected
