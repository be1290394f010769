"""Which migration files ``ncm validate`` last imported without an error, kept beside the
files' bytecode (``__pycache__/ncm-imports.<tag>``), so that the next ``validate`` imports only
what may have changed: importing every file (and with the first one SQLAlchemy and Alembic)
was most of what ``validate`` cost.

An import's outcome depends on the file and on what it imports. So an entry is the file's
name and checksum, and the whole cache holds for one interpreter, one ``sys.path``, the
names in each of its directories (a package installed or removed changes them), and the size
and modification time of every module file that was loaded when the imports ended. When any
of those differs, every file is imported again. A file that failed to import is never kept,
so it fails again. Written as Python writes bytecode: not under
``PYTHONDONTWRITEBYTECODE``, silently not where the directory cannot be written; ``marshal``
holds only literals, so reading it runs nothing.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from ncm_core import pycache


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _listing(entry: str) -> str | None:
    """The names in a ``sys.path`` directory (its bytecode directory aside, which the imports
    themselves make): a package installed or removed changes them."""
    try:
        names = sorted(name for name in os.listdir(entry) if name != "__pycache__")
    except OSError:
        return None
    return hashlib.sha256("\0".join(names).encode()).hexdigest()


def _environment() -> tuple[Any, ...]:
    """What every entry depends on besides the modules: the interpreter and where it looks.
    The working directory is left out: a SQLite database or a log file beside the project
    comes and goes with every run."""
    here = os.getcwd()
    return sys.version, tuple(sys.path), tuple(None if entry in ("", here) else _listing(entry) for entry in sys.path)


def _loaded_modules() -> dict[str, tuple[int, int] | None]:
    files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
    return {path: _stat(path) for path in files if isinstance(path, str)}


class ImportCache:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "__pycache__" / f"ncm-imports.{sys.implementation.cache_tag}"
        self.modules: dict[str, tuple[int, int] | None] = {}
        self.files: dict[str, str] = {}
        self.imported: dict[str, str] = {}
        self._read()

    def _read(self) -> None:
        """The files known to import and the modules they used, or none when anything changed."""
        try:
            environment, modules, files = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return
        if environment != _environment() or not isinstance(modules, dict) or not isinstance(files, dict):
            return
        if all(_stat(path) == stat for path, stat in modules.items()):
            self.modules, self.files = modules, files

    def known(self, name: str, checksum: str) -> bool:
        """True when this file, as it is, imported the last time and nothing it used changed."""
        return self.files.get(name) == checksum

    def add(self, name: str, checksum: str) -> None:
        """Remember a file this process imported without an error."""
        self.imported[name] = checksum

    def save(self, names: set[str]) -> None:
        """Write the files that imported, of those still there, when this process imported any.
        The modules kept are those loaded now and those the known files used (a file not
        imported this time did not load its modules here)."""
        if not self.imported or sys.dont_write_bytecode:
            return
        files = {name: checksum for name, checksum in {**self.files, **self.imported}.items() if name in names}
        pycache.write(self.path, marshal.dumps((_environment(), {**self.modules, **_loaded_modules()}, files)))
