"""Backup and restore on MySQL/MariaDB with mariadb-dump and the client, through the runner and ncm."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from ncm_core.errors import BackupError

SCHEMA = '''
"""A schema with every kind of object a restore must bring back."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE authors (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, "
               "born DATE, CONSTRAINT ck_born CHECK (born > '1000-01-01')) CHARSET utf8mb4")
    op.execute("CREATE TABLE books (id BIGINT AUTO_INCREMENT PRIMARY KEY, author_id INT, "
               "title VARCHAR(200) NOT NULL, cover LONGBLOB, price DECIMAL(10, 2), notes LONGTEXT, "
               "CONSTRAINT fk_books_author FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE) "
               "CHARSET utf8mb4")
    op.execute("CREATE INDEX ix_books_title ON books (title)")
    op.execute("CREATE UNIQUE INDEX ux_books_author_title ON books (author_id, title)")
    op.execute("CREATE VIEW v_catalog AS SELECT a.name, b.title FROM books b JOIN authors a ON a.id = b.author_id")
    op.execute("CREATE FUNCTION shout(t VARCHAR(100)) RETURNS VARCHAR(100) DETERMINISTIC RETURN UPPER(t)")
    op.execute("CREATE TABLE changes (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(300))")
    op.execute("CREATE TRIGGER tr_books_insert AFTER INSERT ON books FOR EACH ROW "
               "INSERT INTO changes (what) VALUES (CONCAT('book ', NEW.title))")
