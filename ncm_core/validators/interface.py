"""The validator interface.

A complete third-party validator::

    from ncm_core import hookimpl
    from ncm_core.validators.interface import Problem, Validator

    class NoDropTable(Validator):
        PLUGIN_NAME = "no-drop-table"

        def check(self, migrations, history):
            for m in migrations:
                if "drop_table" in m.path.read_text():
                    yield Problem.error(self, m.version, f"{m.path}: drops a table")

    @hookimpl
    def ncm_register_validators():
        return [NoDropTable]

A problem of severity ``error`` fails ``ncm validate`` and blocks ``ncm run``; a
``warning`` is shown and nothing more; a ``hint`` suggests something worth doing.
A validator reads the project's settings (its environment, its directory) from
``self.config``, which the runner sets before calling ``check``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.history import HistoryRecord
    from ncm_core.migration import Migration

ERROR = "error"
WARNING = "warning"
HINT = "hint"


@dataclass(frozen=True)
class Problem:
    severity: str
    validator: str
    version: str | None
    message: str

    @classmethod
    def error(cls, validator: Validator, version: str | None, message: str) -> Problem:
        return cls(ERROR, validator.PLUGIN_NAME, version, message)

    @classmethod
    def warning(cls, validator: Validator, version: str | None, message: str) -> Problem:
        return cls(WARNING, validator.PLUGIN_NAME, version, message)

    @classmethod
    def hint(cls, validator: Validator, version: str | None, message: str) -> Problem:
        return cls(HINT, validator.PLUGIN_NAME, version, message)


class Validator:
    PLUGIN_NAME: ClassVar[str]
    WARN_ON_RUN: ClassVar[bool] = False
    """Whether ``ncm run`` prints this validator's warnings too (``validate`` always does):
    for findings cheap enough to show on every run and worth it there."""
    config: MigrationConfig | None = None

    def check(self, migrations: list[Migration], history: dict[str, HistoryRecord]) -> Iterable[Problem]:
        """Yield the problems found; ``history`` maps version to its record."""
        raise NotImplementedError
