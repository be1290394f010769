"""SQL-file migrations (dbmate, goose and Flyway layouts) through the real ``ncm`` command on a
SQL database. Shared by the SQLite, PostgreSQL and MariaDB tests: ``ncm(*args)`` runs the
command, ``url`` is the test's own database."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

Ncm = Callable[..., subprocess.CompletedProcess]

DBMATE = """-- migrate:up
CREATE TABLE users (id integer PRIMARY KEY, note varchar(50) DEFAULT 'a:b;c');
INSERT INTO users (id) VALUES (1);

-- migrate:down
DROP TABLE users;
"""

GOOSE = """-- +goose Up
CREATE TABLE posts (id integer PRIMARY KEY, title varchar(50));
-- +goose StatementBegin
{block}
-- +goose StatementEnd

-- +goose Down
DROP TABLE posts;
"""

VIEW = "DROP VIEW IF EXISTS account_names;\nCREATE VIEW account_names AS SELECT {column} FROM app_accounts;\n"


def query(url: str, statement: str) -> list[tuple]:
    async def read() -> list[tuple]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(sa.text(statement))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(read())


def schema(url: str) -> dict[str, object]:
    """Tables with their columns (name, type, nullable, default) and indexes, and the views:
    what two ways of applying one set of statements must agree on."""
    def read(sync: sa.Connection) -> dict[str, object]:
        inspector = sa.inspect(sync)
        tables = {}
        for name in sorted(inspector.get_table_names()):
            if name.startswith("ncm_"):
                continue
            columns = [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                       for c in inspector.get_columns(name)]
            indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                             for i in inspector.get_indexes(name))
            tables[name] = {"columns": columns, "indexes": indexes,
                            "pk": inspector.get_pk_constraint(name)["constrained_columns"]}
        return {"tables": tables, "views": sorted(inspector.get_view_names())}

    async def go() -> dict[str, object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def tables(url: str) -> set[str]:
    return set(schema(url)["tables"])  # type: ignore[arg-type]


def states(ncm: Ncm) -> dict[str, str]:
    done = ncm("status", "--json")
    assert done.returncode == 0, done.stderr
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


def output(done: subprocess.CompletedProcess) -> str:
    """What a run said, its per-migration lines (on stderr) included."""
    return done.stdout + done.stderr


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done


def check_a_dbmate_file_applies_its_up_section(ncm: Ncm, directory: Path, url: str) -> None:
    (directory / "20260101120000_add_users.sql").write_text(DBMATE)
    assert "1 migration(s) applied" in ok(ncm("run")).stdout
    assert query(url, "SELECT id, note FROM users") == [(1, "a:b;c")]
    assert states(ncm) == {"20260101120000_add_users": "applied"}


def check_rollback_runs_the_down_section(ncm: Ncm, directory: Path, url: str) -> None:
    (directory / "20260101120000_add_users.sql").write_text(DBMATE)
    ok(ncm("run"))
    ok(ncm("rollback", "--version", "20260101120000"))
    assert "users" not in tables(url)
    assert states(ncm) == {"20260101120000_add_users": "pending"}


def check_goose_sections_and_a_statement_block_apply(ncm: Ncm, directory: Path, url: str, block: str) -> None:
    (directory / "00001_add_posts.sql").write_text(GOOSE.format(block=block))
    ok(ncm("run"))
    ok(ncm("rollback", "--version", "00001"))
    assert "posts" not in tables(url)


def check_the_ncm_line_sets_the_type_and_the_order(ncm: Ncm, directory: Path) -> None:
    (directory / "001_later.sql").write_text("-- ncm: type=data depends_on=002_first\n-- migrate:up\n"
                                             "INSERT INTO first_table (id) VALUES (7);\n")
    (directory / "002_first.sql").write_text("-- migrate:up\nCREATE TABLE first_table (id integer);\n")
    out = output(ok(ncm("run")))
    assert out.index("002_first") < out.index("001_later")
    listed = json.loads(ok(ncm("status", "--json")).stdout)["migrations"]
    assert {m["version"]: m["type"] for m in listed} == {"002_first": "schema", "001_later": "data"}


def write_flyway(directory: Path) -> None:
    (directory / "V1__create_accounts.sql").write_text("CREATE TABLE ${prefix}accounts (id integer PRIMARY KEY);\n")
    (directory / "V1.1__add_name.sql").write_text("ALTER TABLE ${prefix}accounts ADD name varchar(50);\n"
                                                  "INSERT INTO ${prefix}accounts (id, name) VALUES (1, 'ada');\n")
    (directory / "U1.1__add_name.sql").write_text("ALTER TABLE ${prefix}accounts DROP COLUMN name;\n")
    (directory / "R__account_names.sql").write_text(VIEW.format(column="name"))
    (directory.parent / "ncm.toml").write_text('[placeholders]\nprefix = "app_"\n')


def check_flyway_versions_apply_in_order_with_placeholders_replaced(ncm: Ncm, directory: Path, url: str) -> None:
    write_flyway(directory)
    out = output(ok(ncm("run")))
    assert out.index("applied  1 ") < out.index("applied  1.1 ") < out.index("applied  R__account_names")
    assert query(url, "SELECT name FROM account_names") == [("ada",)]
    assert states(ncm) == {"1": "applied", "1.1": "applied", "R__account_names": "applied"}


def check_a_flyway_undo_script_is_the_rollback(ncm: Ncm, directory: Path, url: str) -> None:
    write_flyway(directory)
    (directory / "R__account_names.sql").unlink()
    ok(ncm("run"))
    ok(ncm("rollback", "--version", "1.1"))
    assert [c for (c,) in query(url, "SELECT * FROM app_accounts")] == [1]
    assert states(ncm) == {"1": "applied", "1.1": "pending"}


def check_a_changed_repeatable_migration_is_applied_again(ncm: Ncm, directory: Path, url: str) -> None:
    write_flyway(directory)
    ok(ncm("run"))
    (directory / "R__account_names.sql").write_text(VIEW.format(column="id AS name"))
    assert states(ncm)["R__account_names"] == "pending"
    assert "applied  R__account_names" in output(ok(ncm("run")))
    assert query(url, "SELECT name FROM account_names") == [(1,)]
    assert ok(ncm("validate")).returncode == 0


def check_an_unchanged_repeatable_migration_is_not_applied_again(ncm: Ncm, directory: Path) -> None:
    write_flyway(directory)
    ok(ncm("run"))
    assert "up to date" in ok(ncm("run")).stdout.lower()


def check_dry_run_shows_the_statements_and_changes_nothing(ncm: Ncm, directory: Path, url: str) -> None:
    (directory / "20260101120000_add_users.sql").write_text(DBMATE)
    out = ok(ncm("run", "--dry-run")).stdout
    assert "CREATE TABLE users (id integer PRIMARY KEY, note varchar(50) DEFAULT 'a:b;c')" in out
    assert "INSERT INTO users (id) VALUES (1)" in out
    assert "users" not in tables(url)


def check_the_sql_script_holds_the_statements_once_each(ncm: Ncm, directory: Path) -> None:
    (directory / "20260101120000_add_users.sql").write_text(DBMATE)
    script = ok(ncm("run", "--sql")).stdout
    assert script.count("CREATE TABLE users (id integer PRIMARY KEY, note varchar(50) DEFAULT 'a:b;c');") == 1
    assert script.count("INSERT INTO users (id) VALUES (1);") == 1


def check_a_failing_statement_is_named_with_its_version(ncm: Ncm, directory: Path, url: str, atomic: bool) -> None:
    (directory / "001_broken.sql").write_text("-- migrate:up\nCREATE TABLE made (id integer);\n"
                                              "INSERT INTO no_such_table VALUES (1);\n")
    done = ncm("run")
    assert done.returncode == 1
    assert "001_broken" in done.stderr and "INSERT INTO no_such_table VALUES (1)" in done.stderr
    assert ("made" in tables(url)) is not atomic
    assert states(ncm) == {"001_broken": "failed"}


def check_an_edited_applied_sql_file_blocks_the_run(ncm: Ncm, directory: Path) -> None:
    path = directory / "20260101120000_add_users.sql"
    path.write_text(DBMATE)
    ok(ncm("run"))
    path.write_text(DBMATE.replace("VALUES (1)", "VALUES (2)"))
    done = ncm("run")
    assert done.returncode == 3
    assert "20260101120000_add_users.sql: changed since it was applied" in done.stderr
