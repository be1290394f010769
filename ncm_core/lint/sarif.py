"""``ncm lint --format sarif``: the findings as a SARIF 2.1.0 log, the format GitHub code
scanning, GitLab and most CI dashboards read. Each code is a rule of the tool's driver;
each finding a result at its file and line, its level SARIF's (error, warning, note)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncm_core.lint.engine import known_codes
from ncm_core.lint.findings import Finding, Severity

if TYPE_CHECKING:
    from ncm_core.lint.engine import Report

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.OFF: "none"}


def document(report: Report) -> dict[str, Any]:
    codes = known_codes()
    used = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(used)}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ncm lint", "rules": [_rule(code, codes.get(code)) for code in used]}},
        "results": [_result(f, index[f.code]) for f in report.findings],
        "properties": {"liveSchema": report.live, "migrations": report.migrations},
    }]}


def _rule(code: str, known: tuple[Severity, str, str] | None) -> dict[str, Any]:
    severity, summary, safer = known or (Severity.WARNING, code, "")
    rule: dict[str, Any] = {"id": code, "shortDescription": {"text": summary},
                            "defaultConfiguration": {"level": LEVELS[severity]}}
    if safer:
        rule["help"] = {"text": f"Safer: {safer} (docs/lint.md, {code})"}
    return rule


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.path)}}
    if f.line:
        location["region"] = {"startLine": f.line}
    result: dict[str, Any] = {
        "ruleId": f.code, "ruleIndex": rule_index, "level": LEVELS[f.severity],
        "message": {"text": f"{f.message}. Safer: {f.safer}" if f.safer else f.message},
        "locations": [{"physicalLocation": location}],
        "properties": {"version": f.version, "observed": f.observed},
    }
    if f.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
    return result


def _uri(path: Path) -> str:
    """The file relative to the working directory (where CI checked the repository out)."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
    except ValueError:
        return path.resolve().as_uri()
