"""ncm's own lint rules and the ``[lint]`` section, registered through the same hooks as a
plugin's."""

from __future__ import annotations

from typing import Any

from ncm_core.hookspecs import hookimpl


@hookimpl
def ncm_register_lint_rules() -> list[type[Any]]:
    from ncm_core.lint.rules import compat, data, destructive

    return [destructive.SchemaDropped, destructive.TableDropped, destructive.ColumnDropped,
            destructive.TableTruncated, compat.TableRenamed, compat.ColumnRenamed,
            data.UniqueOnExisting, data.NotNullWithoutDefault, data.MadeNotNull]


@hookimpl
def ncm_register_settings() -> list[type[Any]]:
    from ncm_core.lint.settings import LintSettings

    return [LintSettings]
