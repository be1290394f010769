"""Adopting a database Flyway or golang-migrate manages (``ncm baseline --from-flyway`` /
``--from-golang-migrate``) through the real ``ncm`` command. Shared by the PostgreSQL,
MariaDB and SQLite tests, which pass the history tables' DDL as each tool writes it there."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sql_files_scenario import Ncm, ok, query, states
from sqlalchemy.ext.asyncio import create_async_engine

FLYWAY_FILES = {
    "V1__create_accounts.sql": "CREATE TABLE accounts (id integer PRIMARY KEY);\n",
    "V1.1__add_name.sql": "ALTER TABLE accounts ADD name varchar(50);\n",
    "V2__create_orders.sql": "CREATE TABLE orders (id integer PRIMARY KEY, account integer);\n",
    "R__account_names.sql": "DROP VIEW IF EXISTS account_names;\n"
                            "CREATE VIEW account_names AS SELECT name FROM accounts;\n",
}
GOLANG_MIGRATE_FILES = {
    "000001_create_users.sql": "-- migrate:up\nCREATE TABLE users (id integer PRIMARY KEY);\n"
                               "-- migrate:down\nDROP TABLE users;\n",
    "000002_create_posts.sql": "-- migrate:up\nCREATE TABLE posts (id integer PRIMARY KEY);\n"
                               "-- migrate:down\nDROP TABLE posts;\n",
    "000003_create_tags.sql": "-- migrate:up\nCREATE TABLE tags (id integer PRIMARY KEY);\n"
                              "-- migrate:down\nDROP TABLE tags;\n",
}


@dataclass(frozen=True)
class Dialect:
    """How each tool creates its history table on one database (see the test modules)."""

    flyway_table: list[str]
    golang_migrate_table: list[str]
    true: str
    false: str


def execute(url: str, *statements: str) -> None:
    async def go() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(go())


def every_table(url: str) -> set[str]:
    """Every table, ncm's own included: a refused baseline must not have made them."""
    async def go() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


Row = tuple[str | None, str, str, str, bool]
"""A ``flyway_schema_history`` row: version, description, type, script, success."""
V1: Row = ("1", "create accounts", "SQL", "V1__create_accounts.sql", True)
V1_1: Row = ("1.1", "add name", "SQL", "V1.1__add_name.sql", True)


def flyway_history(url: str, dialect: Dialect, *rows: Row) -> None:
    """``flyway_schema_history`` holding ``rows`` as Flyway writes them: installed_rank from 1,
    a checksum on a script's row (Flyway's CRC32; ncm does not read it), installed_by,
    installed_on by the column's default, execution_time."""
    inserts = [
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
        f"installed_by, execution_time, success) VALUES ({rank}, {'NULL' if version is None else repr(version)}, "
        f"'{description}', '{kind}', '{script}', {-1000 - rank if script.endswith('.sql') else 'NULL'}, "
        f"'flyway', 12, {dialect.true if success else dialect.false})"
        for rank, (version, description, kind, script, success) in enumerate(rows, 1)
    ]
    execute(url, *dialect.flyway_table, *inserts)


def failed(done, message: str) -> None:
    """A refusal: exit 2 and exactly one line saying ``message``."""
    assert done.returncode == 2, f"{done.stdout}\n{done.stderr}"
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def check_baseline_from_flyway_records_its_successful_versions(ncm: Ncm, directory: Path, url: str,
                                                              dialect: Dialect) -> None:
    write(directory, FLYWAY_FILES)
    execute(url, FLYWAY_FILES["V1__create_accounts.sql"], FLYWAY_FILES["V1.1__add_name.sql"])
    flyway_history(url, dialect, V1, V1_1, (None, "account names", "SQL", "R__account_names.sql", True),
                   ("2", "create orders", "SQL", "V2__create_orders.sql", False))
    recorded = json.loads(ok(ncm("baseline", "--from-flyway", "--json")).stdout)["records"]
    assert [r["version"] for r in recorded] == ["1", "1.1"]
    assert states(ncm) == {"1": "baseline", "1.1": "baseline", "2": "pending", "R__account_names": "pending"}
    ok(ncm("run"))
    assert query(url, "SELECT count(*) FROM account_names") == [(0,)]


