"""``# ncm: allow DS102 -- reason``: a reviewed finding, accepted on the line of its call (or
on a comment line of its own just above it). The reason is required and shown with the
finding; a suppression that covers no finding is reported, so stale ones do not pile up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ncm_core.lint.findings import Finding

ALLOW = re.compile(r"(?:#|--)\s*ncm:\s*allow\s+(?P<codes>[A-Z]{2}\d{3}(?:\s*,\s*[A-Z]{2}\d{3})*)"
                   r"\s*(?:(?:—|–|--|-|:)\s*(?P<reason>.*\S))?\s*$")


@dataclass
class Allow:
    line: int
    codes: list[str]
    reason: str | None
    covers: set[int] = field(default_factory=set)
    """The lines it applies to: its own, and the next when it stands alone on its line."""
    used: bool = False


def allowances(path: Path) -> list[Allow]:
    found = []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    for number, text in enumerate(lines, start=1):
        match = ALLOW.search(text)
        if match is None:
            continue
        codes = [c.strip() for c in match["codes"].split(",")]
        alone = text.lstrip().startswith(("#", "--"))
        found.append(Allow(number, codes, match["reason"], {number, number + 1} if alone else {number}))
    return found


def apply(findings: list[Finding], allows: list[Allow]) -> None:
    """Mark each finding an allowance with a reason covers as suppressed, with that reason."""
    for finding in findings:
        for allow in allows:
            if allow.reason and finding.code in allow.codes and finding.line in allow.covers:
                finding.suppressed = allow.reason
                allow.used = True
