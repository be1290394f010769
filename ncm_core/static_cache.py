"""What :mod:`ncm_core.static_read` found in each migration file, kept beside the files'
bytecode (``__pycache__/ncm-static.<tag>``) so that a command reads a file and hashes it
rather than parsing it again: parsing is what grows with the number of migrations.

Entries are keyed by the file's name and checksum, and the whole cache by the source of
``static_read`` itself, so an edited file or another ncm reads afresh. It is written as
Python writes bytecode: not at all under ``PYTHONDONTWRITEBYTECODE``, and silently not where
the directory cannot be written. It holds only literals, in :mod:`marshal`'s format (what
``.pyc`` files use), so reading it runs nothing.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path

from ncm_core import pycache, static_read
from ncm_core.static_read import StaticFile

MISSING = object()
"""``get``'s answer for a file the cache knows nothing of (None means: import it)."""


def _key() -> bytes:
    return hashlib.sha256(Path(static_read.__file__).read_bytes()).digest()


class StaticCache:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "__pycache__" / f"ncm-static.{sys.implementation.cache_tag}"
        self.key = _key()
        self.entries = self._read()
        self.changed = False

    def _read(self) -> dict[str, tuple[str, tuple | None]]:
        try:
            key, entries = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return entries if key == self.key and isinstance(entries, dict) else {}

    def get(self, name: str, checksum: str) -> StaticFile | None | object:
        entry = self.entries.get(name)
        if entry is None or entry[0] != checksum:
            return MISSING
        return None if entry[1] is None else StaticFile(*entry[1])

    def put(self, name: str, checksum: str, static: StaticFile | None) -> None:
        """Remember what a file gave; a value marshal cannot hold (an enum member) is not kept."""
        payload = None if static is None else (static.docstring, static.values, static.steps)
        try:
            marshal.dumps(payload)
        except ValueError:
            return
        self.entries[name] = (checksum, payload)
        self.changed = True

    def save(self, names: set[str]) -> None:
        """Write the entries of the files still there, if anything changed."""
        if not (self.changed or set(self.entries) - names) or sys.dont_write_bytecode:
            return
        entries = {name: entry for name, entry in self.entries.items() if name in names}
        pycache.write(self.path, marshal.dumps((self.key, entries)))
