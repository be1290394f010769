"""Every lint code has its section in docs/lint.md, and the docs describe no code that does not exist."""

import re
from pathlib import Path

from ncm_core.lint.engine import known_codes

DOCS = Path(__file__).parents[2] / "docs" / "lint.md"


def documented():
    return set(re.findall(r"^### ([A-Z]{2}\d{3})$", DOCS.read_text(), flags=re.M))


def test_every_code_has_a_section_in_docs_lint_md():
    missing = sorted(set(known_codes()) - documented())
    assert not missing, f"docs/lint.md has no section for {missing}"


def test_docs_lint_md_describes_no_code_that_does_not_exist():
    assert documented() <= set(known_codes())