'''

EXTRA = '''
"""One more table."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE extra (id INT PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE extra")
'''


async def snapshot(url: str) -> dict:
    """Everything a restore must bring back: each table's and view's definition (columns,
    constraints, indexes, AUTO_INCREMENT counter), routines, triggers, and every row."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            database = url.rsplit("/", 1)[-1]
            objects = (await conn.execute(sa.text(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db "
                "ORDER BY 1"), {"db": database})).all()
            found: dict = {"definitions": {}, "rows": {}}
            for name, kind in objects:
                what = "VIEW" if kind == "VIEW" else "TABLE"
                found["definitions"][name] = (await conn.execute(sa.text(f"SHOW CREATE {what} `{name}`"))).first()[1]
                if kind != "VIEW":
                    found["rows"][name] = (await conn.execute(sa.text(f"SELECT * FROM `{name}` ORDER BY 1"))).all()
            found["routines"] = (await conn.execute(sa.text(
                "SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                "WHERE ROUTINE_SCHEMA = :db ORDER BY 1, 2"), {"db": database})).all()
            found["triggers"] = (await conn.execute(sa.text(
                "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :db "
                "ORDER BY 1"), {"db": database})).all()
            return found
    finally:
        await engine.dispose()


async def execute(url: str, *statements: str, **params: object) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement), params)
    finally:
        await engine.dispose()


async def fill(url: str) -> None:
    await execute(
        url,
        "INSERT INTO authors (name, born) VALUES ('Zoë Ölçer', '1970-05-01'), ('李白', NULL), "
        "('🙂 Emoji O''Brien', '1999-12-31')",
        "INSERT INTO books (author_id, title, cover, price, notes) VALUES "
        "(1, 'Ünïcödé', UNHEX(:small), 12.5, NULL), (2, '静夜思', NULL, NULL, 'NULL is not ''NULL'''), "
        "(3, 'Large', UNHEX(:large), 99, :text)",  # as hex: this aiomysql cannot send bytes parameters
        small=(bytes(range(256)) * 4).hex(), large=os.urandom(3 * 1024 * 1024).hex(), text="x" * (1024 * 1024),
    )


async def change_everything(url: str) -> None:
    await execute(
        url,
        "DELETE FROM authors WHERE name = '李白'",
        "UPDATE books SET cover = x'00', notes = 'changed'",
        "INSERT INTO books (author_id, title) VALUES (1, 'new')",
        "ALTER TABLE authors AUTO_INCREMENT = 5000",
        "DROP VIEW v_catalog",
        "DROP INDEX ix_books_title ON books",
        "ALTER TABLE authors DROP CONSTRAINT ck_born",
        "DROP FUNCTION shout",
        "DROP TRIGGER tr_books_insert",
        "CREATE TABLE made_later (id INT)",
        "CREATE VIEW v_later AS SELECT 1 AS one",
        "CREATE PROCEDURE p_later() SELECT 1",
    )


@pytest.fixture
def runner_at(runner_factory, database_url, tmp_path):
    """``runner_at(**config)``: a runner on the test database that keeps backups in tmp_path/backups."""
    def make(**config):
        config.setdefault("backup_directory", tmp_path / "backups")
        return runner_factory(database_url, **config)

    return make


@pytest.fixture
async def filled(database_url, write_migration, runner_at) -> str:
    """The test database with SCHEMA applied and rows in it."""
    write_migration("001_schema", SCHEMA)
    async with runner_at() as runner:
        await runner.run_migrations()
    await fill(database_url)
    return database_url


def without_dump_tools(tmp_path: Path) -> str:
    """A PATH with the MySQL/MariaDB clients but neither mariadb-dump nor mysqldump."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("mariadb", "mysql"):
        if shutil.which(name):
            (bin_dir / name).symlink_to(shutil.which(name))
    return str(bin_dir)


MISSING = "mariadb-dump / mysqldump not found on PATH: install mariadb-client (Debian/Ubuntu; or MySQL's mysql-client)"


async def test_restore_brings_back_schema_rows_auto_increment_and_history(filled, write_migration, runner_at):
    write_migration("002_extra", EXTRA)
    async with runner_at() as runner:
        before, status = await snapshot(filled), await runner.get_status()
        made = await runner.backup_database()
        await runner.run_migrations()
        await change_everything(filled)
        assert await snapshot(filled) != before

        await runner.restore_database(made["location"])
        assert await snapshot(filled) == before
        assert await runner.get_status() == status


async def test_restore_drops_objects_created_after_the_backup(filled, runner_at):
    async with runner_at() as runner:
        made = await runner.backup_database()
        await execute(filled, "CREATE TABLE made_later (id INT)", "CREATE VIEW v_later AS SELECT 1 AS one",
                      "CREATE PROCEDURE p_later() SELECT 1")
        await runner.restore_database(made["location"])
    after = await snapshot(filled)
    assert not {"made_later", "v_later"} & set(after["definitions"])
    assert [r.ROUTINE_NAME for r in after["routines"]] == ["shout"]


async def test_manifest_names_the_format_and_the_tool(filled, runner_at):
    async with runner_at() as runner:
        made = await runner.backup_database()
    assert made["details"]["format"] == "mariadb-dump SQL"
    assert made["details"]["tool"].split()[0] in ("mariadb-dump", "mysqldump")


async def test_encrypted_backup_restores_and_is_unreadable_without_the_key(filled, runner_at):
    async with runner_at(encryption_key="correct horse battery staple") as runner:
        before = await snapshot(filled)
        made = await runner.backup_database()
        archive = Path(made["location"]).read_bytes()
        assert b"CREATE TABLE" not in archive and b"authors" not in archive
        await change_everything(filled)
        await runner.restore_database(made["location"])
    assert await snapshot(filled) == before


async def test_wrong_key_fails_and_leaves_the_database_as_it_was(filled, runner_at):
    async with runner_at(encryption_key="correct horse battery staple") as runner:
        made = await runner.backup_database()
    await change_everything(filled)
    changed = await snapshot(filled)
    async with runner_at(encryption_key="wrong horse") as runner:
        with pytest.raises(BackupError, match="encryption key is wrong"):
            await runner.restore_database(made["location"])
    assert await snapshot(filled) == changed


async def test_missing_dump_tool_is_one_line_naming_the_package(filled, runner_at, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", without_dump_tools(tmp_path))
    async with runner_at() as runner:
        with pytest.raises(BackupError) as info:
            await runner.backup_database()
    assert str(info.value) == MISSING


async def test_tool_errors_are_one_line_without_the_password(filled, admin, runner_factory, tmp_path):
    """A user who may read the tables but not the events: the dump fails, with the tool's own words."""
    user = f"ncm_u_{uuid.uuid4().hex[:8]}"
    database = filled.rsplit("/", 1)[-1]
    async with admin.connect() as conn:
        await conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 's3cr3t-pw'"))
        await conn.execute(sa.text(f"GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON `{database}`.* TO '{user}'@'%'"))
    try:
        url = sa.make_url(filled).set(username=user, password="s3cr3t-pw").render_as_string(hide_password=False)
        async with runner_factory(url, backup_directory=tmp_path / "backups") as runner:
            with pytest.raises(BackupError) as info:
                await runner.backup_database()
        message = str(info.value)
        assert message.startswith(("mariadb-dump failed: ", "mysqldump failed: ")) and "Access denied" in message
        assert "\n" not in message and "s3cr3t-pw" not in message
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))


# -- the ncm command -------------------------------------------------------------------
def test_cli_backup_and_restore_bring_back_the_status_at_backup_time(filled, ncm, migrations_dir, tmp_path):
    env = {"MIGRATION_BACKUP_DIRECTORY": str(tmp_path / "cli-backups")}
    status = json.loads(ncm(filled, "status", "--json", **env).stdout)
    done = ncm(filled, "backup", "nightly.ncmbak", **env)
    assert done.returncode == 0, done.stderr
    (migrations_dir / "002_extra.py").write_text(EXTRA)
    assert ncm(filled, "run", **env).returncode == 0

    done = ncm(filled, "restore", "nightly.ncmbak", **env)
    assert done.returncode == 0, done.stderr
    now = json.loads(ncm(filled, "status", "--json", **env).stdout)
    assert [(m["version"], m["state"]) for m in now["migrations"]] == [("001_schema", "applied"),
                                                                        ("002_extra", "pending")]
    assert now["current"] == status["current"]


def test_cli_missing_tool_is_one_line_and_exit_code_6(filled, ncm, tmp_path):
    done = ncm(filled, "backup", PATH=without_dump_tools(tmp_path),
               MIGRATION_BACKUP_DIRECTORY=str(tmp_path / "cli-backups"))
    assert (done.returncode, done.stderr) == (6, f"error: {MISSING}\n")
