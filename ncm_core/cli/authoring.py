"""The commands that start a migration history or add to it without running steps:
``create`` writes a file, ``hash`` seals the directory in ncm.sum, ``baseline`` records what
a database already has."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from ncm_core.cli.common import JsonFlag, console, load, print_json, with_runner

TypeName = Annotated[str, Parameter(help="schema, data, index, seed, or a type a plugin adds")]


def create(
    description: str,
    *,
    type: Annotated[TypeName, Parameter(name=["--type", "-t"])] = "schema",
    autogenerate: Annotated[bool, Parameter(help="fill the steps from the difference between the database "
                                                 "and the SQLAlchemy models (Alembic's autogenerate)",
                                            negative="")] = False,
    metadata: Annotated[str | None, Parameter(help="the models, as module:attribute (e.g. myapp.models:Base.metadata); "
                                                   "default: target_metadata")] = None,
    empty: Annotated[bool, Parameter(help="with --autogenerate, write the file even when nothing differs",
                                     negative="")] = False,
    format: Annotated[str, Parameter(help="python, or sql: a SQL file with -- migrate:up / -- migrate:down "
                                          "sections (dbmate's layout)")] = "python",
    json_: JsonFlag = False,
) -> int:
    """Write a new migration file from the type's template."""
    async def go(runner: Any) -> int:
        version = await runner.create_migration(description, type, autogenerate=autogenerate, metadata=metadata,
                                                empty=empty, format=format)
        directory = Path(runner.config.migration_directory)
        if json_:
            print_json({"version": version, "path": str(runner.created), "sum_file": str(directory / "ncm.sum")})
        else:
            console().print(f"created {runner.created}", markup=False)
        return 0

    return with_runner(go, connect=autogenerate, migrations=False)


def init(
    *,
    database: Annotated[str, Parameter(help="the backend to start with: sqlite, postgresql, mysql, mongodb "
                                            "(its plugin must be installed)")] = "sqlite",
    json_: JsonFlag = False,
) -> int:
    """Start a project here: ncm.toml, a migrations/ directory with one example migration for
    the database, and its ncm.sum. Refused when ncm.toml exists."""
    from ncm_core import starter

    written = starter.write_project(Path.cwd(), database)
    if json_:
        print_json({"database": database, "files": [str(path.relative_to(Path.cwd())) for path in written]})
        return 0
    out = console()
    for path in written:
        out.print(f"wrote {path.relative_to(Path.cwd())}", markup=False)
    out.print("next: set database_url in ncm.toml (a password in MIGRATION_DATABASE_URL), then `ncm run`",
              markup=False, soft_wrap=True)
    return 0


def hash_files(*, json_: JsonFlag = False) -> int:
    """Rewrite migrations/ncm.sum from the migration files: after reviewing an edit or a
    merge that the sum flagged."""
    from ncm_core import sumfile

    directory = Path(load().migration_directory)
    sums = sumfile.compute(directory)
    path = sumfile.write(directory)
    if json_:
        print_json({"path": str(path), "total": sums.total, "files": sums.files})
        return 0
    console().print(f"wrote {path} ({len(sums.files)} migration file(s))", markup=False)
    return 0


def baseline(
    *,
    from_alembic: Annotated[bool, Parameter(help="adopt a database Alembic manages: record the revisions in "
                                                 "alembic_version and all before them", negative="")] = False,
    from_flyway: Annotated[bool, Parameter(help="adopt a database Flyway manages: record the versions "
                                                "flyway_schema_history has applied (V1.1 is V1.1__*.sql)",
                                           negative="")] = False,
    from_golang_migrate: Annotated[bool, Parameter(help="adopt a database golang-migrate manages: record the "
                                                        "version in schema_migrations (N is the migration "
                                                        "numbered N) and all before it", negative="")] = False,
    version: Annotated[str | None, Parameter(help="record this version and everything before it")] = None,
    json_: JsonFlag = False,
) -> int:
    """Record migrations as applied without running them, for a database that already has them."""
    async def go(runner: Any) -> int:
        recorded = await runner.baseline(version=version, from_alembic=from_alembic, from_flyway=from_flyway,
                                         from_golang_migrate=from_golang_migrate)
        if json_:
            print_json({"records": recorded})
            return 0
        out = console()
        for r in recorded:
            out.print(f"baseline {r['version']}  {r['description']}", markup=False)
        out.print(f"{len(recorded)} migration(s) recorded as applied; `ncm run` applies what is newer"
                  if recorded else "nothing to record: those migrations are already in the history")
        return 0

    return with_runner(go)
