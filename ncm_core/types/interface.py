"""The migration-type interface.

A complete third-party type::

    from ncm_core import hookimpl
    from ncm_core.types.interface import MigrationKind

    class Permissions(MigrationKind):
        PLUGIN_NAME = "permissions"
        summary = "GRANT and REVOKE statements"
        templates = {"sql": '''\"""$description\"""
    type = "permissions"

    def upgrade():
        op.execute("GRANT SELECT ON users TO reporting")
    '''}

    @hookimpl
    def ncm_register_migration_types():
        return [Permissions]

The core holds no templates: a type's own ``templates`` come first, then those the backend
ships (its ``TEMPLATES`` package), so a plugin that adds a database also brings the files
``ncm create`` writes for it, and a plugin that adds a type can bring them for any database.
"""

from __future__ import annotations

from importlib import resources
from string import Template
from typing import TYPE_CHECKING, ClassVar

from ncm_core.errors import UsageError

if TYPE_CHECKING:
    from ncm_core.backend import Backend


class MigrationKind:
    PLUGIN_NAME: ClassVar[str]
    summary: ClassVar[str] = ""
    transactional: ClassVar[bool] = True
    templates: ClassVar[dict[str, str]] = {}
    """Template text per backend family (``sql``, ``mongodb``); wins over the backend's own."""

    def template(self, backend: type[Backend] | Backend, suffix: str = ".py") -> str:
        """The file template for ``backend``: this type's ``templates[backend.TEMPLATE_FAMILY]``
        (Python files; ``templates["sql.sql"]`` for a SQL file on a SQL database), else
        ``<PLUGIN_NAME><suffix>.tmpl`` in the backend's ``TEMPLATES`` package."""
        family = backend.TEMPLATE_FAMILY
        key = family if suffix == ".py" else f"{family}{suffix}"
        if key in self.templates:
            return self.templates[key]
        if backend.TEMPLATES is not None:
            resource = resources.files(backend.TEMPLATES).joinpath(f"{self.PLUGIN_NAME}{suffix}.tmpl")
            if resource.is_file():
                return resource.read_text(encoding="utf-8")
        kind = "" if suffix == ".py" else f"{suffix} "
        raise UsageError(f"migration type {self.PLUGIN_NAME!r} has no {kind}template for {family} databases")

    def render(self, backend: type[Backend] | Backend, suffix: str = ".py", **values: str) -> str:
        """The template for ``backend`` with ``$description``, ``$version`` and ``$created`` filled in."""
        return Template(self.template(backend, suffix)).safe_substitute(values)
