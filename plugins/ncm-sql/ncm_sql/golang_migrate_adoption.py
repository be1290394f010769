"""Reading where golang-migrate left a database, so ncm can adopt it without re-running anything.

golang-migrate keeps one row, in a table it creates as ``schema_migrations (version bigint
not null primary key, dirty boolean not null)`` (``ensureVersionTable`` of database/postgres
and database/mysql, https://github.com/golang-migrate/migrate): the version of the last
migration it ran, every one numbered below it applied too, and ``dirty`` while a migration is
under way or after one failed. No row: nothing is applied (it empties the table on the way
down to no version). dbmate names its table ``schema_migrations`` too, with one row per
applied version and no ``dirty`` column, which this refuses by name.
"""

from __future__ import annotations

import sqlalchemy as sa

from ncm_core.errors import UsageError

VERSION_TABLE = "schema_migrations"
VERSIONS = sa.table(VERSION_TABLE, sa.column("version"), sa.column("dirty"))


def current_version(connection: sa.Connection) -> int:
    inspector = sa.inspect(connection)
    if not inspector.has_table(VERSION_TABLE):
        raise UsageError(f"this database has no {VERSION_TABLE} table, so golang-migrate does not manage it; "
                         "to record migrations as applied up to a version, use `ncm baseline --version V`")
    if "dirty" not in {c["name"] for c in inspector.get_columns(VERSION_TABLE)}:
        raise UsageError(f"{VERSION_TABLE} has no dirty column, so golang-migrate did not write it (dbmate's "
                         "table has this name too): use `ncm baseline --version V` with its newest version")
    rows = connection.execute(sa.select(VERSIONS.c.version, VERSIONS.c.dirty)).all()
    if not rows:
        raise UsageError(f"{VERSION_TABLE} is empty: golang-migrate applied nothing here, so run `ncm run` instead")
    version, dirty = rows[0]
    if dirty:
        raise UsageError(f"{VERSION_TABLE} is dirty at version {version}: that migration failed part-way; "
                         f"repair the schema by hand, then `migrate force {version}` (or the version before "
                         "it, if none of it applied) and run this again")
    return int(version)
