"""``ncm lint --format sarif``: the findings as a SARIF 2.1.0 log, the format GitHub code
scanning, GitLab and most CI dashboards read. Each code is a rule of the tool's driver;
each finding a result at its file and line, its level SARIF's (error, warning, note)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncm_core.lint.engine import known_codes
from ncm_core.lint.findings import Severity

if TYPE_CHECKING:
    from ncm_core.config import MigrationConfig
    from ncm_core.lint.engine import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
DOCS = "https://github.com/ncm-project/ncm/blob/main/docs/lint.md"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.OFF: "none"}


def document(report: Report, config: MigrationConfig) -> dict[str, Any]:
    codes = known_codes()
    used = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(used)}
    rules = [{"id": code, "shortDescription": {"text": codes.get(code, (Severity.WARNING, code))[1]},
              "helpUri": f"{DOCS}#{code.lower()}",
              "defaultConfiguration": {"level": LEVELS[codes.get(code, (Severity.WARNING, ""))[0]]}}
             for code in used]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": LEVELS[f.severity],
            "message": {"text": f"{f.message}. Safer: {f.safer}" if f.safer else f.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(f.path)},
                                                **({"region": {"startLine": f.line}} if f.line else {})}}],
            "properties": {"version": f.version, "observed": f.observed},
        }
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ncm lint", "informationUri": DOCS, "rules": rules}},
        "results": results,
        "properties": {"liveSchema": report.live, "migrations": report.migrations},
    }]}


def _uri(path: Path) -> str:
    """The file relative to the working directory (where CI checked the repository out)."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
    except ValueError:
        return path.resolve().as_uri()
