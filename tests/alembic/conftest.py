"""Fresh databases on SQLite, PostgreSQL and MariaDB, each made for one test and dropped after,
and the ``ncm`` command run in a project directory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.testing import require_url

SERVERS = {"postgresql": ("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg", '"{}"', " WITH (FORCE)"),
           "mysql": ("NCM_TEST_MYSQL_URL", "mysql+aiomysql", "`{}`", "")}


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def new_database(backend: str, tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """``await new_database()``: the URL of a new, empty database on the test's backend."""
    if backend == "sqlite":
        async def sqlite_file() -> str:
            return f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex[:8]}.db"

        yield sqlite_file
        return
    env_var, driver, quote, force = SERVERS[backend]
    server = sa.make_url(require_url(env_var)).set(drivername=driver)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    async def create() -> str:
        name = f"ncm_alembic_{uuid.uuid4().hex[:10]}"
        async with admin.connect() as conn:
            await conn.execute(sa.text(f"CREATE DATABASE {quote.format(name)}"))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield create
    finally:
        async with admin.connect() as conn:
            for name in made:
                await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote.format(name)}{force}"))
        await admin.dispose()


@pytest.fixture
async def database_url(new_database: Callable[[], Awaitable[str]]) -> str:
    return await new_database()


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, where the models modules live (as in a user's project)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def ncm(project_dir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``ncm(url, "run", ...)``: the real command in the project directory."""
    def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
        environ.update({"MIGRATION_DATABASE_URL": database_url, "COLUMNS": "200", **env})
        return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=environ, cwd=project_dir,
                              capture_output=True, text=True, timeout=300)

    return run
