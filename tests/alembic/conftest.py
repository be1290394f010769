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
from servers import SERVERS


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
    server = SERVERS[backend]
    admin = server.admin()
    made: list[str] = []

    async def create() -> str:
        made.append(await server.create(admin, prefix="ncm_alembic"))
        return made[-1]

    try:
        yield create
    finally:
        for url in made:
            await server.drop(admin, url)
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
