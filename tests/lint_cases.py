"""``ncm lint``'s rules, each with a migration it must flag and one it must pass, run by each
backend's tests against its real database: an "existing" table is one the database holds
(created by an applied migration), as ncm lint reads it from the live schema.

A case's ``existing`` SQL runs as migration 001, applied first; its ``failing`` and ``passing``
bodies become the ``upgrade()`` of pending migration 002 (``{line}`` marks the call the
finding must point at)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from ncm_core.config import MigrationConfig
from ncm_core.lint import run
from ncm_core.runner import MigrationRunner

USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100), age INTEGER)"


@dataclass
class Case:
    code: str
    failing: str
    passing: str
    existing: str = USERS
    type: str = "schema"
    header: str = ""
    transactional: bool = True
    config: dict = field(default_factory=dict)
    """Settings the case is linted with."""


FILE = '''"""Lint case."""
import sqlalchemy as sa
from alembic import op
{header}
type = "{type}"
transactional = {transactional}


def upgrade():
{body}


def downgrade():
    pass
'''
SETUP = '''"""Existing tables."""
from alembic import op


def upgrade():
{body}
'''


def write(directory: Path, name: str, case: Case, body: str) -> int | None:
    """Write migration ``name`` with ``body`` as its upgrade; the line ``{line}`` marks, if any."""
    lines = textwrap.dedent(body).strip("\n").splitlines()
    marked = next((i for i, text in enumerate(lines) if "{line}" in text), None)
    indented = "\n".join("    " + text.replace("  # {line}", "").replace("{line}", "") for text in lines)
    text = FILE.format(header=case.header, type=case.type, transactional=case.transactional, body=indented)
    (directory / f"{name}.py").write_text(text)
    if marked is None:
        return None
    return text.splitlines().index("def upgrade():") + 2 + marked


async def lint(url: str, directory: Path, **config: object) -> list:
    runner = MigrationRunner(MigrationConfig(database_url=url, migration_directory=directory, **config))
    try:
        return (await run.lint_selected(runner, [], None, False)).findings
    finally:
        await runner.close()


async def apply_existing(url: str, directory: Path, case: Case) -> None:
    statements = [s for s in case.existing.split(";") if s.strip()]
    body = "\n".join(f"    op.execute({s.strip()!r})" for s in statements) or "    pass"
    (directory / "001_existing.py").write_text(SETUP.format(body=body))
    runner = MigrationRunner(MigrationConfig(database_url=url, migration_directory=directory))
    await runner.initialize()
    try:
        results = await runner.run_migrations()
        assert all(r["status"] == "applied" for r in results), results
    finally:
        await runner.close()


async def check_failing(url: str, directory: Path, case: Case) -> None:
    await apply_existing(url, directory, case)
    line = write(directory, "002_case", case, case.failing)
    found = [(f.code, f.line) for f in await lint(url, directory, **case.config)]
    assert (case.code, line) in found or (line is None and case.code in {c for c, _ in found}), found


async def check_passing(url: str, directory: Path, case: Case) -> None:
    await apply_existing(url, directory, case)
    write(directory, "002_case", case, case.passing)
    found = [f.code for f in await lint(url, directory, **case.config)]
    assert case.code not in found, found


SHARED = [
    Case("DS102", 'op.drop_table("users")  # {line}', 'op.create_table("tmp", sa.Column("id", sa.Integer))\nop.drop_table("tmp")'),
    Case("DS102", 'op.execute("DROP TABLE users")  # {line}', 'op.execute("CREATE TABLE t2 (id INT)")\nop.execute("DROP TABLE t2")'),
    Case("DS103", 'op.drop_column("users", "email")  # {line}', 'op.add_column("users", sa.Column("nick", sa.String(20)))'),
    Case("DS103", 'op.execute("ALTER TABLE users DROP COLUMN email")  # {line}',
         'op.execute("ALTER TABLE users ADD COLUMN nick VARCHAR(20)")'),
    Case("BC101", 'op.rename_table("users", "people")  # {line}', 'op.create_table("people", sa.Column("id", sa.Integer))'),
    Case("BC102", 'op.alter_column("users", "email", new_column_name="mail", existing_type=sa.String(100))  # {line}',
         'op.alter_column("users", "email", existing_type=sa.String(100), server_default="x")'),
    Case("BC102", 'op.execute("ALTER TABLE users RENAME COLUMN email TO mail")  # {line}',
         'op.execute("ALTER TABLE users ADD COLUMN mail VARCHAR(100)")'),
    Case("MF101", 'op.create_index("ux_users_email", "users", ["email"], unique=True)  # {line}',
         'op.create_table("t", sa.Column("id", sa.Integer), sa.Column("e", sa.String(9)))\n'
         'op.create_index("ux_t_e", "t", ["e"], unique=True)'),
    Case("DM101", 'op.execute("UPDATE users SET age = 0")  # {line}', 'op.execute("UPDATE users SET age = 0 WHERE id < 100")',
         type="data"),
    Case("DM101", 'op.execute("DELETE FROM users")  # {line}', 'op.execute("DELETE FROM users WHERE age < 0")',
         type="data"),
    Case("DS104", 'op.execute("TRUNCATE TABLE users")  # {line}', 'op.execute("DELETE FROM users WHERE id = 1")'),
    Case("NA101", 'op.execute("this is not sql at all (")  # {line}', 'op.execute("SELECT 1")'),
]
"""Cases every SQL backend runs (their SQL is the same on each)."""

SQL_NOT_MYSQL = [
    Case("MF103", 'op.add_column("users", sa.Column("nick", sa.String(20), nullable=False))  # {line}',
         'op.add_column("users", sa.Column("nick", sa.String(20), nullable=False, server_default="x"))'),
]
"""MF103: MySQL fills an implicit default instead of failing, which is LK202."""

POSTGRES = [
    Case("DS101", 'op.execute("DROP SCHEMA archive CASCADE")  # {line}', 'op.execute("CREATE SCHEMA archive")'),
    Case("LK101", 'op.create_index("ix_users_email", "users", ["email"])  # {line}',
         'op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)', transactional=False),
    Case("LK101", 'op.execute("CREATE INDEX ix_users_email ON users (email)")  # {line}',
         'op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")', transactional=False),
    Case("LK102", 'op.drop_index("ix_users_email", table_name="users")  # {line}',
         'op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)',
         existing=USERS + "; CREATE INDEX ix_users_email ON users (email)", transactional=False),
    Case("LK103", 'op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)  # {line}',
         'op.create_table("t", sa.Column("id", sa.Integer))\nop.create_index("ix_t", "t", ["id"])'),
    Case("LK104", 'op.create_foreign_key("fk", "orders", "users", ["user_id"], ["id"])  # {line}',
         'op.create_foreign_key("fk", "orders", "users", ["user_id"], ["id"], postgresql_not_valid=True)',
         existing=USERS + "; CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER)"),
    Case("LK105", 'op.execute("ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18)")  # {line}',
         'op.execute("ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18) NOT VALID")'),
    Case("LK106", 'op.alter_column("users", "age", type_=sa.BigInteger, existing_type=sa.Integer)  # {line}',
         'op.alter_column("users", "email", type_=sa.String(200), existing_type=sa.String(100))'),
    Case("LK107", 'op.add_column("users", sa.Column("token", sa.Uuid, server_default=sa.text("gen_random_uuid()")))'
         '  # {line}', 'op.add_column("users", sa.Column("joined", sa.DateTime, server_default=sa.text("now()")))'),
    Case("LK108", 'op.alter_column("users", "email", nullable=False)  # {line}',
         'op.alter_column("users", "email", nullable=True)'),
    Case("LK109", 'op.add_column("users", sa.Column("nick", sa.String(20)))  # {line}',
         'op.execute("SET lock_timeout = \'2s\'")\nop.add_column("users", sa.Column("nick", sa.String(20)))',
         config={"sql": {"ddl_lock_timeout": 0}}),
    Case("MF104", 'op.execute("ALTER TABLE users ALTER COLUMN email SET NOT NULL")  # {line}',
         'op.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")'),
    Case("MF105", 'op.alter_column("users", "email", type_=sa.String(20), existing_type=sa.String(100))  # {line}',
         'op.alter_column("users", "email", type_=sa.Text, existing_type=sa.String(100))'),
]

MYSQL = [
    Case("LK201", 'op.alter_column("users", "email", type_=sa.Text, existing_type=sa.String(100))  # {line}',
         'op.alter_column("users", "email", type_=sa.String(120), existing_type=sa.String(100))'),
    Case("LK201", 'op.execute("ALTER TABLE users MODIFY COLUMN kind ENUM(\'b\', \'a\')")  # {line}',
         'op.execute("ALTER TABLE users MODIFY COLUMN kind ENUM(\'a\', \'b\', \'c\')")',
         existing="CREATE TABLE users (id INTEGER PRIMARY KEY, kind ENUM('a', 'b'))"),
    Case("LK202", 'op.add_column("users", sa.Column("nick", sa.String(20), nullable=False))  # {line}',
         'op.add_column("users", sa.Column("nick", sa.String(20), nullable=False, server_default="x"))'),
    Case("MF104", 'op.alter_column("users", "email", nullable=False, existing_type=sa.String(100))  # {line}',
         'op.alter_column("users", "email", nullable=True, existing_type=sa.String(100))'),
    Case("MF105", 'op.execute("ALTER TABLE users MODIFY COLUMN email VARCHAR(20)")  # {line}',
         'op.execute("ALTER TABLE users MODIFY COLUMN email VARCHAR(200)")'),
]
