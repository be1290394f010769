"""``ncm run --sql`` and ``ncm rollback --sql``: a plan as one SQL script a DBA can review and
apply with the database's own client, as Alembic's offline mode writes one.

The script is what a run would do: ncm's tables when they are missing, then per migration its
statements (rendered by Alembic's offline mode) and the history row a run writes (deleted,
going down), inside ``BEGIN``/``COMMIT`` where the database runs the migration atomically.
A SQL file's statements are written as they are; of Python,
only a plain ``def upgrade()`` / ``def downgrade()`` can be written out: a step that takes
``ctx``, is async or is a class's method may read rows and decide, which no script can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ncm_core.errors import UsageError
from ncm_core.step import StepForm

if TYPE_CHECKING:
    from ncm_core.history import HistoryRecord
    from ncm_core.migration import Migration
    from ncm_sql.backend import SQLBackend


def script(backend: SQLBackend, steps: list[tuple[Migration, HistoryRecord]], direction: str,
           create_tables: bool) -> str:
    dialect = backend.dialect()
    lines = list(backend.script_header)
    if create_tables:
        lines += [f"{statement};" for statement in backend.tables_sql(dialect)]
    for migration, record in steps:
        body = [f"{statement};" for statement in _rendered(backend, migration, direction)]
        body.append(f"{backend.history_literal(direction, record, dialect)};")
        lines.append(f"-- {migration.version}: {migration.description}")
        lines += ["BEGIN;", *body, "COMMIT;"] if backend.is_atomic(migration) else body
    return "\n".join(lines) + "\n"


def tables_sql(backend: SQLBackend, dialect: sa.Dialect) -> list[str]:
    return [str(sa.schema.CreateTable(table, if_not_exists=True).compile(dialect=dialect)).strip()
            for table in (backend.history_table, backend.audit_table)]


def _rendered(backend: SQLBackend, migration: Migration, direction: str) -> list[str]:
    step = migration.step(direction)
    if step.form is StepForm.SQL:
        return list(step.statements)
    name = "upgrade" if direction == "up" else "downgrade"
    if step.form is not StepForm.PLAIN:
        raise UsageError(f"{migration.path}: its {name} is written as `{step.form.value}`, which may read rows "
                         f"and decide, so it cannot be written as SQL ahead of time; apply it with `ncm "
                         f"{'run' if direction == 'up' else 'rollback'}`, or write it as a plain `def {name}()` "
                         "of `op` calls")
    try:
        return backend.offline_sql(step.fn, None)
    except Exception as exc:
        raise UsageError(f"{migration.path}: {name}() cannot be written as SQL ahead of time "
                         f"({type(exc).__name__}: {exc}); apply it with `ncm run`") from None
