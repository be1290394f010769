"""A fresh, empty PostgreSQL database per test, made on the server NCM_TEST_POSTGRES_URL names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from servers import SERVERS
from sqlalchemy.ext.asyncio import AsyncEngine

SERVER = SERVERS["postgresql"]


@pytest.fixture
def server_url() -> sa.URL:
    return SERVER.url()


@pytest.fixture
async def admin(server_url: sa.URL) -> AsyncIterator[AsyncEngine]:
    engine = SERVER.admin()
    yield engine
    await engine.dispose()


@pytest.fixture
async def database_url(admin: AsyncEngine) -> AsyncIterator[str]:
    url = await SERVER.create(admin)
    yield url
    await SERVER.drop(admin, url)


@pytest.fixture
def unreachable_url(server_url: sa.URL) -> str:
    return SERVER.unreachable_url()


@pytest.fixture
def ncm(migrations_dir):
    """Run the real ``ncm`` command in a child process; returns the CompletedProcess."""
    def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {**os.environ, "MIGRATION_DATABASE_URL": database_url,
                   "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir), **env}
        return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environ, cwd=migrations_dir.parent,
                              capture_output=True, text=True, timeout=120)

    return run
