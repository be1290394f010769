"""Fixtures for the MongoDB tests: a fresh database per test on the real servers.

``NCM_TEST_MONGO_URL`` is the one-node replica set (transactions), and
``NCM_TEST_MONGO_STANDALONE_URL`` a mongod started without ``--replSet``; both are started
by scripts/mongodb-server.sh (``--standalone`` for the second).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import MongoClient

from ncm_core.testing import require_url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(server_url: str) -> Iterator[str]:
    """A database of its own, dropped after the test, once every session is killed: a killed
    run's transaction stays open on the server until its lifetime limit (a minute) and the
    drop would wait for it (the tests run one at a time, so no other test's session is cut)."""
    name = f"ncm_test_{uuid.uuid4().hex[:12]}"
    yield with_database(server_url, name)
    with MongoClient(server_url, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("killAllSessions", [])
        client.drop_database(name)


@pytest.fixture
def mongo_url() -> Iterator[str]:
    """An empty database on the replica set, dropped after the test."""
    yield from fresh_database(require_url("NCM_TEST_MONGO_URL"))


@pytest.fixture
def standalone_url() -> Iterator[str]:
    """An empty database on the standalone server (no transactions), dropped after the test."""
    yield from fresh_database(require_url("NCM_TEST_MONGO_STANDALONE_URL"))


@pytest.fixture
def unreachable_url() -> str:
    return "mongodb://ncm:s3cr3t-pw@127.0.0.1:1/ncm_test?directConnection=true"
