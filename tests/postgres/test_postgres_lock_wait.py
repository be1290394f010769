"""A migration never queues the application behind it: on PostgreSQL each step waits at most
ddl_lock_timeout for a lock, gives way, and tries again once the other transaction is done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import asyncpg
import pytest
import sqlalchemy as sa

ADD_COLUMN = '''"""Add users.email."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(100)))
'''


def plain(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def holding_a_read(url: str, seconds: float, started: asyncio.Event,
                         release: asyncio.Event | None = None) -> None:
    """A long transaction that has read users: its ACCESS SHARE lock blocks any ALTER, for
    ``seconds`` or until ``release``."""
    conn = await asyncpg.connect(plain(url))
    try:
        async with conn.transaction():
            await conn.fetch("SELECT * FROM users")
            started.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((release or asyncio.Event()).wait(), seconds)
    finally:
        await conn.close()


async def longest_read(url: str, until: asyncio.Event) -> float:
    """The longest a plain SELECT on users waited while the migration ran."""
    conn = await asyncpg.connect(plain(url))
    longest = 0.0
    try:
        while not until.is_set():
            began = time.perf_counter()
            await conn.fetchval("SELECT count(*) FROM users")
            longest = max(longest, time.perf_counter() - began)
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return longest


@contextlib.contextmanager
def releasing_after_two(caplog: pytest.LogCaptureFixture, retry: str, release: asyncio.Event) -> Iterator[None]:
    """ncm's warnings captured, and ``release`` set once two of them say ``retry``: the other
    transaction ends after ncm has given way twice. (tests/conftest.py gives every test the
    "ncm" logger enabled and propagating to caplog's handler; adding that handler here as well
    would capture each warning twice, and release after one retry.)"""
    async def release_after_two_retries() -> None:
        while sum(retry in r.getMessage() for r in caplog.records) < 2:
            await asyncio.sleep(0.05)
        release.set()

    caplog.set_level(logging.WARNING, logger="ncm")
    releaser = asyncio.create_task(release_after_two_retries())
    try:
        yield
    finally:
        releaser.cancel()


async def make_users(url: str) -> None:
    conn = await asyncpg.connect(plain(url))
    try:
        await conn.execute("CREATE TABLE users (id integer PRIMARY KEY)")
    finally:
        await conn.close()


async def test_an_alter_behind_a_long_read_retries_and_never_blocks_readers_longer_than_the_timeout(
        database_url, write_migration, runner_factory, caplog):
    await make_users(database_url)
    write_migration("001_email", ADD_COLUMN)
    started, release, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    blocker = asyncio.create_task(holding_a_read(database_url, 30.0, started, release))
    await started.wait()
    reader = asyncio.create_task(longest_read(database_url, done))

    with releasing_after_two(caplog, "trying again", release):
        async with runner_factory(database_url, sql={"ddl_lock_timeout": 0.3, "ddl_lock_retries": 10}) as runner:
            results = await runner.run_migrations()
    done.set()
    await blocker
    longest = await reader
    assert [r["status"] for r in results] == ["applied"]
    assert release.is_set(), "no retry was logged while the read held the table"
    assert longest < 1.5, f"a reader waited {longest:.2f}s behind the migration"


async def test_a_lock_never_granted_fails_the_step_saying_so_and_changes_nothing(
        database_url, write_migration, runner_factory):
    await make_users(database_url)
    write_migration("001_email", ADD_COLUMN)
    started, release = asyncio.Event(), asyncio.Event()
    blocker = asyncio.create_task(holding_a_read(database_url, 30.0, started, release))
    await started.wait()
    async with runner_factory(database_url, sql={"ddl_lock_timeout": 0.2, "ddl_lock_retries": 2}) as runner:
        (result,) = await runner.run_migrations()
        release.set()
        assert result["status"] == "failed"
        assert "a lock was not granted within 0.2s, ddl_lock_timeout, 2 time(s)" in result["error"]
        assert [(r.version, r.status) for r in await runner.db.read_history()] in ([], [("001_email", "failed")])
    await blocker
    conn = await asyncpg.connect(plain(database_url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'") == 0
    finally:
        await conn.close()
