"""The ``[placeholders]`` section: Flyway's ``${name}`` values, any keys (ncm_sql.flyway)."""

from __future__ import annotations

from pydantic import ConfigDict

from ncm_core.settings import PluginSettings


class Placeholders(PluginSettings):
    """``[placeholders]`` in ncm.toml (``[tool.ncm.placeholders]``): ``schema = "app"`` makes
    ``${schema}`` in a Flyway-named file read ``app``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    PLUGIN_NAME = "placeholders"
