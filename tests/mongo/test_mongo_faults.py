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
