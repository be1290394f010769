"""``ncm --help`` as it was last printed, kept in ncm's ``__pycache__`` so that asking for
help does not import cyclopts, rich and every plugin (two thirds of its time) to print the
same page again.

A page is kept for the exact words asked (``ncm --help``, ``ncm run --help``) and is reused
only while everything it was rendered from is unchanged: the Python, ncm's modules (their
sizes and modification times, so an edited or reinstalled ncm renders afresh), the plugins
the ``ncm`` entry points name with their metadata (so their versions), the terminal's width and whether output
is one, and the environment variables rich and ncm's plugin loading read. A page whose
rendering wrote anything on stderr (a plugin that failed to load says so) is not kept, so
such a warning is not hidden. Written as Python writes bytecode: not under
``PYTHONDONTWRITEBYTECODE``, silently not where the directory cannot be written.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path

from ncm_core import pycache

HELP_FLAGS = ("--help", "-h")
ENVIRONMENT = ("COLUMNS", "LINES", "TERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
               "NCM_DISABLE_PLUGINS", "NCM_STRICT_PLUGINS")
KEPT = 16
"""Pages kept at most (one per command asked about, width and kind of output)."""

PACKAGE = Path(__file__).parent
PATH = PACKAGE / "__pycache__" / f"ncm-help.{sys.implementation.cache_tag}"


def asks_for_help(tokens: list[str]) -> bool:
    """Only help itself: words and a help flag, no option that could change the page."""
    return bool(tokens) and tokens[-1] in HELP_FLAGS and not any(t.startswith("-") for t in tokens[:-1])


def key(tokens: list[str]) -> str:
    from importlib import metadata

    sources = sorted((entry.path, entry.stat().st_size, entry.stat().st_mtime_ns)
                     for directory in (PACKAGE, PACKAGE / "cli") for entry in os.scandir(directory)
                     if entry.name.endswith(".py"))
    plugins = sorted((ep.name, ep.value, zlib.crc32((ep.dist.read_text("METADATA") or "").encode()) if ep.dist else 0)
                     for ep in metadata.entry_points(group="ncm"))  # the text, not parsed: email is slow to import
    try:
        width = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        width = 0
    return repr((tokens, sys.version, sources, plugins, width, sys.stdout.isatty(),
                 [os.environ.get(name) for name in ENVIRONMENT]))


def _pages() -> dict[str, str]:
    try:
        pages = marshal.loads(PATH.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return pages if isinstance(pages, dict) else {}


def lookup(page_key: str) -> str | None:
    return _pages().get(page_key)


def keep(page_key: str, page: str) -> None:
    if sys.dont_write_bytecode:
        return
    pages = _pages()
    pages.pop(page_key, None)
    pages = dict([*list(pages.items())[-(KEPT - 1):], (page_key, page)])
    pycache.write(PATH, marshal.dumps(pages))
