"""Fresh databases on the PostgreSQL and MariaDB test servers: one per test, dropped after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