def check_a_flyway_baseline_row_counts_every_version_up_to_it(ncm: Ncm, directory: Path, url: str,
                                                              dialect: Dialect) -> None:
    write(directory, FLYWAY_FILES)
    flyway_history(url, dialect, ("1.1", "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", True),
                   ("2", "create orders", "SQL", "V2__create_orders.sql", True))
    recorded = json.loads(ok(ncm("baseline", "--from-flyway", "--json")).stdout)["records"]
    assert [r["version"] for r in recorded] == ["1", "1.1", "2"]


def check_a_flyway_version_undone_is_not_recorded(ncm: Ncm, directory: Path, url: str, dialect: Dialect) -> None:
    write(directory, FLYWAY_FILES)
    flyway_history(url, dialect, V1, V1_1, ("1.1", "add name", "UNDO_SQL", "U1.1__add_name.sql", True))
    recorded = json.loads(ok(ncm("baseline", "--from-flyway", "--json")).stdout)["records"]
    assert [r["version"] for r in recorded] == ["1"]


def check_a_flyway_version_without_a_file_is_refused_and_nothing_recorded(ncm: Ncm, directory: Path, url: str,
                                                                          dialect: Dialect) -> None:
    write(directory, {"V1__create_accounts.sql": FLYWAY_FILES["V1__create_accounts.sql"]})
    flyway_history(url, dialect, V1, ("1.2", "add email", "SQL", "V1.2__add_email.sql", True))
    before = every_table(url)
    failed(ncm("baseline", "--from-flyway"),
           f"flyway_schema_history has version 1.2 applied, but {directory} has no V1.2__*.sql file")
    assert every_table(url) == before


def golang_migrate_at(url: str, dialect: Dialect, version: int, dirty: bool) -> None:
    """``schema_migrations`` as golang-migrate leaves it: its table, one row."""
    execute(url, *dialect.golang_migrate_table, "INSERT INTO schema_migrations (version, dirty) VALUES "
                                                f"({version}, {dialect.true if dirty else dialect.false})")


def check_baseline_from_golang_migrate_records_its_version_and_those_before(ncm: Ncm, directory: Path, url: str,
                                                                            dialect: Dialect) -> None:
    write(directory, GOLANG_MIGRATE_FILES)
    execute(url, "CREATE TABLE users (id integer PRIMARY KEY)", "CREATE TABLE posts (id integer PRIMARY KEY)")
    golang_migrate_at(url, dialect, 2, dirty=False)
    recorded = json.loads(ok(ncm("baseline", "--from-golang-migrate", "--json")).stdout)["records"]
    assert [r["version"] for r in recorded] == ["000001_create_users", "000002_create_posts"]
    ok(ncm("run"))
    assert states(ncm) == {"000001_create_users": "baseline", "000002_create_posts": "baseline",
                           "000003_create_tags": "applied"}


def check_a_dirty_golang_migrate_version_is_refused(ncm: Ncm, directory: Path, url: str, dialect: Dialect) -> None:
    write(directory, GOLANG_MIGRATE_FILES)
    golang_migrate_at(url, dialect, 2, dirty=True)
    before = every_table(url)
    failed(ncm("baseline", "--from-golang-migrate"),
           "schema_migrations is dirty at version 2: that migration failed part-way; repair the schema by hand, "
           "then `migrate force 2`")
    assert every_table(url) == before


def check_a_golang_migrate_version_without_a_file_is_refused(ncm: Ncm, directory: Path, url: str,
                                                             dialect: Dialect) -> None:
    write(directory, GOLANG_MIGRATE_FILES)
    golang_migrate_at(url, dialect, 4, dirty=False)
    before = every_table(url)
    failed(ncm("baseline", "--from-golang-migrate"),
           f"schema_migrations is at version 4, but no migration in {directory} has the number 4")
    assert every_table(url) == before
