"""Backup and restore on SQLite: the online backup API, through the runner and the ncm command."""

import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ncm_core.errors import BackupError

NCM = str(Path(sys.executable).with_name("ncm"))

SCHEMA = '''
"""A schema with every kind of object SQLite keeps."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, "
               "born TEXT CHECK (born > '1000-01-01'))")
    op.execute("CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "author_id INTEGER REFERENCES authors(id) ON DELETE CASCADE, title TEXT NOT NULL, "
               "cover BLOB, price NUMERIC, notes TEXT)")
    op.execute("CREATE INDEX ix_books_title ON books (title)")
    op.execute("CREATE UNIQUE INDEX ux_books_author_title ON books (author_id, title) WHERE price IS NOT NULL")
    op.execute("CREATE VIEW v_catalog AS SELECT a.name, b.title FROM books b JOIN authors a ON a.id = b.author_id")
    op.execute("CREATE TABLE changes (id INTEGER PRIMARY KEY, what TEXT)")
    op.execute("CREATE TRIGGER tr_books_insert AFTER INSERT ON books "
               "BEGIN INSERT INTO changes (what) VALUES ('book ' || NEW.title); END")
'''

EXTRA = '''
"""One more table."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE extra")
'''


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture
def url(db) -> str:
    return f"sqlite+aiosqlite:///{db}"


