import inspect
import re
from pathlib import Path

from ncm_core import hookspecs

DOCS = Path(__file__).parents[2] / "docs" / "hooks.md"


def hook_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("ncm_")]


def test_every_hook_has_a_docstring():
    for name in hook_names():
        assert inspect.getdoc(getattr(hookspecs, name)), f"{name} has no docstring in hookspecs.py"


def test_every_hook_has_a_section_in_the_docs():
    headings = set(re.findall(r"^#+ (ncm_\w+)$", DOCS.read_text(), flags=re.M))
    missing = [name for name in hook_names() if name not in headings]
    assert not missing, f"docs/hooks.md has no section for {missing}"


def test_the_docs_describe_no_hook_that_does_not_exist():
    headings = set(re.findall(r"^#+ (ncm_\w+)$", DOCS.read_text(), flags=re.M))
    assert headings <= set(hook_names())
