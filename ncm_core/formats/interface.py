"""The migration-format interface: which files a format reads, and the migrations it makes of them.

A complete third-party format (one YAML file per migration, its SQL under ``up:`` and
``down:``) is in docs/hooks.md; the built-in ``python`` format (``ncm_core.formats.python``) and
ncm-sql's ``sql`` and ``flyway`` formats are registered the same way.

A format reads metadata (version, description, type, ``depends_on``, ``transactional``) into
the :class:`~ncm_core.migration.Migration` it returns, and gives each direction a
:class:`~ncm_core.step.Step`: Python code in one of its four forms, or statements of the form
``StepForm.SQL`` (``ncm_sql.sqlformat.sql_step``) that a SQL backend runs one by one and a
backend without SQL refuses by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ncm_core.migration import Migration


class MigrationFormat:
    PLUGIN_NAME: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    """The file endings this format reads (``(".py",)``); a file with one of them that
    :meth:`claims` refuses is an error naming :attr:`naming`, not a file quietly skipped."""
    naming: ClassVar[str] = ""
    """How a file of this format is named, for the error of a file that is not (``V1__slug.sql``)."""
    creates: ClassVar[str | None] = None
    """The suffix of the file ``ncm create --format <PLUGIN_NAME>`` writes, from the type's
    ``<type><creates>.tmpl`` template; None: ``ncm create`` does not write this format."""

    def describe(self, description: str) -> str:
        """The description as the template's ``$description`` may hold it (one line)."""
        return " ".join(description.split())

    def with_dependencies(self, text: str, versions: list[str]) -> str:
        """A new file's ``text`` made to depend on ``versions`` (the heads of an Alembic project)."""
        raise NotImplementedError

    def claims(self, path: Path) -> bool:
        """Whether ``path`` is one of this format's files (by default: its suffix is one of ours)."""
        return path.suffix in self.suffixes

    def load(self, path: Path, config: Any) -> Migration | None:
        """The migration of one file; None for a file that belongs to another (an undo script).
        ``config`` is the project's :class:`~ncm_core.config.MigrationConfig`, or None when the
        files are read without one. Raise :class:`~ncm_core.errors.MigrationFileError` naming
        the file (and line) for a file that cannot be read."""
        raise NotImplementedError

    def load_all(self, paths: list[Path], config: Any, known: dict[Path, Migration]) -> list[Migration]:
        """The migrations of every file this format claimed in the directory, in any order. A
        format whose files go together (Flyway's undo scripts beside their versions) overrides
        this; ``known`` are the migrations of the previous load, by path, to reuse when unchanged."""
        found = (self.load(path, config) for path in paths)
        return [m for m in found if m is not None]
