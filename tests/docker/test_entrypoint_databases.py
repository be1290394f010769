"""migration-entrypoint.sh run on the host with the real ncm, against the real PostgreSQL and
MongoDB: the image's behaviour without a Docker engine."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from servers import SERVERS

from ncm_core.testing import require_url

ENTRYPOINT = Path(__file__).parents[2] / "docker" / "migration-entrypoint.sh"
NCM = str(Path(sys.executable).with_name("ncm"))
PG = SERVERS["postgresql"]

TABLE = '''"""Create {name}."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("{name}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{name}")
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LateProxy(threading.Thread):
    """Forwards a port to PostgreSQL, but only starts listening ``delay`` seconds in."""

    def __init__(self, port: int, target: tuple[str, int], delay: float) -> None:
        super().__init__(daemon=True)
        self.port, self.target, self.delay = port, target, delay
        self.loop = asyncio.new_event_loop()

    def run(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        await asyncio.sleep(self.delay)
        server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        async with server:
            await server.serve_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer), return_exceptions=True)


@pytest.fixture
async def pg_database():
    admin = PG.admin()
    url = await PG.create(admin, prefix="ncm_entry")
    yield url
    await PG.drop(admin, url)
    await admin.dispose()


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    for i, name in enumerate(("users", "orders", "items"), start=1):
        (directory / f"00{i}_add_{name}_table.py").write_text(TABLE.format(name=name))
    return directory


def entrypoint(migrations: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    environ.update({"NCM_BIN": NCM, "MIGRATION_MIGRATION_DIRECTORY": str(migrations),
                    "MIGRATION_WAIT_INTERVAL": "1", **env})
    return subprocess.run(["bash", str(ENTRYPOINT), *args], capture_output=True, text=True, env=environ,
                          cwd=migrations.parent, timeout=180)


def plain_url(url: str) -> str:
    """As Docker users pass it: postgresql://, no driver."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def status(migrations: Path, url: str) -> dict[str, str]:
    done = entrypoint(migrations, "status", "--json", DATABASE_URL=url)
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


def test_waits_for_a_database_that_comes_up_late_then_migrates(pg_database, migrations):
    port = free_port()
    LateProxy(port, ("127.0.0.1", PG.url().port or 5432), delay=4).start()
    late_url = plain_url(pg_database).replace(f":{PG.url().port or 5432}/", f":{port}/", 1)
    started = time.monotonic()
    done = entrypoint(migrations, DATABASE_URL=late_url, MIGRATION_WAIT_TIMEOUT="40")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 4
    assert set(status(migrations, plain_url(pg_database)).values()) == {"applied"}


def test_gives_up_within_the_timeout_on_a_database_that_never_comes(migrations):
    url = f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{free_port()}/nothing"
    started = time.monotonic()
    done = entrypoint(migrations, DATABASE_URL=url, MIGRATION_WAIT_TIMEOUT="3")
    assert done.returncode == 4
    assert time.monotonic() - started < 20
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_target_version_variable_stops_the_run_there(pg_database, migrations):
    done = entrypoint(migrations, DATABASE_URL=plain_url(pg_database), TARGET_VERSION="002_add_orders_table")
    assert done.returncode == 0, done.stderr
    assert status(migrations, plain_url(pg_database)) == {
        "001_add_users_table": "applied", "002_add_orders_table": "applied", "003_add_items_table": "pending"}


def test_rollback_version_is_passed_to_ncm(pg_database, migrations):
    url = plain_url(pg_database)
    assert entrypoint(migrations, "run", DATABASE_URL=url).returncode == 0
    done = entrypoint(migrations, "rollback", "--version", "003_add_items_table", DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert status(migrations, url)["003_add_items_table"] == "pending"


def test_a_failing_migration_exit_code_is_ncms(pg_database, migrations):
    (migrations / "004_breaks.py").write_text('from alembic import op\n\ndef upgrade():\n    op.execute("SELECT 1/0")\n')
    done = entrypoint(migrations, DATABASE_URL=plain_url(pg_database))
    assert done.returncode == 1 and "004_breaks" in done.stderr


def test_migrates_mongodb_too(tmp_path):
    url = require_url("NCM_TEST_MONGO_URL")
    database = f"ncm_entry_{os.getpid()}_{int(time.time())}"
    url = url.replace("/ncm_test", f"/{database}", 1)
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_add_users_collection.py").write_text(
        '"""Users."""\ntransactional = False\n\n\nasync def upgrade(ctx):\n    await ctx.db.create_collection("users")\n\n\n'
        'async def downgrade(ctx):\n    await ctx.db.drop_collection("users")\n')
    try:
        done = entrypoint(directory, DATABASE_URL=url, MIGRATION_WAIT_TIMEOUT="20")
        assert done.returncode == 0, done.stderr
        assert status(directory, url) == {"001_add_users_collection": "applied"}
    finally:
        from pymongo import MongoClient

        with MongoClient(url) as client:
            client.drop_database(database)
