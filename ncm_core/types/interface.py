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
"""

from __future__ import annotations

from importlib import resources
from string import Template
from typing import ClassVar

from ncm_core.errors import UsageError


class MigrationKind:
    PLUGIN_NAME: ClassVar[str]
    summary: ClassVar[str] = ""
    transactional: ClassVar[bool] = True
    templates: ClassVar[dict[str, str]] = {}

    def template(self, family: str) -> str:
        """The file template for a backend family (``sql``, ``mongodb``)."""
        if family in self.templates:
            return self.templates[family]
        resource = resources.files("ncm_core.types").joinpath("templates", family, f"{self.PLUGIN_NAME}.py.tmpl")
        if not resource.is_file():
            raise UsageError(f"migration type {self.PLUGIN_NAME!r} has no template for {family} databases")
        return resource.read_text(encoding="utf-8")

    def render(self, family: str, **values: str) -> str:
        return Template(self.template(family)).safe_substitute(values)
