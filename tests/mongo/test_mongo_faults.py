"""Killed, signalled and interrupted runs on MongoDB (tests/faults.py)."""

import pytest
from pymongo import MongoClient

from faults import MONGO_ASYNC, InterruptedRuns


class TestMongoInterruptedRuns(InterruptedRuns):
    async_source = MONGO_ASYNC
    atomic = True

    @pytest.fixture
    def url(self, mongo_url):
        return mongo_url

    def names(self, url):
        with MongoClient(url) as client:
            return set(client.get_default_database().list_collection_names())

    def drop(self, url, name):
        with MongoClient(url) as client:
            client.get_default_database().drop_collection(name)


def test_unlock_deletes_the_lease_of_a_runner_that_died_elsewhere(mongo_url, migrations_dir):
    from datetime import datetime, timedelta, timezone

    from faults import ncm

    now = datetime.now(timezone.utc)
    with MongoClient(mongo_url) as client:
        client.get_default_database().ncm_lock.insert_one({
            "_id": "migration", "owner": "pid 4242 on crashed-pod", "host": "crashed-pod", "pid": 4242,
            "token": "theirs", "acquired_at": now, "expires_at": now + timedelta(seconds=600)})
    assert "lock: held by pid 4242 on crashed-pod" in ncm(mongo_url, migrations_dir, "status").stdout
    done = ncm(mongo_url, migrations_dir, "unlock", "--yes")
    assert done.returncode == 0 and done.stdout.startswith("broke the migration lock held by pid 4242"), done
    with MongoClient(mongo_url) as client:
        assert client.get_default_database().ncm_lock.count_documents({}) == 0