@pytest.fixture
def backups(tmp_path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def runner_at(runner_factory, url, backups):
    """``runner_at(**config)``: a runner on the test database that keeps backups in ``backups``."""
    def make(**config):
        config.setdefault("backup_directory", backups)
        return runner_factory(url, **config)

    return make


def fill(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO authors (name, born) VALUES (?, ?)",
                        [("Zoë Ölçer", "1970-05-01"), ("李白", None), ("🙂 Emoji O'Brien", "1999-12-31")])
        con.executemany("INSERT INTO books (author_id, title, cover, price, notes) VALUES (?, ?, ?, ?, ?)", [
            (1, "Ünïcödé", bytes(range(256)) * 4, 12.5, None),
            (2, "静夜思", None, None, "NULL is not 'NULL'"),
            (3, "Large", os.urandom(3 * 1024 * 1024), 99, "x" * (1024 * 1024)),
        ])
        con.execute("PRAGMA user_version = 42")


def snapshot(db: Path) -> dict:
    """Everything a restore must bring back: schema, every row of every table, user_version."""
    with sqlite3.connect(db) as con:
        schema = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        rows = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
        return {"schema": schema, "rows": rows, "user_version": con.execute("PRAGMA user_version").fetchone()}


def change_everything(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("DELETE FROM authors WHERE name = '李白'")
        con.execute("UPDATE books SET cover = x'00', notes = 'changed'")
        con.execute("INSERT INTO books (author_id, title) VALUES (1, 'new')")
        con.execute("DROP VIEW v_catalog")
        con.execute("DROP INDEX ix_books_title")
        con.execute("PRAGMA user_version = 7")


async def test_restore_brings_back_schema_rows_sequences_and_history(db, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    write_migration("002_extra", EXTRA)
    async with runner_at() as runner:
        await runner.run_migrations(target_version="001_schema")
        fill(db)
        before, status = snapshot(db), await runner.get_status()
        made = await runner.backup_database()
        await runner.run_migrations()
        change_everything(db)
        assert snapshot(db) != before

        await runner.restore_database(made["location"])
        assert snapshot(db) == before
        assert await runner.get_status() == status


async def test_backup_runs_while_another_connection_is_reading(db, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    async with runner_at(lock_timeout=5) as runner:
        await runner.run_migrations()
        fill(db)
        before = snapshot(db)
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM books").fetchone() == (3,)
        try:
            made = await runner.backup_database()
            assert reader.execute("SELECT count(*) FROM authors").fetchone() == (3,)
        finally:
            reader.execute("COMMIT")
            reader.close()
        change_everything(db)
        await runner.restore_database(made["location"])
    assert snapshot(db) == before


async def test_encrypted_backup_restores_and_is_unreadable_without_the_key(db, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    async with runner_at(encryption_key="correct horse battery staple") as runner:
        await runner.run_migrations()
        fill(db)
        before = snapshot(db)
        made = await runner.backup_database()
        archive = Path(made["location"]).read_bytes()
        assert b"SQLite format 3" not in archive and "Zoë".encode() not in archive
        change_everything(db)
        await runner.restore_database(made["location"])
    assert snapshot(db) == before


async def test_wrong_key_fails_and_leaves_the_database_as_it_was(db, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    async with runner_at(encryption_key="correct horse battery staple") as runner:
        await runner.run_migrations()
        fill(db)
        made = await runner.backup_database()
    change_everything(db)
    changed = snapshot(db)
    async with runner_at(encryption_key="wrong horse") as runner:
        with pytest.raises(BackupError, match="encryption key is wrong"):
            await runner.restore_database(made["location"])
    assert snapshot(db) == changed


async def test_a_flipped_byte_fails_and_leaves_the_database_as_it_was(db, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    async with runner_at() as runner:
        await runner.run_migrations()
        fill(db)
        made = await runner.backup_database()
        with open(made["location"], "r+b") as f:
            f.seek(made["size"] // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
        change_everything(db)
        changed = snapshot(db)
        with pytest.raises(BackupError, match="does not match its manifest"):
            await runner.restore_database(made["location"])
    assert snapshot(db) == changed


async def test_backup_before_migration_saves_the_state_before_the_first_pending_migration(
    db, write_migration, runner_at
):
    write_migration("001_schema", SCHEMA)
    async with runner_at(backup_before_migration=True) as runner:
        await runner.run_migrations()
        fill(db)
        before = snapshot(db)
        write_migration("002_extra", EXTRA)
        await runner.run_migrations()
        taken = runner.last_backup
        assert taken["history_head"] == "001_schema"
        await runner.restore_database(taken["location"])
    assert snapshot(db) == before


async def test_no_backup_when_nothing_is_pending_or_on_a_dry_run(write_migration, runner_at, backups):
    write_migration("001_schema", SCHEMA)
    async with runner_at(backup_before_migration=True) as runner:
        await runner.run_migrations(dry_run=True)
        assert not backups.exists()
        await runner.run_migrations()
        assert len(await runner.list_backups()) == 1
        runner.last_backup = None
        assert await runner.run_migrations() == []
        assert len(await runner.list_backups()) == 1 and runner.last_backup is None


async def test_a_failing_backup_blocks_the_run(tmp_path, write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    not_a_directory = tmp_path / "occupied"
    not_a_directory.write_text("a file where the backup directory should be")
    async with runner_at(backup_before_migration=True, backup_directory=not_a_directory) as runner:
        with pytest.raises(BackupError, match="occupied"):
            await runner.run_migrations()
        assert await runner.db.read_history() == []
        assert (await runner.get_status())["pending"] == 1


async def test_backup_and_restore_are_audited(write_migration, runner_at):
    write_migration("001_schema", SCHEMA)
    async with runner_at(audit_enabled=True) as runner:
        await runner.run_migrations()
        made = await runner.backup_database()
        await runner.restore_database(made["location"])
        actions = [(e.action, e.version, e.outcome) for e in await runner.db.read_audit()]
    assert actions[-1] == ("restore", "001_schema", "ok")
    assert ("backup", "001_schema", "ok") not in actions, "the backup's own entry is written after its dump"
    assert actions[:2] == [("migrate", "001_schema", "ok"), ("run", None, "ok")]


async def test_a_backup_attempt_is_audited_even_when_it_fails(tmp_path, write_migration, runner_at):
    occupied = tmp_path / "occupied"
    occupied.write_text("")
    async with runner_at(audit_enabled=True, backup_directory=occupied) as runner:
        with pytest.raises(BackupError):
            await runner.backup_database()
        (entry,) = await runner.db.read_audit()
    assert (entry.action, entry.outcome) == ("backup", "failed")


async def test_spec_backup_and_restore_example(tmp_path, monkeypatch, write_migration, migrations_dir):
    from ncm_core import MigrationConfig, MigrationRunner

    monkeypatch.chdir(tmp_path)
    write_migration("001_schema", SCHEMA)
    # Automatic backup before migration
    config = MigrationConfig(
        backup_before_migration=True,
        backup_directory="backups",
        migration_directory=migrations_dir,
    )
    runner = MigrationRunner(config)
    await runner.initialize()
    try:
        await runner.run_migrations()
        fill(tmp_path / "ncm.db")
        # Manual backup
        await runner.backup_database("backup_20240101.sql")
        change_everything(tmp_path / "ncm.db")
        # Restore from backup
        await runner.restore_database("backup_20240101.sql")
        assert (await runner.get_status())["current"] == "001_schema"
    finally:
        await runner.close()
    assert {"backup_20240101.sql", "backup_20240101.sql.manifest.json"} <= set(os.listdir(tmp_path / "backups"))


# -- the ncm command -------------------------------------------------------------------
@pytest.fixture
def with_schema(project, ncm):
    (project / "migrations" / "001_schema.py").write_text(SCHEMA)
    ncm("run")
    fill(project / "app.db")
    return project


def test_cli_backup_list_and_restore(with_schema, ncm):
    first = ncm("backup").stdout
    assert first.startswith("backup written to backups/backup_") and "encrypted" not in first
    ncm("backup", "named.bak")
    listed = json.loads(ncm("backup", "list", "--json").stdout)["backups"]
    assert [b["archive"] for b in listed][0] == "named.bak" and len(listed) == 2
    assert all(b["history_head"] == "001_schema" and b["backend"] == "sqlite" for b in listed)
    before = snapshot(with_schema / "app.db")
    change_everything(with_schema / "app.db")
    restored = ncm("restore", listed[1]["location"]).stdout
    assert restored.startswith(f"restored {listed[1]['location']}")
    assert snapshot(with_schema / "app.db") == before


def test_cli_backup_list_table_names_each_backup(with_schema, ncm):
    ncm("backup", "named.bak")
    table = ncm("backup", "list").stdout
    assert "backups/named.bak" in table and "001_schema" in table


def test_cli_restore_in_production_needs_yes(with_schema, ncm):
    ncm("backup", "named.bak")
    change_everything(with_schema / "app.db")
    changed = snapshot(with_schema / "app.db")
    refused = ncm("--environment", "production", "restore", "named.bak", check=2)
    assert refused.stderr == "error: restore replaces the production database's contents; run again with --yes to confirm\n"
    assert snapshot(with_schema / "app.db") == changed
    ncm("--environment", "production", "restore", "named.bak", "--yes")
    assert snapshot(with_schema / "app.db") != changed


def test_cli_run_prints_where_the_backup_went(with_schema, ncm):
    (with_schema / "migrations" / "002_extra.py").write_text(EXTRA)
    done = ncm("run", env={"MIGRATION_BACKUP_BEFORE_MIGRATION": "true"})
    assert "backup written to backups/backup_" in done.stdout and "1 migration(s) applied" in done.stdout


def test_cli_wrong_key_is_one_line_without_the_key(with_schema, ncm):
    ncm("backup", "secret.bak", env={"MIGRATION_ENCRYPTION_KEY": "right-key"})
    done = ncm("restore", "secret.bak", env={"MIGRATION_ENCRYPTION_KEY": "wrong-key"}, check=6)
    assert done.stderr.count("\n") == 1 and "encryption key is wrong" in done.stderr
    assert "wrong-key" not in done.stderr and "right-key" not in done.stderr


def test_cli_restore_in_staging_off_a_terminal_needs_yes(with_schema, ncm):
    ncm("backup", "named.bak")
    change_everything(with_schema / "app.db")
    changed = snapshot(with_schema / "app.db")
    refused = ncm("--environment", "staging", "restore", "named.bak", check=2)
    assert refused.stderr == "error: restore replaces the staging database's contents; run again with --yes to confirm\n"
    assert snapshot(with_schema / "app.db") == changed


def on_terminal(project, args, answer):
    """The real `ncm` with a terminal for stdin and output, answering its question."""
    master, terminal = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    environ["MIGRATION_DATABASE_URL"] = f"sqlite+aiosqlite:///{project}/app.db"
    proc = subprocess.Popen([NCM, *args], stdin=terminal, stdout=terminal, stderr=terminal, cwd=project, env=environ)
    os.close(terminal)
    os.write(master, answer.encode())
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return proc.wait(timeout=60), output.decode(errors="replace")


@pytest.mark.parametrize("environment", ["development", "production"])
def test_cli_restore_on_a_terminal_asks_first_in_every_environment(with_schema, ncm, environment):
    ncm("backup", "named.bak")
    change_everything(with_schema / "app.db")
    changed = snapshot(with_schema / "app.db")
    code, output = on_terminal(with_schema, ["--environment", environment, "restore", "named.bak"], "n\n")
    assert code == 2 and "replacing its contents and history? [y/N]" in output and "restore cancelled" in output
    assert snapshot(with_schema / "app.db") == changed
    code, output = on_terminal(with_schema, ["--environment", environment, "restore", "named.bak"], "y\n")
    assert code == 0 and "restored" in output
    assert snapshot(with_schema / "app.db") != changed
