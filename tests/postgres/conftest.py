"""A fresh, empty PostgreSQL database per test, made on the server NCM_TEST_POSTGRES_URL names."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ncm_core.testing import require_url


def with_driver(url: str) -> sa.URL:
    return sa.make_url(url).set(drivername="postgresql+asyncpg")


@pytest.fixture
def server_url() -> sa.URL:
    return with_driver(require_url("NCM_TEST_POSTGRES_URL"))


@pytest.fixture
async def admin(server_url: sa.URL) -> AsyncIterator[AsyncEngine]:
    """An autocommit engine on the server's own database, for CREATE/DROP DATABASE and roles."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    yield engine
    await engine.dispose()


@pytest.fixture
async def database_url(server_url: sa.URL, admin: AsyncEngine) -> AsyncIterator[str]:
    name = f"ncm_t_{uuid.uuid4().hex[:12]}"
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server_url.set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def unreachable_url(server_url: sa.URL) -> str:
    """The test server's host with a password, on a port nothing listens on."""
    return f"postgresql+asyncpg://ncm:s3cr3t-pw@{server_url.host or '127.0.0.1'}:1/test"


@pytest.fixture
def ncm(migrations_dir):
    """Run the real ``ncm`` command in a child process; returns the CompletedProcess."""
    def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {**os.environ, "MIGRATION_DATABASE_URL": database_url,
                   "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir), **env}
        return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environ, cwd=migrations_dir.parent,
                              capture_output=True, text=True, timeout=120)

    return run
