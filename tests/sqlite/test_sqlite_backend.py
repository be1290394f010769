"""What SQLite adds to the contract: batch mode, non-transactional steps, templates, locks."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from ncm_core.history import APPLIED
from ncm_core.testing import modules_imported_by_a_run
from sqlite_schema import table_names as tables

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart"


async def test_batch_mode_alters_what_sqlite_cannot(url, write_migration, runner_factory):
    write_migration("001_users", '''
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(10)))
            with op.batch_alter_table("users") as batch:
                batch.alter_column("name", type_=sa.String(200), nullable=False)
                batch.create_unique_constraint("uq_users_name", ["name"])

        def downgrade():
            op.drop_table("users")
    ''')
    async with runner_factory(url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
    with sqlite3.connect(url.split("///", 1)[1]) as db:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
    assert "VARCHAR(200) NOT NULL" in sql and "uq_users_name" in sql


async def test_non_transactional_migration_runs_outside_a_transaction(url, write_migration, runner_factory):
    write_migration("001_users", '''
        from alembic import op

        def upgrade():
            op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")

        def downgrade():
            op.execute("DROP TABLE users")
    ''')
    write_migration("002_vacuum", '''
        """VACUUM refuses to run inside a transaction."""
        from alembic import op

        transactional = False

        def upgrade():
            op.execute("VACUUM")
    ''')
    async with runner_factory(url) as runner:
        results = await runner.run_migrations()
        assert [r["status"] for r in results] == [APPLIED, APPLIED]
        assert {r.version for r in await runner.db.read_history()} == {"001_users", "002_vacuum"}


async def test_every_template_loads_and_the_schema_index_seed_ones_apply(url, runner_factory):
    async with runner_factory(url) as runner:
        for kind in ("schema", "index", "seed"):
            await runner.create_migration(f"A {kind} migration", kind)
        assert {r["status"] for r in await runner.run_migrations()} == {APPLIED}


async def test_data_template_transforms_validates_and_reverts(url, runner_factory, migrations_dir):
    async with runner_factory(url) as runner:
        (migrations_dir / "001_users.py").write_text(
            "from alembic import op\n\ndef upgrade():\n"
            "    op.execute('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)')\n"
            "    op.execute(\"INSERT INTO users VALUES (1, 'A@X'), (2, NULL), (3, 'c@x')\")\n")
        version = await runner.create_migration("Fill missing emails", "data")
        path = migrations_dir / f"{version}.py"
        source = path.read_text()
        for old, new in (
                ('UPDATE = "UPDATE users SET email = LOWER(email) WHERE id BETWEEN :lo AND :hi AND email <> LOWER(email)"',
                 "UPDATE = \"UPDATE users SET email = 'user' || id || '@x' WHERE id BETWEEN :lo AND :hi AND email IS NULL\""),
                ("RESTORE = None", "RESTORE = \"UPDATE users SET email = NULL WHERE id BETWEEN :lo AND :hi "
                                   "AND email = 'user' || id || '@x'\""),
                ('NOT_MIGRATED = "SELECT COUNT(*) FROM users WHERE email <> LOWER(email)"',
                 'NOT_MIGRATED = "SELECT COUNT(*) FROM users WHERE email IS NULL"'),
                ("BATCH_SIZE = 10_000", "BATCH_SIZE = 2")):
            assert old in source, f"the data template no longer has {old!r}"
            source = source.replace(old, new)
        path.write_text(source)
        assert {r["status"] for r in await runner.run_migrations()} == {APPLIED}
        async with runner.db.engine.connect() as conn:
            from sqlalchemy import text

            assert (await conn.execute(text("SELECT email FROM users WHERE id = 2"))).scalar() == "user2@x"
        await runner.rollback_migration(version=version)
        async with runner.db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT email FROM users WHERE id = 2"))).scalar() is None


async def test_dry_run_rehearses_batch_mode_and_leaves_nothing(url, write_migration, runner_factory):
    for path in sorted((QUICKSTART / "migrations").glob("*.py")):
        write_migration(path.stem, path.read_text())
    async with runner_factory(url) as runner:
        results = await runner.run_migrations(dry_run=True)
        statements = [s for r in results for s in r["statements"]]
        assert any("_alembic_tmp_users" in s for s in statements)
        assert not any(s.startswith("-- dry run stopped") for s in statements)
        assert await runner.db.read_history() == []
    assert tables(url) == set()


def test_eight_runner_processes_apply_each_migration_once(tmp_path, url):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for i in range(1, 11):
        (migrations / f"{i:03d}_table_{i}.py").write_text(
            f"from alembic import op\n\ndef upgrade():\n    op.execute('CREATE TABLE t{i} (id INTEGER PRIMARY KEY)')\n")
    env = {**os.environ, "MIGRATION_DATABASE_URL": url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations)}
    ncm = str(Path(sys.executable).with_name("ncm"))
    procs = [subprocess.Popen([ncm, "run", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    applied = sorted(r["version"] for out, _ in outputs for r in json.loads(out)["results"])
    assert applied == [f"{i:03d}_table_{i}" for i in range(1, 11)]


def test_quickstart_runs_as_shipped(tmp_path):
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project, ignore=shutil.ignore_patterns("*.db*"))
    ncm = str(Path(sys.executable).with_name("ncm"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    subprocess.run([ncm, "run"], cwd=project, env=env, check=True, capture_output=True, timeout=120)
    status = json.loads(subprocess.run([ncm, "status", "--json"], cwd=project, env=env, check=True,
                                       capture_output=True, text=True, timeout=120).stdout)
    assert status["current"] == "005_normalise_emails" and status["pending"] == 0
    with sqlite3.connect(project / "quickstart.db") as db:
        assert db.execute("SELECT email FROM users ORDER BY id").fetchall() == [("ada@example.org",), ("grace@example.org",)]
        assert db.execute("SELECT COUNT(*) FROM roles").fetchone() == (2,)


def test_a_run_imports_no_other_backend(tmp_path):
    """Installed backends for other databases (and their drivers) stay unimported."""
    modules = modules_imported_by_a_run(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path)
    assert sorted(m for m in modules if m.split(".")[0] in ("pymongo", "asyncpg", "aiomysql")
                  or m in ("ncm_mongo.backend", "ncm_postgres.backend", "ncm_mysql.backend")) == []
