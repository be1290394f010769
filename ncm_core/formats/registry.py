"""The installed migration formats, one instance each, asked in PLUGIN_NAME order."""

from __future__ import annotations

from ncm_core import plugins
from ncm_core.formats.interface import MigrationFormat


def formats() -> list[MigrationFormat]:
    return [cls() for _, cls in sorted(plugins.collect("ncm_register_migration_formats").items())]
