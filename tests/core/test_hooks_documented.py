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


def capabilities():
    from ncm_core import capabilities as module

    return {name: cls for name, cls in inspect.getmembers(module, inspect.isclass)
            if name.startswith("Supports") and cls.__module__ == module.__name__}


def test_every_capability_and_its_methods_are_in_the_docs_table():
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(Supports\w+)` \| ([^|]+) \|", DOCS.read_text(), re.M)}
    for name, cls in capabilities().items():
        assert name in rows, f"docs/hooks.md's capability table has no row for {name}"
        methods = [m for m in vars(cls) if not m.startswith("_") and callable(getattr(cls, m))]
        assert methods and all(f"`{m}(" in rows[name] for m in methods), f"{name}: {methods} not all in its row"
