"""The lock: a lease document, taken atomically, renewed while a run lasts, taken over only
after it expires, released at the end, and shown by `ncm status`."""

import asyncio
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import MongoClient

from ncm_core.errors import LockTimeout
from ncm_core.history import HistoryRecord

CREATE = '''"""Create things."""


async def upgrade(ctx):
    await ctx.db.things.insert_one({"made": True}, session=ctx.session)
'''


def plant_lease(url, owner, expires_in, host=None, pid=None):
    """A lease as another runner (alive or dead) would have left it."""
    now = datetime.now(timezone.utc)
    with MongoClient(url) as client:
        client.get_default_database().ncm_lock.insert_one({
            "_id": "migration", "owner": owner, "host": host, "pid": pid, "token": "someone-else",
            "acquired_at": now - timedelta(minutes=5), "expires_at": now + timedelta(seconds=expires_in)})


def exited_pid():
    """The pid of a process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lease_documents(url):
    with MongoClient(url) as client:
        return list(client.get_default_database().ncm_lock.find())


async def test_an_expired_lease_is_taken_over(mongo_url, write_migration, runner_factory):
    plant_lease(mongo_url, "pid 4242 on crashed-host", expires_in=-60)
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url, lock_timeout=2) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]


async def test_a_lease_left_by_a_dead_process_of_this_host_is_taken_over_at_once(mongo_url, write_migration,
                                                                                runner_factory):
    pid = exited_pid()
    plant_lease(mongo_url, f"pid {pid} on {socket.gethostname()}", expires_in=600, host=socket.gethostname(), pid=pid)
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url, lock_timeout=1) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]


async def test_a_lease_of_a_live_process_of_this_host_is_not_taken(mongo_url, write_migration, runner_factory):
    plant_lease(mongo_url, "pid 1 on this host", expires_in=60, host=socket.gethostname(), pid=1)
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url, lock_timeout=0.5) as runner:
        with pytest.raises(LockTimeout, match="held by pid 1 on this host"):
            await runner.run_migrations()


async def test_a_lease_lasts_at_most_ten_seconds_unless_renewed(mongo_url, write_migration, runner_factory):
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url) as runner:
        async with runner.db.lock():
            (lease,) = lease_documents(mongo_url)
    assert lease["expires_at"] - lease["acquired_at"] <= timedelta(seconds=10)


async def test_a_live_lease_is_not_taken_and_the_timeout_names_its_holder(mongo_url, write_migration, runner_factory):
    plant_lease(mongo_url, "pid 4242 on busy-host", expires_in=60)
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url, lock_timeout=0.5) as runner:
        with pytest.raises(LockTimeout, match=r"held by pid 4242 on busy-host since .* \(lease until .*\); gave up after 0.5 s"):
            await runner.run_migrations()
        assert await runner.db.read_history() == []


async def test_the_lease_is_renewed_while_the_run_lasts(mongo_url, write_migration, runner_factory):
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url) as holder, runner_factory(mongo_url, lock_timeout=1.5) as waiter:
        holder.db.lease_seconds = 0.6
        async with holder.db.lock():
            (first,) = lease_documents(mongo_url)
            with pytest.raises(LockTimeout, match=f"held by pid {os.getpid()} on "):
                await waiter.run_migrations()
            (later,) = lease_documents(mongo_url)
        assert later["token"] == first["token"] and later["expires_at"] > first["expires_at"]


async def test_the_lease_is_released_at_the_end_of_a_run(mongo_url, write_migration, runner_factory):
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url) as runner:
        await runner.run_migrations()
        assert lease_documents(mongo_url) == [] and await runner.db.lock_holder() is None


async def test_a_runner_that_lost_its_lease_stops_before_the_next_migration(mongo_url, write_migration,
                                                                           runner_factory):
    write_migration("001_create", CREATE)
    async with runner_factory(mongo_url) as runner:
        runner.db.lease_seconds = 0.3
        migration = runner.load().order[0]
        async with runner.db.lock():
            with MongoClient(mongo_url) as client:  # as a runner taking over a lease it saw expire
                client.get_default_database().ncm_lock.update_one({}, {"$set": {"token": "taken-over"}})
            await asyncio.sleep(0.5)  # the next renewal finds the lease gone
            with pytest.raises(LockTimeout, match="another runner took it over; stopped before 001_create"):
                await runner.db.apply(migration, "up", HistoryRecord("001_create", "", "schema", ""))
        assert await runner.db.read_history() == []


def test_status_shows_the_lock_holder(mongo_url, migrations_dir, tmp_path):
    plant_lease(mongo_url, "pid 4242 on busy-host", expires_in=60)
    env = {**os.environ, "MIGRATION_DATABASE_URL": mongo_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir),
           "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "ncm_core", "status"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "lock: held by pid 4242 on busy-host since" in done.stdout
