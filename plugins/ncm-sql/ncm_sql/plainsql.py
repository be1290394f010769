"""Plain SQL strings wherever a step reaches the connection, as the spec writes them: its
rollback-safety downgrade runs ``op.get_bind().execute("SELECT COUNT(*) FROM users")``.
SQLAlchemy 2 executes only statements, so ncm's engine hands out connections of a subclass
whose ``execute`` wraps a ``str`` in ``sa.text``, as ``session.execute`` does; ``ctx.connection``
(the async connection around the same one) accepts strings the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

HINT = ('pass the SQL as a string or a SQLAlchemy statement, e.g. op.get_bind().execute("SELECT COUNT(*) '
        'FROM users") or execute(sa.text("... WHERE id = :id"), {"id": 1})')
"""What to write instead, for the error of an object that is not SQL."""


class PlainSQLConnection(sa.Connection):
    """A Connection whose ``execute`` also takes SQL as a plain string."""

    def execute(self, statement: Any, parameters: Any = None, *, execution_options: Any = None) -> Any:
        if isinstance(statement, str):
            statement = sa.text(statement)
        return super().execute(statement, parameters, execution_options=execution_options)


def accept_plain_sql(engine: AsyncEngine) -> None:
    """Make every connection ``engine`` gives a :class:`PlainSQLConnection`. ``Engine.connect``
    builds its connections from ``_connection_cls`` (SQLAlchemy 1.4 to 2.1), the one private
    name this relies on."""
    engine.sync_engine._connection_cls = PlainSQLConnection


def not_executable(exc: sa.exc.ObjectNotExecutableError) -> str:
    """The error of a step that executed something that is not SQL, and what to write instead."""
    return f"{type(exc.target).__name__} {exc.target!r:.80} is not SQL: {HINT}"
