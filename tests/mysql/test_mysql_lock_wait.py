"""On MariaDB an ALTER waits at most ddl_lock_timeout (lock_wait_timeout) for its metadata
lock, so the sessions queued behind it are not stalled by a long transaction ahead of it."""

from __future__ import annotations

import asyncio

import pymysql
import sqlalchemy as sa

ADD_COLUMN = '''"""Add users.email."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(100)))
'''


def connect(url: str) -> pymysql.Connection:
    u = sa.make_url(url)
    return pymysql.connect(host=u.host, port=u.port or 3306, user=u.username, password=u.password or "",
                           database=u.database, autocommit=True)


def hold_a_read(url: str, seconds: float, started: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    conn = connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT * FROM users")
            loop.call_soon_threadsafe(started.set)
            cursor.execute(f"SELECT SLEEP({seconds})")
            cursor.execute("COMMIT")
    finally:
        conn.close()


async def test_an_alter_behind_a_long_transaction_gives_up_after_the_lock_timeout_saying_so(
        database_url, write_migration, runner_factory):
    conn = connect(database_url)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE users (id INT PRIMARY KEY)")
    conn.close()
    write_migration("001_email", ADD_COLUMN)
    started = asyncio.Event()
    blocker = asyncio.get_running_loop().run_in_executor(None, hold_a_read, database_url, 10.0, started,
                                                         asyncio.get_running_loop())
    await started.wait()
    async with runner_factory(database_url, sql={"ddl_lock_timeout": 1}) as runner:
        (result,) = await runner.run_migrations()
        history = [(r.version, r.status) for r in await runner.db.read_history()]
    assert result["status"] == "failed"
    assert "Lock wait timeout" in result["error"] and "ddl_lock_timeout" in result["error"]
    assert history == [("001_email", "failed")]
    await blocker
    conn = connect(database_url)
    with conn.cursor() as cursor:
        cursor.execute("SHOW COLUMNS FROM users")
        assert [row[0] for row in cursor.fetchall()] == ["id"]
    conn.close()
