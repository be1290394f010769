"""Lint on run: where ``[lint] on_run`` names the environment (production by default), ``ncm
run`` lints its plan under the lock, before the first step, and refuses to start while a
finding at error level is neither allowed in the file (``# ncm: allow``) nor on the command
line (``--allow CODE``). The decision, either way, goes to the audit log."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from ncm_core.errors import ValidationFailed
from ncm_core.lint import engine

if TYPE_CHECKING:
    from ncm_core.lint.findings import Finding
    from ncm_core.migration import Migration
    from ncm_core.runner import MigrationRunner

log = logging.getLogger("ncm")


def applies(runner: MigrationRunner) -> bool:
    return runner.config.environment in runner.config.section("lint").on_run


async def check_plan(runner: MigrationRunner, plan: list[Migration], allow: Collection[str]) -> None:
    """Lint ``plan``; raise ValidationFailed naming the error-level findings ``allow`` leaves."""
    report = await engine.lint(runner.config, runner.db, runner.graph.order, plan, live=True)
    blocking = report.blocking()
    refused = [f for f in blocking if f.code not in allow]
    for finding in refused:
        log.warning("lint: %s: %s %s: %s", finding.location(), finding.severity.value, finding.code, finding.message)
    environment = getattr(runner.config.environment, "value", runner.config.environment)
    if refused:
        details = f"refused in {environment}: {_listed(refused)}"
        await runner._audit("lint", None, "refused", details)
        raise ValidationFailed(f"refusing to run in {environment}: {len(refused)} error-level lint finding(s): "
                               f"{_listed(refused)}; review them with `ncm lint`, then allow each reviewed one in "
                               "its file (# ncm: allow CODE -- reason) or pass --allow CODE")
    allowed = [f for f in blocking if f.code in allow]
    await runner._audit("lint", None, "ok", f"passed in {environment}" +
                        (f"; allowed by --allow: {_listed(allowed)}" if allowed else ""))


def _listed(findings: list[Finding]) -> str:
    return ", ".join(f"{f.code} at {f.location()}" for f in findings)
