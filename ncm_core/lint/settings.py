"""The ``[lint]`` section: severities per code and where ``ncm run`` lints its plan first."""

from __future__ import annotations

from ncm_core.lint.findings import Severity
from ncm_core.settings import PluginSettings


class LintSettings(PluginSettings):
    """``severity`` sets a code's level (``off`` silences it)::

        [lint]
        on_run = ["production", "staging"]

        [lint.severity]
        DS103 = "warning"
        MG101 = "off"

    ``on_run``: the environments where ``ncm run`` lints the plan and refuses error-level
    findings unless ``--allow CODE`` is given."""

    PLUGIN_NAME = "lint"

    severity: dict[str, Severity] = {}
    on_run: list[str] = ["production"]
