"""SQL migration files as dbmate and goose write them: ``20260101120000_add_users.sql``
(or ncm's ``20260101_120000_add_users.sql``, or ``001_add_users.sql``) with sections::

    -- ncm: type=data depends_on=001_users transaction=false
    -- migrate:up
    CREATE TABLE users (id integer PRIMARY KEY);
    -- migrate:down
    DROP TABLE users;

goose's ``-- +goose Up`` / ``-- +goose Down`` mark the sections too, with
``-- +goose StatementBegin`` / ``-- +goose StatementEnd`` around a statement sent whole and
``-- +goose NO TRANSACTION``; dbmate's ``-- migrate:up transaction:false`` is read as well.
The optional ``-- ncm:`` line, above the first section, carries ncm's own metadata; a plain
comment on the first line is the description (else the file name's slug). The
statements of a section are split by :mod:`ncm_sql.sqlsplit`; each runs through Alembic's
``op.execute``, so the statement journal, dry runs and ``ncm run --sql`` see them one by one.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ncm_core.errors import MigrationFileError
from ncm_core.formats.interface import MigrationFormat
from ncm_core.migration import VERSION_RE, Migration, checksum, read_values
from ncm_core.step import Step, StepForm
from ncm_sql import sqlsplit

HEADER = re.compile(r"^\s*--\s*ncm:(.*)$")
DBMATE = re.compile(r"^\s*--\s*migrate:(up|down)\b(.*)$")
GOOSE = re.compile(r"^\s*--\s*\+goose\s+(Up|Down|StatementBegin|StatementEnd|NO TRANSACTION)\b", re.IGNORECASE)
TITLE = re.compile(r"^--(?!\s*(?:ncm:|migrate:|\+goose))\s*(\S.*)$")
"""A plain comment on the first line: the migration's description, as ``ncm create`` writes it."""
KEYS = ("type", "depends_on", "transaction", "description")


def sql_step(statements: Sequence[str]) -> Step:
    """A step that runs ``statements`` in order through Alembic's ``op`` (bound by the SQL
    backend when it runs the step). Colons are escaped so that ``text()`` takes none of them
    for a bind parameter: the SQL reaches the driver as written."""
    statements = tuple(statements)

    def upgrade() -> None:
        import sqlalchemy as sa
        from alembic import op

        for statement in statements:
            op.execute(sa.text(statement.replace(":", "\\:")))

    return Step(upgrade, StepForm.SQL, False, statements)


def read_header(path: Path, number: int, text: str, values: dict[str, Any]) -> None:
    """One ``-- ncm: key=value ...`` line into ``values``: type, depends_on (versions
    separated by commas), transaction (true/false), description."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise MigrationFileError(f"{path}:{number}: cannot read the ncm: line: {exc}") from None
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in KEYS:
            raise MigrationFileError(f"{path}:{number}: {word!r} in the ncm: line is not key=value with a key "
                                     f"of {', '.join(KEYS)}")
        if key == "depends_on":
            values[key] = [v for v in value.split(",") if v]
        elif key == "transaction":
            if value.lower() not in ("true", "false"):
                raise MigrationFileError(f"{path}:{number}: transaction must be true or false, not {value!r}")
            values["transactional"] = value.lower() == "true"
        else:
            values[key] = value


def apply_values(migration: Migration, values: dict[str, Any]) -> None:
    """The metadata read from the file's comments, checked as a Python file's is."""
    if "description" in values:
        migration.description = values["description"]
    read_values(migration, values)


def description_of(slug: str) -> str:
    return slug.replace("_", " ").strip() or slug


class SQLFileFormat(MigrationFormat):
    PLUGIN_NAME = "sql"
    suffixes = (".sql",)
    naming = "YYYYMMDDHHMMSS_slug.sql with -- migrate:up / -- migrate:down sections"
    creates = ".sql"

    def with_dependencies(self, text: str, versions: list[str]) -> str:
        """An ``-- ncm: depends_on=...`` line above the up section."""
        line = f"-- ncm: depends_on={','.join(versions)}\n"
        at = text.find("-- migrate:up")
        return text[:at] + line + text[at:] if at >= 0 else line + text

    def claims(self, path: Path) -> bool:
        return path.suffix == ".sql" and VERSION_RE.match(path.stem) is not None

    def load(self, path: Path, config: Any) -> Migration:
        source = path.read_bytes()
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MigrationFileError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        slug = VERSION_RE.match(path.stem)["slug"] or ""
        migration = Migration(version=path.stem, path=path, checksum=checksum(path),
                              description=description_of(slug) or path.stem)
        values: dict[str, Any] = {}
        sections = self.sections(path, text, values)
        if "up" not in sections:
            raise MigrationFileError(f"{path}: has no `-- migrate:up` (or `-- +goose Up`) line, so ncm cannot "
                                     "tell its statements from its rollback")
        for direction, statements in sections.items():
            migration.steps[direction] = sql_step(statements)
        apply_values(migration, values)
        return migration

    @staticmethod
    def sections(path: Path, text: str, values: dict[str, Any]) -> dict[str, list[str]]:
        """The statements of each section; metadata lines go into ``values``."""
        found: dict[str, list[str]] = {}
        current: str | None = None
        lines: list[str] = []
        block: list[str] | None = None

        def flush() -> None:
            statements = sqlsplit.split(lines)
            if current is None and statements:
                raise MigrationFileError(f"{path}: SQL before the first `-- migrate:up` line belongs to no "
                                         f"section: {statements[0][:60]!r}")
            if current is not None:
                found[current] += statements
            lines.clear()

        for number, line in enumerate(text.splitlines(keepends=True), 1):
            dbmate, goose = DBMATE.match(line), GOOSE.match(line)
            marker = (dbmate[1] if dbmate else goose[1].lower() if goose else None)
            if block is not None and marker != "statementend":
                block.append(line)
            elif marker in ("up", "down"):
                flush()
                if marker in found:
                    raise MigrationFileError(f"{path}:{number}: a second {marker} section")
                current, found[marker] = marker, []
                if dbmate and re.search(r"\btransaction:false\b", dbmate[2]):
                    values["transactional"] = False
            elif marker == "no transaction":
                values["transactional"] = False
            elif marker == "statementbegin":
                flush()
                block = []
            elif marker == "statementend":
                if block is None:
                    raise MigrationFileError(f"{path}:{number}: StatementEnd without a StatementBegin")
                statement = "".join(block).strip()
                if current is not None and statement:
                    found[current].append(statement[:-1].rstrip() if statement.endswith(";") else statement)
                block = None
            elif (header := HEADER.match(line)) and current is None:
                read_header(path, number, header[1], values)
            elif number == 1 and (title := TITLE.match(line)):
                values.setdefault("description", title[1].strip())
            else:
                lines.append(line)
        if block is not None:
            raise MigrationFileError(f"{path}: a StatementBegin has no StatementEnd")
        flush()
        return found
