"""Fresh databases on the PostgreSQL and MariaDB test servers: one per test, dropped after."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ncm_core.testing import require_url


@dataclass(frozen=True)
class Server:
    env_var: str
    driver: str
    quote: str
    drop_suffix: str = ""

    def url(self) -> sa.URL:
        """The server's URL from its variable (skipped outside CI when unset, failing in CI)."""
        return sa.make_url(require_url(self.env_var)).set(drivername=self.driver)

    def admin(self) -> AsyncEngine:
        """An autocommit engine on the server, for CREATE/DROP DATABASE and roles."""
        return create_async_engine(self.url(), isolation_level="AUTOCOMMIT")

    async def create(self, admin: AsyncEngine, prefix: str = "ncm_t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        async with admin.connect() as conn:
            await conn.execute(sa.text(f"CREATE DATABASE {self.quote.format(name)}"))
        return self.url().set(database=name).render_as_string(hide_password=False)

    async def drop(self, admin: AsyncEngine, url: str) -> None:
        name = sa.make_url(url).database
        async with admin.connect() as conn:
            await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.quote.format(name)}{self.drop_suffix}"))

    def unreachable_url(self) -> str:
        """The server's host with a password, on a port nothing listens on."""
        return f"{self.driver}://ncm:s3cr3t-pw@{self.url().host or '127.0.0.1'}:1/test"


SERVERS = {
    "postgresql": Server("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg", '"{}"', " WITH (FORCE)"),
    "mysql": Server("NCM_TEST_MYSQL_URL", "mysql+aiomysql", "`{}`"),
}


def server_fixtures(kind: str) -> SimpleNamespace:
    """The fixtures a server's test directory needs, for its conftest.py to bind:
    ``server_url``, ``admin``, ``database_url`` (fresh per test), ``unreachable_url``, ``ncm``."""
    server = SERVERS[kind]

    @pytest.fixture
    def server_url() -> sa.URL:
        return server.url()

    @pytest.fixture
    async def admin(server_url: sa.URL) -> AsyncIterator[AsyncEngine]:
        engine = server.admin()
        yield engine
        await engine.dispose()

    @pytest.fixture
    async def database_url(admin: AsyncEngine) -> AsyncIterator[str]:
        url = await server.create(admin)
        yield url
        await server.drop(admin, url)

    @pytest.fixture
    def unreachable_url(server_url: sa.URL) -> str:
        return server.unreachable_url()

    @pytest.fixture
    def ncm(migrations_dir):
        """Run the real ``ncm`` command in a child process; returns the CompletedProcess."""
        def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
            environ = {**os.environ, "MIGRATION_DATABASE_URL": database_url,
                       "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir), **env}
            return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environ,
                                  cwd=migrations_dir.parent, capture_output=True, text=True, timeout=120)

        return run

    return SimpleNamespace(server_url=server_url, admin=admin, database_url=database_url,
                           unreachable_url=unreachable_url, ncm=ncm)
