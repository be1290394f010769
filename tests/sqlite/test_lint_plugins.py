"""A plugin's lint rule joins ncm's through ``ncm_register_lint_rules``, as the built-in ones do."""

import pytest
from lint_cases import lint

from ncm_core import hookimpl
from ncm_core.errors import PluginError
from ncm_core.lint.findings import Severity
from ncm_core.lint.interface import LintRule

AUDIT = '''"""Drop the audit table."""
from alembic import op


def upgrade():
    op.drop_table("audit_2019")
'''


class NoAuditDrop(LintRule):
    PLUGIN_NAME = "XA101"
    severity = Severity.ERROR
    summary = "audit table dropped"
    kinds = ("drop_table",)
    safer = "audit tables are kept for seven years"

    def check(self, op, scope):
        return f"drops audit table {op.table}" if op.table.startswith("audit_") else None


class Plugin:
    @hookimpl
    def ncm_register_lint_rules(self):
        return [NoAuditDrop]


async def test_a_plugins_rule_reports_its_findings(url, migrations_dir, register_plugin):
    register_plugin(Plugin())
    (migrations_dir / "001_drop.py").write_text(AUDIT)
    found = await lint(url, migrations_dir)
    assert ("XA101", 6) in [(f.code, f.line) for f in found]


async def test_a_plugin_claiming_a_builtin_code_is_an_error_naming_both(url, migrations_dir, register_plugin):
    class Clash(NoAuditDrop):
        PLUGIN_NAME = "DS102"

    class ClashPlugin:
        @hookimpl
        def ncm_register_lint_rules(self):
            return [Clash]

    register_plugin(ClashPlugin(), name="clash")
    (migrations_dir / "001_drop.py").write_text(AUDIT)
    with pytest.raises(PluginError, match="'DS102' is claimed by both plugin 'ncm_core.lint.hooks' and plugin 'clash'"):
        await lint(url, migrations_dir)
