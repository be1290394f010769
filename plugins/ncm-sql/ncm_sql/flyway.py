"""SQL migrations named as Flyway names them (https://documentation.red-gate.com/fd/migrations):

- ``V1__init.sql``, ``V1.1__add_users.sql`` (``V1_1__`` is the same version): versioned, in
  version order; the version is ``1.1`` and the description ``add users``;
- ``U1.1__add_users.sql``: the undo of version 1.1, its down step (``ncm rollback``);
- ``R__views.sql``: repeatable, applied after every versioned migration and again whenever
  its checksum changes (the checksum of its text once placeholders are replaced, so a new
  placeholder value re-applies it).

The whole file is the step; its statements are split as a dbmate file's are
(:mod:`ncm_sql.sqlsplit`). ``${name}`` is replaced by ``name`` of the configuration's
``[placeholders]`` section, and ``${flyway:filename}`` by the file's name; a placeholder with
no value is an error, as it is for Flyway. An ``-- ncm: type=... depends_on=...
transaction=false`` comment sets ncm's metadata.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from ncm_core.errors import MigrationFileError
from ncm_core.formats.interface import MigrationFormat
from ncm_core.migration import Migration, checksum
from ncm_sql import sqlsplit
from ncm_sql.sqlformat import HEADER, apply_values, description_of, read_header, sql_step

NAME = re.compile(r"^(?:(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)|(?P<repeatable>R))__(?P<slug>.+)$")
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def placeholders(config: Any) -> dict[str, str]:
    """The ``[placeholders]`` section: any keys, each value a string."""
    if config is None:
        return {}
    return {key: str(value) for key, value in (config.section("placeholders").model_extra or {}).items()}


class FlywayFormat(MigrationFormat):
    PLUGIN_NAME = "flyway"
    suffixes = (".sql",)
    naming = "V1__slug.sql, U1__slug.sql or R__slug.sql (Flyway)"

    def claims(self, path: Path) -> bool:
        return path.suffix == ".sql" and NAME.match(path.stem) is not None

    def load_all(self, paths: list[Path], config: Any, known: dict[Path, Migration]) -> list[Migration]:
        values = placeholders(config)
        versioned: dict[str, Migration] = {}
        undos: list[tuple[str, Path]] = []
        migrations = []
        for path in paths:
            name = NAME.match(path.stem)
            version = name["version"].replace("_", ".") if name["version"] else None
            if name["kind"] == "U":
                undos.append((version, path))
                continue
            statements, meta, text = self.read(path, values)
            migration = Migration(version=version or path.stem, path=path, checksum=checksum(path),
                                  description=description_of(name["slug"]))
            if name["repeatable"]:
                migration.repeatable = True
                migration.checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
            else:
                versioned[version] = migration
            migration.steps["up"] = sql_step(statements)
            apply_values(migration, meta)
            migrations.append(migration)
        for version, path in undos:
            if version not in versioned:
                raise MigrationFileError(f"{path}: undoes version {version}, which has no V{version}__*.sql file")
            versioned[version].steps["down"] = sql_step(self.read(path, values)[0])
        return migrations

    @staticmethod
    def read(path: Path, values: dict[str, str]) -> tuple[list[str], dict[str, Any], str]:
        """The statements, the ``-- ncm:`` metadata and the text with placeholders replaced."""
        try:
            text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError as exc:
            raise MigrationFileError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        names = {**values, "flyway:filename": path.name}

        def replace(match: re.Match[str]) -> str:
            if match[1] not in names:
                number = text.count("\n", 0, match.start()) + 1
                raise MigrationFileError(f"{path}:{number}: no value for the placeholder ${{{match[1]}}}: set "
                                         f"{match[1]} in the [placeholders] section of the configuration")
            return names[match[1]]

        text = PLACEHOLDER.sub(replace, text)
        meta: dict[str, Any] = {}
        lines = []
        for number, line in enumerate(text.splitlines(keepends=True), 1):
            header = HEADER.match(line)
            if header:
                read_header(path, number, header[1], meta)
            else:
                lines.append(line)
        return sqlsplit.split(lines), meta, text
