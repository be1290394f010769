"""Alembic's DDL impl (``alembic.ddl.impl.DefaultImpl``): the one place ncm relies on more
than Alembic's public API. Written against Alembic 1.20.1.

- ``DeferringImpl`` overrides ``DefaultImpl._exec``, the private method every ``op`` call
  ends in, to queue parameterless statements (:mod:`ncm_sql.deferred`). ``INTERCEPTS_EXEC``
  says, checked once at import, whether this Alembic has ``_exec`` with the arguments it was
  written for. Where it has not, SQL backends do not defer DDL: each statement runs when
  ``op`` calls it, as in Alembic.
- ``with_mixins`` gives one MigrationContext's impl extra behaviour (deferral, MySQL's table
  defaults). Alembic picks the impl class per dialect from a process-wide registry, and
  registering a class there would change every Alembic context in the process; so the
  context's own impl object is given a subclass of its class. That needs nothing of the
  impl's constructor, whose private arguments a second impl would have to repeat.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from ncm_sql.deferred import Batch

_EXEC_PARAMETERS = ("self", "construct", "execution_options", "multiparams", "params")


def intercepts_exec(impl_class: type = DefaultImpl) -> bool:
    """Whether ``impl_class`` has the ``_exec(construct, execution_options, multiparams, params)``
    that DeferringImpl overrides."""
    exec_ = getattr(impl_class, "_exec", None)
    return callable(exec_) and tuple(inspect.signature(exec_).parameters) == _EXEC_PARAMETERS


INTERCEPTS_EXEC = intercepts_exec()


class DeferringImpl:
    """Mixed into Alembic's DDL impl: while ``batch`` is set, ``op``'s parameterless
    statements are compiled and queued instead of executed."""

    batch: Batch | None = None

    def _exec(self, construct: Any, execution_options: Mapping[str, Any] | None = None,
              multiparams: Sequence[Mapping[str, Any]] | None = None,
              params: Mapping[str, Any] = sa.util.immutabledict()) -> Any:
        batch = self.batch
        if batch is not None and batch.error is None and not (execution_options or multiparams or params):
            compiled = (sa.text(construct) if isinstance(construct, str) else construct).compile(dialect=self.dialect)
            sql = str(compiled).strip()
            if not compiled.params and batch.accepts(sql):
                batch.pending.append(sql)
                return None
        return super()._exec(construct, execution_options, multiparams, params)  # type: ignore[misc]


@functools.cache
def _impl_class(base: type[DefaultImpl], mixins: tuple[type, ...]) -> type[DefaultImpl]:
    # No __dialect__ in the class body, so Alembic does not register it as the dialect's impl.
    return type("".join(m.__name__ for m in mixins) + base.__name__, (*mixins, base), {})


def with_mixins(context: MigrationContext, mixins: tuple[type, ...]) -> MigrationContext:
    """``context``, its impl now also an instance of ``mixins`` (first in the method order)."""
    if mixins:
        context.impl.__class__ = _impl_class(type(context.impl), mixins)
    return context
