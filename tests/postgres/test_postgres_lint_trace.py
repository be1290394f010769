"""``ncm lint --trace`` on PostgreSQL: each pending statement runs in a transaction that is
rolled back, and the locks, rewrites and durations it caused are reported."""

import json

import pytest
import sqlalchemy as sa
from json_schemas import schema_errors
from sqlalchemy.ext.asyncio import create_async_engine

INDEX = '''"""Index."""
from alembic import op
transactional = {transactional}


def upgrade():
    op.execute("{statement}")
'''


@pytest.fixture
async def users(database_url):
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100), age INTEGER)"))
        await conn.execute(sa.text("INSERT INTO users SELECT g, 'u' || g, g FROM generate_series(1, 100) g"))
    yield engine
    await engine.dispose()


def traced(ncm, database_url, migrations_dir, statement, transactional=True):
    (migrations_dir / "001_change.py").write_text(INDEX.format(statement=statement, transactional=transactional))
    done = ncm(database_url, "lint", "--trace", "--json")
    report = json.loads(done.stdout)
    assert schema_errors("ncm lint", report) == [], report
    return report, done


async def state(engine):
    async with engine.connect() as conn:
        indexes = (await conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'users'"))).all()
        schemas = await conn.scalar(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ncm_trace%'"))
        node = await conn.scalar(sa.text("SELECT relfilenode FROM pg_class WHERE relname = 'users'"))
        return sorted(indexes), schemas, node


async def test_a_plain_create_index_shows_a_share_lock_on_the_table(ncm, database_url, migrations_dir, users):
    before = await state(users)
    report, done = traced(ncm, database_url, migrations_dir, "CREATE INDEX ix_users_email ON users (email)")
    (statement,) = report["trace"]
    assert statement["locks"] == [{"table": "users", "mode": "ShareLock", "blocks_writes": True}]
    assert statement["duration_ms"] >= 0 and statement["line"] == 7
    observed = [f for f in report["findings"] if f["observed"]]
    assert [(f["code"], f["line"]) for f in observed] == [("LK101", 7)]
    assert await state(users) == before, "the trace was rolled back"


async def test_create_index_concurrently_shows_no_lock_that_blocks_writes(ncm, database_url, migrations_dir, users):
    before = await state(users)
    report, _ = traced(ncm, database_url, migrations_dir, "CREATE INDEX CONCURRENTLY ix_users_email ON users (email)",
                       transactional=False)
    (statement,) = report["trace"]
    assert statement["locks"] == [{"table": "users", "mode": "ShareUpdateExclusiveLock", "blocks_writes": False}]
    assert "empty copy" in statement["note"]
    assert not [f for f in report["findings"] if f["observed"]]
    assert await state(users) == before, "the index exists only on the copy, and the copy is gone"


async def test_a_type_change_that_rewrites_is_seen_rewriting(ncm, database_url, migrations_dir, users):
    report, _ = traced(ncm, database_url, migrations_dir, "ALTER TABLE users ALTER COLUMN age TYPE BIGINT")
    (statement,) = report["trace"]
    assert statement["rewrote"] == ["users"]
    assert {"table": "users", "mode": "AccessExclusiveLock", "blocks_writes": True} in statement["locks"]
    assert [f["code"] for f in report["findings"] if f["observed"]] == ["LK106"]


async def test_a_write_blocking_lock_no_static_rule_names_is_lk100(ncm, database_url, migrations_dir, users):
    report, _ = traced(ncm, database_url, migrations_dir, "ALTER TABLE users RENAME COLUMN age TO years")
    assert [f["code"] for f in report["findings"] if f["observed"]] == ["LK100"]


async def test_widening_a_varchar_is_seen_not_rewriting(ncm, database_url, migrations_dir, users):
    report, _ = traced(ncm, database_url, migrations_dir, "ALTER TABLE users ALTER COLUMN email TYPE VARCHAR(200)")
    (statement,) = report["trace"]
    assert statement["rewrote"] == []


async def test_a_failing_statement_is_reported_and_later_ones_are_not_run(ncm, database_url, migrations_dir, users):
    (migrations_dir / "001_change.py").write_text('''"""Two."""
from alembic import op


def upgrade():
    op.execute("ALTER TABLE nowhere ADD COLUMN x INT")
    op.execute("CREATE INDEX ix ON users (email)")
''')
    report = json.loads(ncm(database_url, "lint", "--trace", "--json").stdout)
    first, second = report["trace"]
    assert first["note"].startswith("failed here") and second["note"] == "not traced: an earlier statement failed"


def test_trace_without_a_reachable_database_is_one_line(ncm, unreachable_url, migrations_dir):
    (migrations_dir / "001_change.py").write_text(INDEX.format(statement="SELECT 1", transactional=True))
    done = ncm(unreachable_url, "lint", "--trace")
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error: --trace runs")
    assert "s3cr3t-pw" not in done.stderr
